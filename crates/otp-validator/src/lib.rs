//! The OTP/MFA API over the shared `fleet-otp` library: `POST /otp/send`, `POST /otp/verify`,
//! `POST /mfa/verify`.

pub mod config;
pub mod http;

pub use http::App;

#[cfg(feature = "aws")]
pub type LambdaApp = App<
    fleet_otp::aws::DynamoProfiles,
    fleet_otp::aws::DynamoStore,
    fleet_otp::aws::SnsSms,
    fleet_otp::aws::StsMfa,
    fleet_otp::ports::OsDigits,
    std::sync::Arc<dyn fleet_core::Clock>,
>;

/// SDK clients and adapters, built once per container. The OTP key (and the MFA user's access
/// key, when configured) is read here: a missing or short key fails the cold start, classified.
#[cfg(feature = "aws")]
pub async fn wire(
    sdk: &aws_config::SdkConfig,
    config: config::Config,
    env: fleet_core::Env,
) -> Result<LambdaApp, fleet_core::HandlerError> {
    use fleet_core::HandlerError;
    let key = fleet_otp::aws::load_key(sdk, &config.otp.key_source)
        .await
        .map_err(|e| HandlerError::from_error(&e))?;
    let sts = fleet_otp::aws::mfa_sts_client(sdk, config.otp.mfa_credentials_secret_id.as_deref())
        .await
        .map_err(|e| HandlerError::from_error(&e))?;
    Ok(App {
        otp: fleet_otp::aws::on_aws(sdk, &config.otp, key, sts, env.clock),
    })
}

#[cfg(feature = "aws")]
impl fleet_core::lambda::Function for LambdaApp {
    type Config = config::Config;

    fn config(
        vars: &fleet_core::config::ProcessEnv,
    ) -> Result<config::Config, fleet_core::ConfigError> {
        config::Config::from_vars(vars)
    }

    async fn wire(
        sdk: &aws_config::SdkConfig,
        config: config::Config,
        env: fleet_core::Env,
    ) -> Result<Self, fleet_core::HandlerError> {
        wire(sdk, config, env).await
    }
}

#[cfg(feature = "aws")]
impl fleet_core::lambda::HttpFunction for LambdaApp {
    async fn handle(
        &self,
        request: lambda_http::Request,
    ) -> lambda_http::Response<lambda_http::Body> {
        App::handle(self, request).await
    }
}
