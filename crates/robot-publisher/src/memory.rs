//! In-memory adapters: a publisher that records what it was given.

use crate::ports::{PublishError, Publisher};

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
