//! The notifier port: run reports go to an SNS topic when one is configured.

use std::future::Future;

use crate::error::{ErrorClass, HandlerError, ServiceError};

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

/// Ends an invocation: the report goes out when it has news, then the invocation fails with
/// `ActionsFailed` if something failed transiently, so Lambda retries it (and the failure is not
/// hidden behind a success).
pub async fn deliver<R: RunSummary, N: Notifier>(
    report: R,
    notifier: Option<&N>,
) -> Result<R, HandlerError> {
    if let (Some(notifier), true) = (notifier, report.has_news()) {
        notifier
            .publish(&report.subject(), &report.to_text())
            .await
            .map_err(|e| HandlerError::from_error(&e))?;
    }
    match report.transient_failures() {
        0 => Ok(report),
        n => Err(HandlerError::new(
            ErrorClass::ActionsFailed,
            format!("{n} change(s) failed transiently (throttling or a service unavailable); the invocation will be retried"),
        )),
    }
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
                crate::ErrorClass::Unavailable,
                "InternalError: the service is unavailable (outage)",
            ));
        }
        self.inner.publish(subject, message).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Summary {
        news: bool,
        transient: usize,
    }

    impl RunSummary for Summary {
        fn has_news(&self) -> bool {
            self.news
        }
        fn subject(&self) -> String {
            "subject".into()
        }
        fn to_text(&self) -> String {
            "text".into()
        }
        fn transient_failures(&self) -> usize {
            self.transient
        }
    }

    #[tokio::test]
    async fn deliver_sends_news_and_fails_on_transient_failures_after_sending() {
        let notifier = RecordingNotifier::default();
        let quiet = Summary {
            news: false,
            transient: 0,
        };
        assert!(deliver(quiet, Some(&notifier)).await.is_ok());
        assert!(notifier.sent().is_empty(), "no news, no message");

        let failed = Summary {
            news: true,
            transient: 2,
        };
        let err = deliver(failed, Some(&notifier)).await.err().unwrap();
        assert_eq!(err.error_type(), "ActionsFailed");
        assert!(
            err.message.starts_with("2 change(s) failed transiently"),
            "{}",
            err.message
        );
        assert_eq!(
            notifier.sent(),
            [("subject".to_owned(), "text".to_owned())],
            "the report goes out before the invocation fails"
        );
        let no_topic: Option<&RecordingNotifier> = None;
        assert!(deliver(
            Summary {
                news: true,
                transient: 0
            },
            no_topic
        )
        .await
        .is_ok());
    }

    #[tokio::test]
    async fn a_failed_publish_fails_the_invocation_with_its_class() {
        let notifier = RecordingNotifier {
            failure: Some(ServiceError::new(
                "SNS",
                ErrorClass::Throttled,
                "Throttling: Rate exceeded",
            )),
            ..RecordingNotifier::default()
        };
        let err = deliver(
            Summary {
                news: true,
                transient: 0,
            },
            Some(&notifier),
        )
        .await
        .err()
        .unwrap();
        assert_eq!(err.error_type(), "Throttled");
    }

    #[test]
    fn long_messages_are_cut_at_a_char_boundary() {
        let long = "é".repeat(200_000);
        let cut = truncate_utf8(&long, MAX_MESSAGE_BYTES);
        assert!(cut.len() <= MAX_MESSAGE_BYTES);
        assert!(cut.ends_with("(truncated)"));
        assert_eq!(truncate_utf8("short", 10), "short");
    }
}
