//! In-memory adapters for the dialogue tests.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::ports::{AccessStore, ServiceError, Stream, Streams};

#[derive(Debug, Default)]
pub struct FakeStreams {
    pub streams: Vec<Stream>,
    /// Answer every call with this error.
    pub failure: Option<ServiceError>,
}

impl Streams for FakeStreams {
    async fn streams(&self) -> Result<Vec<Stream>, ServiceError> {
        match &self.failure {
            Some(e) => Err(e.clone()),
            None => Ok(self.streams.clone()),
        }
    }
}

#[derive(Debug, Default)]
pub struct MemoryAccess(pub Mutex<BTreeMap<String, DateTime<Utc>>>);

impl AccessStore for MemoryAccess {
    async fn granted_until(&self, user_id: &str) -> Result<Option<DateTime<Utc>>, ServiceError> {
        Ok(self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(user_id)
            .copied())
    }

    async fn grant(&self, user_id: &str, until: DateTime<Utc>) -> Result<(), ServiceError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user_id.to_owned(), until);
        Ok(())
    }
}
