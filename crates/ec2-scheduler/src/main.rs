use ec2_scheduler::{config::Config, handler};
use fleet_core::config::ProcessEnv;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    fleet_core::telemetry::init();
    let config = Config::from_vars(&ProcessEnv)?;
    let sdk = fleet_core::aws::load_sdk_config().await;
    let (scheduler, notifier) = handler::wire(&sdk, config);
    let (scheduler, notifier) = (&scheduler, notifier.as_ref());
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler::handle(scheduler, notifier, event).await
    }))
    .await
}
