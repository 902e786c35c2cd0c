//! The ports the publisher runs on. Domain types only; the adapters own the SDK details.

use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use fleet_core::{Classified, ErrorClass};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("IoT {code}: {message}")]
pub struct PublishError {
    pub code: String,
    pub message: String,
    pub class: ErrorClass,
}

impl Classified for PublishError {
    fn class(&self) -> ErrorClass {
        self.class
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
