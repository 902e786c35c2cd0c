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

#[cfg(feature = "aws")]
use aws_config::SdkConfig;
#[cfg(feature = "aws")]
use config::Config;
#[cfg(feature = "aws")]
use fleet_core::Env;

use lambda_runtime::LambdaEvent;
use serde_json::Value;

use fleet_core::clock::lambda_deadline;
use fleet_core::{deliver, Clock, EventHandler, HandlerError, Notifier};
use fleet_ec2::Ec2Port;
use ports::{CreatorLookup, RuleSource};

/// The function: the engine and, when a topic is configured, where its reports go.
pub struct App<E, R, L, C, N> {
    pub engine: Engine<E, R, L, C>,
    pub notifier: Option<N>,
}

impl<E: Ec2Port, R: RuleSource, L: CreatorLookup, C: Clock, N: Notifier> EventHandler
    for App<E, R, L, C, N>
{
    type Output = Report;

    /// A scheduled event or a RunInstances call in, the run's report out (and to the topic when
    /// it has news).
    async fn handle(&self, event: LambdaEvent<Value>) -> Result<Report, HandlerError> {
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
pub async fn wire(sdk: &SdkConfig, config: Config, env: Env) -> Result<LambdaApp, HandlerError> {
    Ok(App {
        engine: Engine {
            ec2: fleet_ec2::AwsEc2::from_sdk(sdk),
            rules: aws::DynamoRules::from_sdk(sdk, config.rules_table),
            lookup: aws::CloudTrailLookup::new(aws::cloudtrail_client(sdk)),
            clock: env.clock,
            settings: config.settings,
        },
        notifier: fleet_core::SnsNotifier::for_topic(sdk, config.report_topic_arn),
    })
}
