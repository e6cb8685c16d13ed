use etl_step::Step;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    common::init_tracing();
    let step = Step::from_env()?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        etl_step::handle(step, event.payload).map_err(Diagnostic::from)
    }))
    .await
}
