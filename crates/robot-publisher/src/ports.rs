//! The ports the publisher runs on. Domain types only; the adapters own the SDK details.

use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use fleet_core::ErrorType;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("IoT {code}: {message}")]
pub struct PublishError {
    pub code: String,
    pub message: String,
}

impl ErrorType for PublishError {
    fn error_type(&self) -> &'static str {
        "PublishFailed"
    }
}

/// Publishes to an IoT Core topic with QoS 1 (at least once).
pub trait Publisher: Send + Sync {
    fn publish(
        &self,
        topic: &str,
        payload: Vec<u8>,
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}

/// Numbers commands so the robot can drop one that arrives after a newer one.
pub trait Sequence: Send + Sync {
    fn next(&self, now: DateTime<Utc>) -> u64;
}

/// Microseconds since the epoch, never repeating within a container: increasing across
/// containers too, as far as their clocks agree, with no shared state to pay for.
#[derive(Debug, Default)]
pub struct ClockSequence {
    last: AtomicU64,
}

impl Sequence for ClockSequence {
    fn next(&self, now: DateTime<Utc>) -> u64 {
        let micros = u64::try_from(now.timestamp_micros()).unwrap_or(0);
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = micros.max(last + 1);
            match self
                .last
                .compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(actual) => last = actual,
            }
        }
    }
}

/// Records every publish; for tests and the local page.
#[derive(Debug, Default)]
pub struct RecordingPublisher {
    pub published: std::sync::Mutex<Vec<(String, Vec<u8>)>>,
    /// Fail every publish with this error.
    pub failure: Option<PublishError>,
}

impl Publisher for RecordingPublisher {
    async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), PublishError> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        self.published
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((topic.to_owned(), payload));
        Ok(())
    }
}
