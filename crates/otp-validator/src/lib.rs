//! The OTP/MFA API over the shared `fleet-otp` library: `POST /otp/send` (charged to the caller,
//! queued), `POST /otp/verify`, `POST /mfa/verify`; and the SMS delivery step that reads the queue.

#[cfg(feature = "aws")]
pub mod aws;
pub mod config;
pub mod http;
pub mod memory;
pub mod ports;
pub mod sender;

pub use http::App;
pub use sender::Sender;

#[cfg(feature = "aws")]
use aws_config::SdkConfig;
#[cfg(feature = "aws")]
use config::Config;
#[cfg(feature = "aws")]
use fleet_core::{Env, HandlerError};

#[cfg(feature = "aws")]
type AwsOtp = fleet_otp::aws::AwsOtp<std::sync::Arc<dyn fleet_core::Clock>>;

#[cfg(feature = "aws")]
pub type LambdaApp = App<AwsOtp, aws::SqsQueue>;

#[cfg(feature = "aws")]
pub type LambdaSender = Sender<AwsOtp>;

/// The OTP service on AWS: the MFA user's access key, when configured, is read here (a
/// malformed one fails the cold start, classified); the HMAC key on first use, so a bad request
/// is answered without it (a missing or short key fails the request that needs it, classified).
#[cfg(feature = "aws")]
async fn otp(sdk: &SdkConfig, config: &Config, env: &Env) -> Result<AwsOtp, HandlerError> {
    fleet_otp::aws::from_config(sdk, &config.otp, env.clock.clone())
        .await
        .map_err(|e| HandlerError::from_error(&e))
}

/// The API: SDK clients and adapters, built once per container.
#[cfg(feature = "aws")]
pub async fn wire(sdk: &SdkConfig, config: Config, env: Env) -> Result<LambdaApp, HandlerError> {
    let url = config
        .send_queue_url
        .clone()
        .ok_or_else(|| fleet_core::ConfigError::Missing {
            name: "SEND_QUEUE_URL".into(),
        })?;
    Ok(App {
        otp: otp(sdk, &config, &env).await?,
        queue: aws::SqsQueue::new(aws_sdk_sqs::Client::new(sdk), url),
    })
}

/// The SMS delivery step: SDK clients and adapters, built once per container.
#[cfg(feature = "aws")]
pub async fn wire_sender(
    sdk: &SdkConfig,
    config: Config,
    env: Env,
) -> Result<LambdaSender, HandlerError> {
    Ok(Sender {
        otp: otp(sdk, &config, &env).await?,
    })
}
