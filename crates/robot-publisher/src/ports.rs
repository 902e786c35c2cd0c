//! The ports the publisher runs on. Domain types only; the adapters own the SDK details.

use std::future::Future;

use fleet_core::{Classified, ErrorClass, ServiceError};

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

/// Numbers commands for the robot from one counter shared by every container, so a command
/// accepted later always carries a higher number, whatever the containers' clocks say.
pub trait Sequence: Send + Sync {
    /// The next number, above every number handed out before (by any container).
    fn next(&self) -> impl Future<Output = Result<u64, ServiceError>> + Send;
}
