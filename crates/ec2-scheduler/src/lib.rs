//! The EC2 Schedule-tag scheduler: starts, stops and terminates instances at the times in their
//! `Schedule` tag. See the README's tag reference for the grammar.

#[cfg(feature = "aws")]
pub mod aws;
pub mod config;
#[cfg(feature = "contract")]
pub mod contract;
pub mod decide;
pub mod memory;
pub mod ports;
pub mod report;
pub mod run;
pub mod schedule;
pub mod trigger;

pub use decide::{evaluate, Action, InstanceState, Verdict, Window};
pub use report::RunReport;
pub use run::{Scheduler, Settings};

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
use ports::{Ec2Port, StateStore};

/// The function: the scheduler and, when a topic is configured, where its reports go.
pub struct App<E, S, C, N> {
    pub scheduler: Scheduler<E, S, C>,
    pub notifier: Option<N>,
}

impl<E: Ec2Port, S: StateStore, C: Clock, N: Notifier> EventHandler for App<E, S, C, N> {
    type Output = RunReport;

    /// A scheduled event in, the run's report out (and to the topic when it has news).
    async fn handle(&self, event: LambdaEvent<Value>) -> Result<RunReport, HandlerError> {
        let run = trigger::parse(event.payload)?;
        run.check_against_clock(self.scheduler.clock.now())?;
        tracing::info!(request_id = %event.context.request_id, at = %run.at, "scheduler run starting");
        let report = self
            .scheduler
            .run(run.at, lambda_deadline(event.context.deadline))
            .await
            .map_err(|e| HandlerError::from_error(&e))?;
        // A transient failure leaves the state table where it was: the retry (and the next tick)
        // cover this window again.
        deliver(report, self.notifier.as_ref()).await
    }
}

#[cfg(feature = "aws")]
pub type LambdaApp =
    App<fleet_ec2::AwsEc2, aws::DynamoState, std::sync::Arc<dyn Clock>, fleet_core::SnsNotifier>;

/// SDK clients and adapters, built once per container.
#[cfg(feature = "aws")]
pub async fn wire(sdk: &SdkConfig, config: Config, env: Env) -> Result<LambdaApp, HandlerError> {
    Ok(App {
        scheduler: Scheduler {
            ec2: fleet_ec2::AwsEc2::from_sdk(sdk),
            state: aws::DynamoState::from_sdk(sdk, config.state_table),
            clock: env.clock,
            settings: config.settings,
        },
        notifier: fleet_core::SnsNotifier::for_topic(sdk, config.report_topic_arn),
    })
}
