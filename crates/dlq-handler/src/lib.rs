//! The dead-letter handler: every failed asynchronous invocation of the fleet is caught,
//! classified, kept and replayable.
//!
//! - `trigger.rs` reads the event (an SQS batch, an SNS notification, the digest schedule);
//! - `normalise.rs` turns each delivery into one [`model::Failure`] (destination record,
//!   dead-letter message, SNS notification carried by SQS, or `Unparseable`), classified by
//!   `classify.rs`;
//! - [`App::handle`] spills large events to S3, archives the batch in one conditional batched
//!   write, reports only the failed writes as `batchItemFailures`, and writes EMF metrics;
//! - `digest.rs` turns a closed window into one message per function and class;
//! - `replay.rs` decides what may be replayed and sends it (`cli.rs` is `fleet dlq`);
//! - `lambda_shapes.rs` builds what Lambda sends for a failure, for tests and samples.

#[cfg(feature = "aws")]
pub mod aws;
pub mod classify;
#[cfg(feature = "aws")]
pub mod cli;
pub mod config;
#[cfg(feature = "contract")]
pub mod contract;
pub mod digest;
pub mod lambda_shapes;
pub mod memory;
pub mod model;
pub mod normalise;
pub mod ports;
pub mod replay;
pub mod trigger;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse};
use chrono::{DateTime, SecondsFormat, Utc};
use fleet_core::{Clock, EventHandler, HandlerError, Notifier, ServiceError};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::Settings;
use crate::model::{window_start, ArchiveWrite, Failure, Recorded, StoredEvent};
use crate::ports::{Archive, DigestLedger, EventSpill, MetricSink};
use crate::trigger::{parse_trigger, Delivery, Trigger};

pub use classify::{Advice, FailureClass, ReplayAdvice};
pub use config::Config;

#[cfg(feature = "aws")]
use aws_config::SdkConfig;
#[cfg(feature = "aws")]
use fleet_core::Env;

/// The handler with its ports.
pub struct App<A, S, N, M> {
    pub archive: A,
    pub spill: S,
    /// The fleet's report topic; without it digests are only logged.
    pub notifier: Option<N>,
    pub metrics: M,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
}

/// What an invocation returns: the SQS batch response (also for SNS and raw payloads, where it
/// is always empty: a failure there fails the invocation), or the digest run's summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Batch(SqsBatchResponse),
    Digest(DigestReport),
}

impl Answer {
    /// The message ids SQS should deliver again.
    pub fn failed_items(&self) -> Vec<String> {
        match self {
            Answer::Batch(b) => b
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.clone())
                .collect(),
            Answer::Digest(_) => Vec::new(),
        }
    }
}

/// What a digest run sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestReport {
    pub at: String,
    pub windows: Vec<WindowDigest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowDigest {
    pub window: String,
    pub failures: usize,
    pub messages: usize,
}

/// One delivery's fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub delivery_id: String,
    pub failure_id: String,
    pub function: String,
    pub class: FailureClass,
    pub result: Result<Recorded, ServiceError>,
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The spill key of a failure's event: `events/<function>/<id>.json`, safe characters only.
pub fn spill_key(failure: &Failure) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!(
        "events/{}/{}.json",
        safe(failure.function_name()),
        safe(&failure.id)
    )
}

