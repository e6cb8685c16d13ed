use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use order_created_consumer::Consumer;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    common::init_tracing();
    let consumer = Consumer::parse(&common::env_var("CONSUMER")?)?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(order_created_consumer::handle(consumer, &event.payload))
    }))
    .await
}
