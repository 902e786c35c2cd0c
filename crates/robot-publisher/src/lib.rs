//! The robot drive publisher: `POST /publish {"action": ...}` → a QoS 1 message on the robot's
//! IoT Core topic `{RobotName}/action`, and a drive page at `GET /`.

#[cfg(feature = "aws")]
pub mod aws;
pub mod command;
pub mod config;
#[cfg(feature = "contract")]
pub mod contract;
pub mod http;
pub mod memory;
pub mod ports;

pub use command::{
    Direction, DriveCommand, DrivePayload, InvalidCommand, RobotRule, Verdict, ROBOT_RULE,
};
pub use http::{App, Settings};

#[cfg(feature = "aws")]
use aws_config::SdkConfig;
#[cfg(feature = "aws")]
use config::Config;
#[cfg(feature = "aws")]
use fleet_core::{Env, HandlerError};

#[cfg(feature = "aws")]
pub type LambdaApp =
    App<aws::IotPublisher, aws::DynamoSequence, std::sync::Arc<dyn fleet_core::Clock>>;

/// SDK clients and adapters, built once per container; the data endpoint is resolved on the
/// first publish and kept.
#[cfg(feature = "aws")]
pub async fn wire(sdk: &SdkConfig, config: Config, env: Env) -> Result<LambdaApp, HandlerError> {
    Ok(App {
        publisher: aws::IotPublisher::new(
            aws_sdk_iot::Client::new(sdk),
            aws_sdk_iotdataplane::Client::new(sdk),
            config.iot_data_endpoint,
            sdk.endpoint_url().map(str::to_owned),
        ),
        sequence: aws::DynamoSequence::new(
            aws_sdk_dynamodb::Client::new(sdk),
            config.state_table,
            &config.settings.robot_name,
        ),
        clock: env.clock,
        settings: config.settings,
    })
}
