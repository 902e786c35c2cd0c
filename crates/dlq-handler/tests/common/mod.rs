//! The handler on in-memory adapters at a fixed instant, shared by the domain tests.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use dlq_handler::config::Settings;
use dlq_handler::memory::{MemoryArchive, MemorySpill, RecordingMetrics};
use dlq_handler::normalise::SourceMap;
use dlq_handler::App;
use fleet_core::{FixedClock, RecordingNotifier};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;

pub const QUEUE: &str =
    "arn:aws:sqs:eu-west-1:123456789012:cloudops-fleet-FailureQueue-1A2B3C4D5E6F";
pub const SCHEDULER: &str = "arn:aws:lambda:eu-west-1:123456789012:function:cloudops-fleet-Ec2SchedulerFunction-AbCdEf123456";
pub const TAGGING: &str = "arn:aws:lambda:eu-west-1:123456789012:function:cloudops-fleet-TaggingPolicyFunction-GhIjKl789012";

/// The mapping the samples assume: the legacy SQS DLQ and the seed's SNS topic.
pub fn sources() -> SourceMap {
    "arn:aws:sqs:eu-west-1:123456789012:legacy-function-dlq=legacy-uploads,\
     arn:aws:sns:eu-west-1:123456789012:sns-lambda-test=arn:aws:lambda:eu-west-1:123456789012:function:legacy-transcoder"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"))
}

pub fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

pub type MemoryApp = App<MemoryArchive, MemorySpill, RecordingNotifier, RecordingMetrics>;

pub struct Harness {
    pub app: MemoryApp,
    pub clock: Arc<FixedClock>,
}

impl Harness {
    pub fn new() -> Self {
        Self::with_notifier(RecordingNotifier::default())
    }

    pub fn with_notifier(notifier: RecordingNotifier) -> Self {
        let clock = Arc::new(FixedClock::at(t("2026-11-23T09:05:00Z")));
        let app = App {
            archive: MemoryArchive::new(),
            spill: MemorySpill::new("spill-bucket"),
            notifier: Some(notifier),
            metrics: RecordingMetrics::default(),
            clock: clock.clone(),
            settings: Settings {
                sources: sources(),
                ..Settings::default()
            },
        };
        Self { app, clock }
    }

    pub fn sent(&self) -> Vec<(String, String)> {
        self.app
            .notifier
            .as_ref()
            .map(|n| n.sent())
            .unwrap_or_default()
    }
}

pub fn invocation(payload: Value) -> LambdaEvent<Value> {
    let mut context = Context::default();
    context.request_id = "handler-request".into();
    LambdaEvent::new(payload, context)
}

pub mod moto;
