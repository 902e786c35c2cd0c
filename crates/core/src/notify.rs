//! The notifier port: run reports go to an SNS topic when one is configured.

use aws_sdk_sns::error::ProvideErrorMetadata;
use std::future::Future;

use crate::error::{ErrorType, HandlerError};

/// Re-exported so function crates build the client without depending on the SNS crate themselves.
pub use aws_sdk_sns::Client as SnsClient;

/// SNS limits: subject ≤ 100 characters, message ≤ 256 KiB.
const MAX_SUBJECT_CHARS: usize = 100;
const MAX_MESSAGE_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NotifyError {
    #[error("publishing the report was throttled: {0}")]
    Throttled(String),
    #[error("publishing the report failed: {0}")]
    Failed(String),
}

impl ErrorType for NotifyError {
    fn error_type(&self) -> &'static str {
        match self {
            NotifyError::Throttled(_) => "Throttled",
            NotifyError::Failed(_) => "NotifyFailed",
        }
    }
}

pub trait Notifier: Send + Sync {
    fn publish(
        &self,
        subject: &str,
        message: &str,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send;
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
            "ActionsFailed",
            format!("{n} change(s) failed transiently (throttling or a service unavailable); the invocation will be retried"),
        )),
    }
}

/// Publishes to one SNS topic.
#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

impl Notifier for SnsNotifier {
    async fn publish(&self, subject: &str, message: &str) -> Result<(), NotifyError> {
        let subject: String = subject.chars().take(MAX_SUBJECT_CHARS).collect();
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject)
            .message(truncate_utf8(message, MAX_MESSAGE_BYTES))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                let detail = format!(
                    "{}: {}",
                    e.code().unwrap_or("unknown"),
                    e.message().unwrap_or("no message")
                );
                match e.code() {
                    Some("Throttling" | "ThrottlingException" | "ThrottledException") => {
                        NotifyError::Throttled(detail)
                    }
                    _ => NotifyError::Failed(detail),
                }
            })
    }
}

/// Reports can be long; SNS rejects over-long messages, so cut at a character boundary and say so.
fn truncate_utf8(message: &str, max_bytes: usize) -> String {
    if message.len() <= max_bytes {
        return message.to_owned();
    }
    const MARK: &str = "\n…(truncated)";
    let mut end = max_bytes - MARK.len();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{MARK}", &message[..end])
}

/// A notifier that keeps what it was given; for tests and the local demo.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    pub sent: std::sync::Mutex<Vec<(String, String)>>,
}

impl Notifier for RecordingNotifier {
    async fn publish(&self, subject: &str, message: &str) -> Result<(), NotifyError> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((subject.to_owned(), message.to_owned()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sns::operation::publish::{PublishError, PublishOutput};
    use aws_smithy_mocks::{mock, mock_client};

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
        assert!(
            notifier.sent.lock().unwrap().is_empty(),
            "no news, no message"
        );

        let failed = Summary {
            news: true,
            transient: 2,
        };
        let err = deliver(failed, Some(&notifier)).await.err().unwrap();
        assert_eq!(err.error_type, "ActionsFailed");
        assert!(
            err.message.starts_with("2 change(s) failed transiently"),
            "{}",
            err.message
        );
        assert_eq!(
            *notifier.sent.lock().unwrap(),
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
    async fn publishes_subject_and_message_to_the_topic() {
        let rule = mock!(aws_sdk_sns::Client::publish)
            .match_requests(|r| {
                r.topic_arn() == Some("arn:aws:sns:eu-west-1:123456789012:reports")
                    && r.subject() == Some("EC2 scheduler report")
                    && r.message() == Some("hello")
            })
            .then_output(|| PublishOutput::builder().message_id("m-1").build());
        let client = mock_client!(aws_sdk_sns, [&rule]);
        let notifier = SnsNotifier::new(client, "arn:aws:sns:eu-west-1:123456789012:reports");
        notifier
            .publish("EC2 scheduler report", "hello")
            .await
            .unwrap();
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn throttling_is_classified() {
        let rule = mock!(aws_sdk_sns::Client::publish).then_error(|| {
            PublishError::generic(
                aws_sdk_sns::error::ErrorMetadata::builder()
                    .code("Throttling")
                    .message("Rate exceeded")
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_sns, [&rule]);
        let err = SnsNotifier::new(client, "arn:t")
            .publish("s", "m")
            .await
            .unwrap_err();
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
