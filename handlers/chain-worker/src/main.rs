use chain_worker::{Step, Worker};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    common::init_tracing();
    let step = Step::parse(&common::env_var("STEP")?)?;
    let worker = Worker {
        step,
        dynamo: common::dynamodb_client().await,
        catalog_table: if step == Step::AllocateInventory {
            Some(common::env_var("CATALOG_TABLE")?)
        } else {
            None
        },
    };
    let worker = &worker;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        worker.handle(event.payload).await.map_err(Diagnostic::from)
    }))
    .await
}
