use fleet_core::config::ProcessEnv;
use fleet_otp::config::OtpConfig;
use lambda_http::{run, service_fn, Error, Request};
use otp_validator::Api;

#[tokio::main]
async fn main() -> Result<(), Error> {
    fleet_core::telemetry::init();
    let config = OtpConfig::from_vars(&ProcessEnv)?;
    let sdk = fleet_core::aws::load_sdk_config().await;
    // Read once per container; a missing or short key fails the cold start.
    let key = fleet_otp::aws::load_key(&sdk, &config.key_source).await?;
    let sts =
        fleet_otp::aws::mfa_sts_client(&sdk, config.mfa_credentials_secret_id.as_deref()).await?;
    let api = &Api {
        otp: fleet_otp::aws::wire(&sdk, &config, key, sts),
    };
    run(service_fn(move |request: Request| async move {
        Ok::<_, std::convert::Infallible>(api.handle(request).await)
    }))
    .await
}