impl<A, S, N, M> EventHandler for App<A, S, N, M>
where
    A: Archive + DigestLedger,
    S: EventSpill,
    N: Notifier,
    M: MetricSink,
{
    type Output = Answer;

    /// The Lambda entry point.
    async fn handle(&self, event: LambdaEvent<Value>) -> Result<Answer, HandlerError> {
        let request_id = event.context.request_id.clone();
        match parse_trigger(event.payload) {
            Trigger::Sqs(deliveries) => {
                let outcomes = self.archive_deliveries(&deliveries).await;
                let failures: Vec<BatchItemFailure> = outcomes
                    .iter()
                    .filter(|o| o.result.is_err())
                    .map(|o| {
                        let mut f = BatchItemFailure::default();
                        f.item_identifier = o.delivery_id.clone();
                        f
                    })
                    .collect();
                tracing::info!(
                    %request_id,
                    messages = outcomes.len(),
                    failed = failures.len(),
                    "SQS batch archived"
                );
                let mut response = SqsBatchResponse::default();
                response.batch_item_failures = failures;
                Ok(Answer::Batch(response))
            }
            // SNS invokes asynchronously: a failed archive write fails the invocation, Lambda
            // retries it, and after that it goes to the handler's own last-resort queue.
            Trigger::Sns(deliveries) => self.archive_all_or_fail(&deliveries).await,
            Trigger::Raw(delivery) => {
                tracing::warn!(%request_id, reason = delivery.parse_error.as_deref().unwrap_or_default(), "not an event the handler knows: archived raw");
                self.archive_all_or_fail(std::slice::from_ref(&delivery))
                    .await
            }
            Trigger::Digest { at } => self.digest(at).await.map(Answer::Digest),
        }
    }
}

