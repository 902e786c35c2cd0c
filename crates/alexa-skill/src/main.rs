use alexa_skill::config::Config;
use fleet_core::config::ProcessEnv;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    fleet_core::telemetry::init();
    let config = Config::from_vars(&ProcessEnv)?;
    let sdk = fleet_core::aws::load_sdk_config().await;
    let key = fleet_otp::aws::load_key(&sdk, &config.otp.key_source).await?;
    let sts = fleet_otp::aws::mfa_sts_client(&sdk, config.otp.mfa_credentials_secret_id.as_deref())
        .await?;
    let skill = &alexa_skill::wire(&sdk, &config, key, sts);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        skill.handle(event.payload).await
    }))
    .await
}
