use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use order_created_consumer::Consumer;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    common::init_tracing();
    let consumer = Consumer::parse(&common::env_var("CONSUMER")?)?;
    let idempotency = common::Idempotency::new(
        common::dynamodb_client().await,
        common::env_var("IDEMPOTENCY_TABLE")?,
        // Longer than the consumer queue's retention and the bus archive's replay window.
        std::time::Duration::from_secs(35 * 24 * 3600),
    );
    let idempotency = &idempotency;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(
            order_created_consumer::handle_once(consumer, idempotency, &event.payload).await,
        )
    }))
    .await
}
