use aws_durable_execution_sdk as durable;
use order_orchestrator::{handler, Config};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    common::init_tracing();
    let config = Config::from_env()?;
    let dynamo = common::dynamodb_client().await;
    durable::run(move |order, ctx| handler(config.clone(), dynamo.clone(), order, ctx)).await
}
