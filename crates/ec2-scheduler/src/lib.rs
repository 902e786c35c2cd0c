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
pub use run::{EventShare, Scheduler, Settings};

#[cfg(feature = "aws")]
use aws_config::SdkConfig;
#[cfg(feature = "aws")]
use config::Config;
#[cfg(feature = "aws")]
use fleet_core::Env;

use lambda_runtime::LambdaEvent;
use serde_json::Value;

use fleet_core::clock::lambda_deadline;
use fleet_core::notify::{truncate_utf8, MAX_MESSAGE_BYTES};
use fleet_core::{Clock, EventHandler, HandlerError, Notifier, RunSummary};
use ports::{Ec2Port, EventKey, StateStore, StoredReport};

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
        let event_id = run.event_id.as_deref();
        tracing::info!(
            request_id = %event.context.request_id,
            event_id = event_id.unwrap_or(""),
            at = %run.at,
            "scheduler run starting"
        );
        let state = &self.scheduler.state;
        let record = match event_id {
            Some(id) => Some(
                state
                    .event(id)
                    .await
                    .map_err(|e| HandlerError::from_error(&e))?,
            ),
            None => None,
        };
        let key = event_id.map(|id| EventKey { id, at: run.at });
        let share = key.zip(record.as_ref()).map(|(key, r)| EventShare {
            key,
            terminations_used: r.terminations,
        });
        // A failure here changed nothing that a retry would repeat: the window has not moved.
        let report = self
            .scheduler
            .run(run.at, share, lambda_deadline(event.context.deadline))
            .await
            .map_err(|e| HandlerError::from_error(&e))?;
        let earlier = record.and_then(|r| r.report);
        self.publish_once(&report, key, earlier).await?;
        Ok(report)
    }
}

impl<E: Ec2Port, S: StateStore, C: Clock, N: Notifier> App<E, S, C, N> {
    /// Publishes the event's report once. It is stored first, so that when SNS fails the retry
    /// (whose window is already past) publishes it, and marked published after SNS acknowledged
    /// it, so that a retry never sends a second copy. A retry with news of its own sends those.
    async fn publish_once(
        &self,
        report: &RunReport,
        event: Option<EventKey<'_>>,
        earlier: Option<StoredReport>,
    ) -> Result<(), HandlerError> {
        let Some(notifier) = &self.notifier else {
            return Ok(());
        };
        // A retry repeats what is still held or pending; only what it changed is news.
        let (subject, text) = match earlier {
            Some(stored) if !stored.published => {
                let mut text = stored.text;
                if report.has_changes() {
                    text.push_str("\n\n--- and the retry of the same scheduled event ---\n");
                    text.push_str(&report.to_text());
                }
                (stored.subject, text)
            }
            Some(_) if report.has_changes() => (report.subject(), report.to_text()),
            None if report.has_news() => (report.subject(), report.to_text()),
            _ => return Ok(()),
        };
        let text = truncate_utf8(&text, MAX_MESSAGE_BYTES);
        let state = &self.scheduler.state;
        if let Some(key) = event {
            state
                .store_report(key, &subject, &text)
                .await
                .map_err(|e| HandlerError::from_error(&e))?;
        }
        notifier
            .publish(&subject, &text)
            .await
            .map_err(|e| HandlerError::from_error(&e))?;
        if let Some(key) = event {
            // SNS has it: failing the invocation now would only make a retry send it again.
            if let Err(e) = state.mark_report_published(key.id).await {
                tracing::warn!(event_id = key.id, error = %e, "report published but not marked");
            }
        }
        Ok(())
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
