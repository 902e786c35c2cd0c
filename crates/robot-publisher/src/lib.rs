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

pub use command::{Direction, DriveCommand, DrivePayload, InvalidCommand};
pub use http::{App, Settings};

#[cfg(feature = "aws")]
pub type LambdaApp =
    App<aws::IotPublisher, ports::ClockSequence, std::sync::Arc<dyn fleet_core::Clock>>;

/// SDK clients and adapters, built once per container; the data endpoint is resolved on the
/// first publish and kept.
#[cfg(feature = "aws")]
pub fn wire(
    sdk: &aws_config::SdkConfig,
    config: config::Config,
    env: fleet_core::Env,
) -> LambdaApp {
    App {
        publisher: aws::IotPublisher::new(
            aws_sdk_iot::Client::new(sdk),
            aws_sdk_iotdataplane::Client::new(sdk),
            config.iot_data_endpoint,
            sdk.endpoint_url().map(str::to_owned),
        ),
        sequence: ports::ClockSequence::default(),
        clock: env.clock,
        settings: config.settings,
    }
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
        Ok(wire(sdk, config, env))
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
