//! The AWS SDK configuration, loaded once per container, and the one place where an SDK error
//! becomes a failure class.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::{ErrorClass, ServiceError};
use crate::notify::{clip_subject, truncate_utf8, Notifier, MAX_MESSAGE_BYTES};

/// Re-exported so function crates build the client without depending on the SNS crate themselves.
pub use aws_sdk_sns::Client as SnsClient;

/// Loads region, credentials and endpoint from the standard chain. `AWS_ENDPOINT_URL` (and the
/// per-service `AWS_ENDPOINT_URL_<SERVICE>`) is honoured by the SDK itself, which is how tests and
/// the local demo point every client at the stand-in.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// S3 clients must use path-style addressing when an endpoint is overridden: a local stand-in
/// cannot serve `bucket.host` virtual-host names.
pub fn s3_force_path_style(config: &SdkConfig) -> bool {
    config.endpoint_url().is_some()
}

/// Any service's error as an operator wants to read it: `Code: message` for a service error, the
/// HTTP status when the body carried no AWS error, the cause chain for transport failures.
pub fn error_text<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match (err.code(), err.message(), err.raw_response()) {
        (Some(code), Some(message), _) => format!("{code}: {message}"),
        (Some(code), None, _) => code.to_owned(),
        (None, _, Some(raw)) => format!("HTTP {} without an AWS error", raw.status().as_u16()),
        (None, _, None) => DisplayErrorContext(err).to_string(),
    }
}

/// The class of any SDK error: transport failures and 5xx are `Unavailable`, known codes are
/// classified by [`ErrorClass::from_aws_code`], any other client error is `Internal` (a bug or a setting: the
/// same call would fail again).
pub fn classify<E>(err: &SdkError<E, HttpResponse>) -> ErrorClass
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            return ErrorClass::Unavailable
        }
        SdkError::ConstructionFailure(_) => return ErrorClass::Internal,
        _ => {}
    }
    if let Some(class) = err.code().and_then(ErrorClass::from_aws_code) {
        return class;
    }
    match err.raw_response().map(|r| r.status().as_u16()) {
        Some(429) => ErrorClass::Throttled,
        Some(403) => ErrorClass::AccessDenied,
        Some(404) => ErrorClass::NotFound,
        Some(500..=599) => ErrorClass::Unavailable,
        _ => ErrorClass::Internal,
    }
}

/// An SDK error as the ports report it: the service, its class and its text.
pub fn service_error<E>(service: &'static str, err: &SdkError<E, HttpResponse>) -> ServiceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    ServiceError::new(service, classify(err), error_text(err))
}

/// Publishes reports to one SNS topic.
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

    /// The notifier for `topic_arn` when one is configured.
    pub fn for_topic(sdk: &SdkConfig, topic_arn: Option<String>) -> Option<Self> {
        topic_arn.map(|arn| Self::new(aws_sdk_sns::Client::new(sdk), arn))
    }
}

impl Notifier for SnsNotifier {
    async fn publish(&self, subject: &str, message: &str) -> Result<(), ServiceError> {
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(clip_subject(subject))
            .message(truncate_utf8(message, MAX_MESSAGE_BYTES))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| service_error("SNS", &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sns::operation::publish::PublishError;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    async fn publish_error(rule: aws_smithy_mocks::Rule) -> ServiceError {
        let client = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule], |c| c
            .retry_config(aws_sdk_sns::config::retry::RetryConfig::disabled()));
        let err = client
            .publish()
            .topic_arn("arn:aws:sns:eu-west-1:123456789012:t")
            .message("m")
            .send()
            .await
            .unwrap_err();
        service_error("SNS", &err)
    }

    fn coded(code: &'static str, message: &'static str) -> aws_smithy_mocks::Rule {
        mock!(aws_sdk_sns::Client::publish).then_error(move || {
            PublishError::generic(
                aws_sdk_sns::error::ErrorMetadata::builder()
                    .code(code)
                    .message(message)
                    .build(),
            )
        })
    }

    fn status(code: u16) -> aws_smithy_mocks::Rule {
        mock!(aws_sdk_sns::Client::publish).then_http_response(move || {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(code).unwrap(),
                aws_smithy_types::body::SdkBody::from("<html>oops</html>"),
            )
        })
    }

    #[tokio::test]
    async fn service_errors_read_as_code_and_message_with_their_class() {
        let denied = publish_error(coded("AuthorizationError", "not authorized")).await;
        assert_eq!(denied.detail, "AuthorizationError: not authorized");
        assert_eq!(denied.class, ErrorClass::AccessDenied);
        assert_eq!(
            denied.to_string(),
            "SNS: AuthorizationError: not authorized"
        );
        let broken = publish_error(status(500)).await;
        assert_eq!(broken.detail, "HTTP 500 without an AWS error");
        assert_eq!(broken.class, ErrorClass::Unavailable);
        let throttled = publish_error(coded("Throttling", "Rate exceeded")).await;
        assert_eq!(throttled.class, ErrorClass::Throttled);
        let unknown = publish_error(coded("InvalidParameter", "bad topic")).await;
        assert_eq!(unknown.class, ErrorClass::Internal);
        assert_eq!(
            publish_error(status(429)).await.class,
            ErrorClass::Throttled
        );
    }

    #[tokio::test]
    async fn the_notifier_publishes_subject_and_message_to_the_topic() {
        use aws_sdk_sns::operation::publish::PublishOutput;
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
        let throttled = coded("Throttling", "Rate exceeded");
        let client = mock_client!(aws_sdk_sns, [&throttled]);
        let err = SnsNotifier::new(client, "arn:t")
            .publish("s", "m")
            .await
            .unwrap_err();
        assert_eq!(err.class, ErrorClass::Throttled);
    }

    #[test]
    fn codes_table() {
        use ErrorClass::*;
        for (code, class) in [
            ("RequestLimitExceeded", Some(Throttled)),
            ("ProvisionedThroughputExceededException", Some(Throttled)),
            ("UnauthorizedOperation", Some(AccessDenied)),
            ("ResourceNotFoundException", Some(NotFound)),
            ("InvalidInstanceID.NotFound", Some(NotFound)),
            ("TaskDoesNotExist", Some(NotFound)),
            ("NoSuchKey", Some(NotFound)),
            ("ConditionalCheckFailedException", Some(Conflict)),
            ("IncorrectInstanceState", Some(Conflict)),
            ("InternalFailure", Some(Unavailable)),
            ("ValidationException", None),
        ] {
            assert_eq!(ErrorClass::from_aws_code(code), class, "{code}");
        }
    }
}
