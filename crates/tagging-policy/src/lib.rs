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
use fleet_core::ledger::{fail_on_transient, run_once_per_event, Invocation};
use fleet_core::{Clock, EventHandler, HandlerError, Notifier};
use fleet_ec2::Ec2Port;
use ports::{CreatorLookup, PolicyState, RuleSource};

/// The function: the engine and, when a topic is configured, where its reports go.
pub struct App<E, R, L, C, S, N> {
    pub engine: Engine<E, R, L, C, S>,
    pub notifier: Option<N>,
}

impl<E: Ec2Port, R: RuleSource, L: CreatorLookup, C: Clock, S: PolicyState, N: Notifier>
    EventHandler for App<E, R, L, C, S, N>
{
    type Output = Report;

    /// A scheduled event or a RunInstances call in, the run's report out (and to the topic once
    /// per event when it has news). Runs never overlap: the lease is taken first.
    async fn handle(&self, event: LambdaEvent<Value>) -> Result<Report, HandlerError> {
        let event_id = trigger::event_id(&event.payload);
        let trigger = trigger::parse(event.payload)?;
        tracing::info!(
            request_id = %event.context.request_id,
            event_id = event_id.as_deref().unwrap_or(""),
            trigger = %trigger,
            "tagging policy run starting"
        );
        let now = self.engine.clock.now();
        let invocation = Invocation {
            event_id: event_id.as_deref(),
            request_id: &event.context.request_id,
            at: now,
            now,
            deadline: lambda_deadline(event.context.deadline),
        };
        let ledger = self.engine.state.ledger();
        let report = run_once_per_event(invocation, ledger, self.notifier.as_ref(), |share| {
            let trigger = &trigger;
            async move {
                self.engine
                    .run_for(trigger, share, invocation.deadline)
                    .await
                    .map_err(|e| HandlerError::from_error(&e))
            }
        })
        .await?;
        // The fixes are idempotent and the enforcements capped per event, so Lambda's retry
        // after a transient failure is safe.
        fail_on_transient(report)
    }
}

#[cfg(feature = "aws")]
pub type LambdaApp = App<
    fleet_ec2::AwsEc2,
    aws::DynamoRules,
    aws::CloudTrailLookup,
    std::sync::Arc<dyn Clock>,
    aws::DynamoPolicyState,
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
            state: aws::DynamoPolicyState::from_sdk(sdk, config.state_table),
            settings: config.settings,
        },
        notifier: fleet_core::SnsNotifier::for_topic(sdk, config.report_topic_arn),
    })
}
