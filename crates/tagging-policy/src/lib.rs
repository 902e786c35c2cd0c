//! The tagging-policy engine: brings every EC2 instance in scope in line with the rules kept in
//! DynamoDB, finds who launched an instance in CloudTrail, and reports to SNS.

pub mod assess;
#[cfg(feature = "aws")]
pub mod aws;
pub mod config;
#[cfg(feature = "contract")]
pub mod contract;
pub mod identity;
pub mod memory;
pub mod ports;
pub mod report;
pub mod rules;
pub mod run;
pub mod trigger;

pub use assess::{assess, Assessment, Problem, UntaggedAction, Violation};
pub use report::Report;
pub use rules::{Policy, Rule, RuleAction, RuleRow};
pub use run::{Engine, Settings, Trigger};

use lambda_runtime::LambdaEvent;
use serde_json::Value;

use fleet_core::clock::lambda_deadline;
use fleet_core::{deliver, Clock, HandlerError, Notifier};
use fleet_ec2::Ec2Port;
use ports::{CreatorLookup, RuleSource};

/// The function: the engine and, when a topic is configured, where its reports go.
pub struct App<E, R, L, C, N> {
    pub engine: Engine<E, R, L, C>,
    pub notifier: Option<N>,
}

impl<E: Ec2Port, R: RuleSource, L: CreatorLookup, C: Clock, N: Notifier> App<E, R, L, C, N> {
    /// A scheduled event or a RunInstances call in, the run's report out (and to the topic when
    /// it has news).
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Report, HandlerError> {
        let trigger = trigger::parse(event.payload)?;
        tracing::info!(request_id = %event.context.request_id, trigger = %trigger, "tagging policy run starting");
        let report = self
            .engine
            .run(&trigger, lambda_deadline(event.context.deadline))
            .await
            .map_err(|e| HandlerError::from_error(&e))?;
        // The fixes are idempotent, so a retry after a transient failure is safe.
        deliver(report, self.notifier.as_ref()).await
    }
}

#[cfg(feature = "aws")]
pub type LambdaApp = App<
    fleet_ec2::AwsEc2,
    aws::DynamoRules,
    aws::CloudTrailLookup,
    std::sync::Arc<dyn Clock>,
    fleet_core::SnsNotifier,
>;

/// SDK clients and adapters, built once per container.
#[cfg(feature = "aws")]
pub fn wire(
    sdk: &aws_config::SdkConfig,
    config: config::Config,
    env: fleet_core::Env,
) -> LambdaApp {
    App {
        engine: Engine {
            ec2: fleet_ec2::AwsEc2::from_sdk(sdk),
            rules: aws::DynamoRules::from_sdk(sdk, config.rules_table),
            lookup: aws::CloudTrailLookup::new(aws::cloudtrail_client(sdk)),
            clock: env.clock,
            settings: config.settings,
        },
        notifier: fleet_core::SnsNotifier::for_topic(sdk, config.report_topic_arn),
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
impl fleet_core::lambda::EventFunction for LambdaApp {
    type Output = Report;

    async fn handle(
        &self,
        event: lambda_runtime::LambdaEvent<serde_json::Value>,
    ) -> Result<Report, fleet_core::HandlerError> {
        App::handle(self, event).await
    }
}
