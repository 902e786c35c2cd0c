//! The robot drive publisher: `POST /publish {"action": ...}` → a QoS 1 message on the robot's
//! IoT Core topic `{RobotName}/action`, and a drive page at `GET /`.

pub mod aws;
pub mod command;
pub mod config;
pub mod http;
pub mod ports;

pub use command::{Direction, DriveCommand, DrivePayload, InvalidCommand};
pub use http::{App, Settings};

use aws_config::SdkConfig;

/// SDK clients and adapters, built once per container; the data endpoint is resolved on the
/// first publish and kept.
pub fn wire(
    sdk: &SdkConfig,
    config: config::Config,
) -> App<aws::IotPublisher, ports::ClockSequence, fleet_core::SystemClock> {
    App {
        publisher: aws::IotPublisher::new(
            aws_sdk_iot::Client::new(sdk),
            aws_sdk_iotdataplane::Client::new(sdk),
            config.iot_data_endpoint,
            sdk.endpoint_url().map(str::to_owned),
        ),
        sequence: ports::ClockSequence::default(),
        clock: fleet_core::SystemClock,
        settings: config.settings,
    }
}
