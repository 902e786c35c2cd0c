use fleet_core::config::ProcessEnv;
use lambda_http::{run, service_fn, Error, Request};
use robot_publisher::config::Config;

#[tokio::main]
async fn main() -> Result<(), Error> {
    fleet_core::telemetry::init();
    let config = Config::from_vars(&ProcessEnv)?;
    let sdk = fleet_core::aws::load_sdk_config().await;
    let app = &robot_publisher::wire(&sdk, config);
    run(service_fn(move |request: Request| async move {
        Ok::<_, std::convert::Infallible>(app.handle(request).await)
    }))
    .await
}
