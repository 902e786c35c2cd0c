use fleet_core::config::ProcessEnv;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use tagging_policy::{config::Config, handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    fleet_core::telemetry::init();
    let config = Config::from_vars(&ProcessEnv)?;
    let sdk = fleet_core::aws::load_sdk_config().await;
    let (engine, notifier) = handler::wire(&sdk, config);
    let (engine, notifier) = (&engine, notifier.as_ref());
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler::handle(engine, notifier, event).await
    }))
    .await
}
