//! In-memory adapters: a state store, and the fleet's shared EC2 fake.

use chrono::{DateTime, Utc};
use std::sync::Mutex;

use crate::ports::StateStore;
use fleet_core::ServiceError;

pub use fleet_ec2::{FakeInstance, InMemoryEc2};

/// A state store in memory.
#[derive(Debug, Default)]
pub struct MemoryState(Mutex<Option<DateTime<Utc>>>);

impl MemoryState {
    pub fn with_last_run(at: Option<DateTime<Utc>>) -> Self {
        Self(Mutex::new(at))
    }

    pub fn get(&self) -> Option<DateTime<Utc>> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl StateStore for MemoryState {
    async fn last_successful_run(&self) -> Result<Option<DateTime<Utc>>, ServiceError> {
        Ok(self.get())
    }

    async fn record_successful_run(&self, at: DateTime<Utc>) -> Result<(), ServiceError> {
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|l| l < at) {
            *last = Some(at);
        }
        Ok(())
    }
}
