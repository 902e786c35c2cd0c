//! The "easy to cloud" Alexa skill: list instances, describe Kinesis shards, start and stop
//! instances by name after a one-time code (the shared OTP library, in-process).

pub mod aws;
pub mod memory;
pub mod model;
pub mod ports;
pub mod presence;
pub mod skill;
pub mod speech;

pub use model::{RequestEnvelope, ResponseEnvelope};
pub use skill::{Settings, Skill};
pub mod config;

use aws_config::SdkConfig;
use fleet_core::SystemClock;
use fleet_ec2::AwsEc2;

pub type LambdaSkill =
    Skill<AwsEc2, aws::KinesisStreams, aws::DynamoAccess, fleet_otp::aws::AwsOtp, SystemClock>;

/// SDK clients and adapters, built once per container (the OTP key already read).
pub fn wire(
    sdk: &SdkConfig,
    config: &config::Config,
    key: fleet_otp::HmacKey,
    sts: aws_sdk_sts::Client,
) -> LambdaSkill {
    Skill {
        ec2: AwsEc2::new(fleet_ec2::client(sdk)),
        streams: aws::KinesisStreams::new(aws_sdk_kinesis::Client::new(sdk)),
        access: aws::DynamoAccess::new(aws_sdk_dynamodb::Client::new(sdk), &config.access_table),
        presence: fleet_otp::aws::wire(sdk, &config.otp, key, sts),
        clock: SystemClock,
        settings: Settings {
            skill_id: config.skill_id.clone(),
            region: sdk
                .region()
                .map_or_else(|| "unknown".to_owned(), |r| r.to_string()),
            access_ttl: config.access_ttl,
        },
    }
}
