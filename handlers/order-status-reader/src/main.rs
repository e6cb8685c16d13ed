use aws_lambda_events::event::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    common::init_tracing();
    let source = order_status_reader::Source::from_env()?;
    let dynamo = common::dynamodb_client().await;
    let (source, dynamo) = (&source, &dynamo);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            Ok::<_, lambda_runtime::Error>(
                order_status_reader::handle(dynamo, source, &event.payload).await,
            )
        },
    ))
    .await
}
