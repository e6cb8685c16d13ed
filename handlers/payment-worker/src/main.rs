use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use payment_worker::PaymentWorker;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    common::init_tracing();
    let dynamo = common::dynamodb_client().await;
    let worker = PaymentWorker::new(
        dynamo,
        common::env_var("ORDERS_TABLE")?,
        common::env_var("IDEMPOTENCY_TABLE")?,
    );
    let worker = &worker;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(worker.handle(&event.payload).await)
    }))
    .await
}
