//! The "easy cloud" Alexa skill: list instances, describe Kinesis shards, start and stop
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
use aws_config::SdkConfig;
#[cfg(feature = "aws")]
use config::Config;
#[cfg(feature = "aws")]
use fleet_core::{Env, HandlerError};

#[cfg(feature = "aws")]
pub type LambdaApp = App<
    fleet_ec2::AwsEc2,
    aws::KinesisStreams,
    aws::DynamoAccess,
    fleet_otp::aws::AwsOtp<std::sync::Arc<dyn fleet_core::Clock>>,
    std::sync::Arc<dyn fleet_core::Clock>,
>;

/// SDK clients and adapters, built once per container. The MFA user's access key, when
/// configured, is read here; the OTP key only when a code is sent or checked, so lists, Kinesis
/// and help never wait for Secrets Manager.
#[cfg(feature = "aws")]
pub async fn wire(sdk: &SdkConfig, config: Config, env: Env) -> Result<LambdaApp, HandlerError> {
    let otp = fleet_otp::aws::from_config(sdk, &config.otp, env.clock.clone())
        .await
        .map_err(|e| HandlerError::from_error(&e))?;
    Ok(App {
        ec2: fleet_ec2::AwsEc2::from_sdk(sdk),
        streams: aws::KinesisStreams::new(aws_sdk_kinesis::Client::new(sdk)),
        access: aws::DynamoAccess::from_sdk(sdk, &config.access_table),
        presence: otp,
        clock: env.clock,
        settings: Settings {
            skill_id: config.skill_id,
            region: sdk
                .region()
                .map_or_else(|| "unknown".to_owned(), |r| r.to_string()),
            access_ttl: config.access_ttl,
            control_value: config.control_value,
        },
    })
}
