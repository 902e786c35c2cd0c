//! The notifier port: run reports go to an SNS topic when one is configured.

use std::future::Future;

use crate::error::{ErrorClass, ServiceError};

/// SNS limits: subject ≤ 100 characters, message ≤ 256 KiB.
pub const MAX_SUBJECT_CHARS: usize = 100;
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

pub trait Notifier: Send + Sync {
    fn publish(
        &self,
        subject: &str,
        message: &str,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
}

/// What a run returns and, when it has news, sends to the report topic.
pub trait RunSummary {
    /// Something an operator should hear about.
    fn has_news(&self) -> bool;
    fn subject(&self) -> String;
    fn to_text(&self) -> String;
    /// Changes that failed for a reason another invocation may not hit (throttling, 5xx).
    fn transient_failures(&self) -> usize;
}

/// The subject as SNS takes it: at most 100 characters.
pub fn clip_subject(subject: &str) -> String {
    subject.chars().take(MAX_SUBJECT_CHARS).collect()
}

/// Reports can be long; SNS rejects over-long messages, so cut at a character boundary and say so.
pub fn truncate_utf8(message: &str, max_bytes: usize) -> String {
    if message.len() <= max_bytes {
        return message.to_owned();
    }
    const MARK: &str = "\n…(truncated)";
    let mut end = max_bytes.saturating_sub(MARK.len());
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{MARK}", &message[..end])
}

/// A notifier that keeps what it was given, clipped as SNS would; for tests and the local demo.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    pub sent: std::sync::Mutex<Vec<(String, String)>>,
    /// Fail every publish with this error.
    pub failure: Option<ServiceError>,
}

impl RecordingNotifier {
    pub fn sent(&self) -> Vec<(String, String)> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Notifier for RecordingNotifier {
    async fn publish(&self, subject: &str, message: &str) -> Result<(), ServiceError> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).push((
            clip_subject(subject),
            truncate_utf8(message, MAX_MESSAGE_BYTES),
        ));
        Ok(())
    }
}

/// A notifier behind an outage: the next `failures` publishes fail as SNS's 503, then `inner`
/// publishes. For tests of what a failed publish leaves behind.
#[derive(Debug, Default)]
pub struct Outage<N> {
    pub inner: N,
    pub failures: std::sync::atomic::AtomicUsize,
}

impl<N: Notifier> Notifier for Outage<N> {
    async fn publish(&self, subject: &str, message: &str) -> Result<(), ServiceError> {
        use std::sync::atomic::Ordering;
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(ServiceError::new(
                "SNS",
                ErrorClass::Unavailable,
                "InternalError: the service is unavailable (outage)",
            ));
        }
        self.inner.publish(subject, message).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_at_a_char_boundary() {
        let long = "é".repeat(200_000);
        let cut = truncate_utf8(&long, MAX_MESSAGE_BYTES);
        assert!(cut.len() <= MAX_MESSAGE_BYTES);
        assert!(cut.ends_with("(truncated)"));
        assert_eq!(truncate_utf8("short", 10), "short");
    }
}
