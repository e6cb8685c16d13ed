use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    common::init_tracing();
    let action: inventory::Action = common::env_var("ACTION")?.parse()?;
    let config = inventory::Config::from_env()?;
    let client = common::dynamodb_client().await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (client, config) = (&client, &config);
        async move { inventory::handle(client, config, action, event.payload).await }
    }))
    .await
}
