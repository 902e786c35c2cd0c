//! In-memory adapters: a publisher that records what it was given, and a shared counter.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::ports::{PublishError, Publisher, Sequence};
use fleet_core::{ErrorClass, ServiceError};

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

/// A counter shared by clones (as the DynamoDB counter is shared by containers); it fails every
/// call while `unavailable`.
#[derive(Debug, Default, Clone)]
pub struct MemorySequence {
    pub last: Arc<AtomicU64>,
    pub unavailable: bool,
}

impl Sequence for MemorySequence {
    async fn next(&self) -> Result<u64, ServiceError> {
        if self.unavailable {
            return Err(ServiceError::new(
                "DynamoDB",
                ErrorClass::Throttled,
                "ProvisionedThroughputExceededException",
            ));
        }
        Ok(self.last.fetch_add(1, Ordering::SeqCst) + 1)
    }
}
