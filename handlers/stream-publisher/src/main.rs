use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    common::init_tracing();
    let bus = common::env_var("EVENT_BUS_NAME")?;
    let events = aws_sdk_eventbridge::Client::new(&common::sdk_config().await);
    let (bus, events) = (&bus, &events);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, lambda_runtime::Error>(stream_publisher::handle(events, bus, &event.payload).await)
    }))
    .await
}
