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
use fleet_core::ledger::{run_once_per_event, Invocation};
use fleet_core::{Clock, EventHandler, HandlerError, Notifier};
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
        let clock_now = self.scheduler.clock.now();
        run.check_against_clock(clock_now)?;
        let event_id = run.event_id.as_deref();
        tracing::info!(
            request_id = %event.context.request_id,
            event_id = event_id.unwrap_or(""),
            at = %run.at,
            "scheduler run starting"
        );
        let invocation = Invocation {
            event_id,
            request_id: &event.context.request_id,
            at: run.at,
            now: clock_now,
            deadline: lambda_deadline(event.context.deadline),
        };
        let ledger = self.scheduler.state.ledger();
        let report = run_once_per_event(
            invocation,
            ledger,
            self.notifier.as_ref(),
            |share| async move {
                // A failure here changed nothing that a retry would repeat: the window has not moved.
                self.scheduler
                    .run(run.at, share, invocation.deadline)
                    .await
                    .map_err(|e| HandlerError::from_error(&e))
            },
        )
        .await?;
        // Reported first (the changes made are not lost), then failed so that the retry records them.
        match &report.state_not_saved {
            Some(error) => Err(HandlerError::from_error(error)),
            None => Ok(report),
        }
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
