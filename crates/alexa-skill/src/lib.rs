//! The "easy to cloud" Alexa skill: list instances, describe Kinesis shards, start and stop
//! instances by name after a one-time code (the shared OTP library, in-process).

#[cfg(feature = "aws")]
pub mod aws;
pub mod config;
#[cfg(feature = "contract")]
pub mod contract;
pub mod memory;
pub mod model;
pub mod ports;
pub mod presence;
pub mod skill;
pub mod speech;

pub use model::{RequestEnvelope, ResponseEnvelope};
pub use skill::{App, Settings};

#[cfg(feature = "aws")]
pub type LambdaApp = App<
    fleet_ec2::AwsEc2,
    aws::KinesisStreams,
    aws::DynamoAccess,
    fleet_otp::aws::AwsOtp<std::sync::Arc<dyn fleet_core::Clock>>,
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
        ec2: fleet_ec2::AwsEc2::from_sdk(sdk),
        streams: aws::KinesisStreams::new(aws_sdk_kinesis::Client::new(sdk)),
        access: aws::DynamoAccess::from_sdk(sdk, &config.access_table),
        presence: fleet_otp::aws::on_aws(sdk, &config.otp, key, sts, env.clock.clone()),
        clock: env.clock,
        settings: Settings {
            skill_id: config.skill_id,
            region: sdk
                .region()
                .map_or_else(|| "unknown".to_owned(), |r| r.to_string()),
            access_ttl: config.access_ttl,
        },
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
impl fleet_core::lambda::EventFunction for LambdaApp {
    type Output = ResponseEnvelope;

    async fn handle(
        &self,
        event: lambda_runtime::LambdaEvent<serde_json::Value>,
    ) -> Result<ResponseEnvelope, fleet_core::HandlerError> {
        App::handle(self, event).await
    }
}
