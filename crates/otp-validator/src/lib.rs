//! The OTP/MFA API over the shared `fleet-otp` library: `POST /otp/send`, `POST /otp/verify`,
//! `POST /mfa/verify`.

pub mod config;
pub mod http;

pub use http::App;

#[cfg(feature = "aws")]
use aws_config::SdkConfig;
#[cfg(feature = "aws")]
use config::Config;
#[cfg(feature = "aws")]
use fleet_core::{Env, HandlerError};

#[cfg(feature = "aws")]
pub type LambdaApp = App<fleet_otp::aws::AwsOtp<std::sync::Arc<dyn fleet_core::Clock>>>;

/// SDK clients and adapters, built once per container. The OTP key (and the MFA user's access
/// key, when configured) is read here: a missing or short key fails the cold start, classified.
#[cfg(feature = "aws")]
pub async fn wire(sdk: &SdkConfig, config: Config, env: Env) -> Result<LambdaApp, HandlerError> {
    let otp = fleet_otp::aws::from_config(sdk, &config.otp, env.clock.clone())
        .await
        .map_err(|e| HandlerError::from_error(&e))?;
    Ok(App { otp })
}
