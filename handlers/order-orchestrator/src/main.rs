use aws_durable_execution_sdk as durable;
use order_orchestrator::{handler, Config};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    common::init_tracing();
    let config = Config::from_env()?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    durable::run(move |order, ctx| handler(config.clone(), dynamo.clone(), order, ctx)).await
}
