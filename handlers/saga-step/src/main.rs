use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use saga_step::Action;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    common::init_tracing();
    let action = Action::from_env()?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        saga_step::handle(action, &event.payload).map_err(Diagnostic::from)
    }))
    .await
}
