//! An in-memory queue for the API's tests and benchmark.

use std::sync::Mutex;

use crate::ports::{CodeQueue, QueuedRequest};
use fleet_core::{ErrorClass, ServiceError};

/// Keeps what was queued; refuses everything while `unavailable`.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    pub queued: Mutex<Vec<QueuedRequest>>,
    pub unavailable: bool,
}

impl MemoryQueue {
    /// Takes everything queued so far, oldest first.
    pub fn take(&self) -> Vec<QueuedRequest> {
        std::mem::take(&mut *self.queued.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl CodeQueue for MemoryQueue {
    async fn enqueue(&self, request: &QueuedRequest) -> Result<(), ServiceError> {
        if self.unavailable {
            return Err(ServiceError::new(
                "SQS",
                ErrorClass::Throttled,
                "the queue is unavailable",
            ));
        }
        self.queued
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(request.clone());
        Ok(())
    }
}