impl<A, S, N, M> App<A, S, N, M>
where
    A: Archive + DigestLedger,
    S: EventSpill,
    N: Notifier,
    M: MetricSink,
{
    async fn archive_all_or_fail(&self, deliveries: &[Delivery]) -> Result<Answer, HandlerError> {
        let outcomes = self.archive_deliveries(deliveries).await;
        match outcomes.iter().find_map(|o| o.result.as_ref().err()) {
            Some(error) => Err(HandlerError::from_error(error)),
            None => Ok(Answer::Batch(SqsBatchResponse::default())),
        }
    }

    /// Normalises, spills, archives (one batched write) and counts a batch of deliveries. Each
    /// delivery gets its own outcome; nothing is dropped.
    pub async fn archive_deliveries(&self, deliveries: &[Delivery]) -> Vec<Outcome> {
        let now = self.clock.now();
        let window = window_start(now, self.settings.digest_window);
        let expires_at = now + self.settings.retention;
        let mut results: Vec<Option<Result<Recorded, ServiceError>>> = vec![None; deliveries.len()];
        let failures: Vec<Failure> = deliveries
            .iter()
            .map(|d| normalise::normalise(d, &self.settings.sources))
            .collect();
        let mut writes = Vec::new();
        let mut write_index = Vec::new();
        for (i, failure) in failures.iter().enumerate() {
            let event = if failure.event.len() > self.settings.inline_bytes {
                match self.spill.put(&spill_key(failure), &failure.event).await {
                    Ok(location) => StoredEvent::Spilled {
                        location,
                        bytes: failure.event.len() as u64,
                    },
                    Err(e) => {
                        results[i] = Some(Err(e));
                        continue;
                    }
                }
            } else {
                StoredEvent::Inline(failure.event.clone())
            };
            writes.push(ArchiveWrite {
                failure: failure.clone(),
                event,
                seen_at: now,
                window,
                expires_at,
            });
            write_index.push(i);
        }
        let recorded = self.archive.record(&writes).await;
        for (i, result) in write_index.into_iter().zip(recorded) {
            results[i] = Some(result);
        }
        let outcomes: Vec<Outcome> = deliveries
            .iter()
            .zip(failures)
            .zip(results)
            .map(|((delivery, failure), result)| Outcome {
                delivery_id: delivery.id.clone(),
                failure_id: failure.id.clone(),
                function: failure.function_name().to_owned(),
                class: failure.class,
                result: result.unwrap_or_else(|| {
                    Err(ServiceError::new(
                        "archive",
                        fleet_core::ErrorClass::Internal,
                        "the archive returned no result for this write",
                    ))
                }),
            })
            .collect();
        self.log_and_count(&outcomes, now);
        outcomes
    }

    fn log_and_count(&self, outcomes: &[Outcome], now: DateTime<Utc>) {
        let mut counts: BTreeMap<(&str, FailureClass), u64> = BTreeMap::new();
        let mut errors = 0u64;
        for o in outcomes {
            match &o.result {
                Ok(Recorded::Archived) => {
                    tracing::info!(id = %o.failure_id, message_id = %o.delivery_id, function = %o.function, class = %o.class, "failure archived");
                    *counts.entry((o.function.as_str(), o.class)).or_default() += 1;
                }
                Ok(Recorded::AlreadyCounted) => {
                    tracing::info!(id = %o.failure_id, message_id = %o.delivery_id, function = %o.function, class = %o.class, "redelivered message, already archived");
                }
                Err(e) => {
                    errors += 1;
                    tracing::error!(id = %o.failure_id, message_id = %o.delivery_id, function = %o.function, class = %o.class, error_type = %fleet_core::Classified::class(e), error = %e, "archiving failed; the message will be delivered again");
                }
            }
        }
        for ((function, class), count) in counts {
            self.metrics
                .emit(digest::emf_failures(function, class, count, now));
        }
        if errors > 0 {
            self.metrics.emit(digest::emf_archive_errors(errors, now));
        }
    }

    /// Sends the digest of every closed window not sent yet (one message per function and
    /// class). A failed publish gives the window back and fails the run, so it is retried.
    pub async fn digest(&self, at: DateTime<Utc>) -> Result<DigestReport, HandlerError> {
        let length = self.settings.digest_window;
        let windows = digest::closed_windows(at, length);
        let unsent = self
            .archive
            .unsent(&windows)
            .await
            .map_err(|e| HandlerError::from_error(&e))?;
        let mut report = DigestReport {
            at: iso(at),
            windows: Vec::new(),
        };
        for window in unsent {
            let claimed = self
                .archive
                .claim(window, at, digest::STALE_CLAIM)
                .await
                .map_err(|e| HandlerError::from_error(&e))?;
            if !claimed {
                tracing::info!(window = %iso(window), "digest window taken by another run");
                continue;
            }
            let sent = self.send_window(window).await;
            match sent {
                Ok((failures, messages)) => {
                    self.archive
                        .complete(window, at, messages)
                        .await
                        .map_err(|e| HandlerError::from_error(&e))?;
                    if failures > 0 {
                        tracing::info!(window = %iso(window), failures, messages, "digest sent");
                        report.windows.push(WindowDigest {
                            window: iso(window),
                            failures,
                            messages,
                        });
                    }
                }
                Err(error) => {
                    if let Err(e) = self.archive.release(window).await {
                        tracing::error!(window = %iso(window), error = %e, "releasing the digest window failed; it is taken over after the stale-claim time");
                    }
                    tracing::error!(window = %iso(window), error = %error, "digest not sent; the run fails so it is retried");
                    return Err(HandlerError::from_error(&error));
                }
            }
        }
        Ok(report)
    }

    async fn send_window(&self, window: DateTime<Utc>) -> Result<(usize, usize), ServiceError> {
        let length = self.settings.digest_window;
        let items = self.archive.in_window(window).await?;
        let groups = digest::groups(&items);
        for group in &groups {
            let subject = digest::subject(group, window, length);
            let text = digest::text(group, window, length);
            match &self.notifier {
                Some(notifier) => notifier.publish(&subject, &text).await?,
                None => tracing::warn!(%subject, %text, "digest (no report topic configured)"),
            }
        }
        Ok((items.len(), groups.len()))
    }
}

#[cfg(feature = "aws")]
pub type LambdaApp =
    App<aws::DynamoArchive, aws::S3Spill, fleet_core::SnsNotifier, ports::StdoutMetrics>;

/// SDK clients and adapters, built once per container.
#[cfg(feature = "aws")]
pub async fn wire(sdk: &SdkConfig, config: Config, env: Env) -> Result<LambdaApp, HandlerError> {
    Ok(App {
        archive: aws::DynamoArchive::new(aws_sdk_dynamodb::Client::new(sdk), config.archive_table),
        spill: aws::S3Spill::new(aws::s3_client(sdk), config.spill_bucket),
        notifier: fleet_core::SnsNotifier::for_topic(sdk, config.report_topic_arn),
        metrics: ports::StdoutMetrics,
        clock: env.clock,
        settings: config.settings,
    })
}
