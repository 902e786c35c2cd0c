//! The AWS SDK configuration, loaded once per container.

use aws_config::{BehaviorVersion, SdkConfig};

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

use aws_sdk_sns::config::http::HttpResponse;
use aws_sdk_sns::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Any service's error as an operator wants to read it: `Code: message` for a service error, the
/// HTTP status when the body carried no AWS error, the cause chain for transport failures.
/// Every SDK crate shares `SdkError` and `HttpResponse`.
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sns::operation::publish::PublishError;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    async fn publish_error(rule: aws_smithy_mocks::Rule) -> String {
        let client = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule], |c| c
            .retry_config(aws_sdk_sns::config::retry::RetryConfig::disabled()));
        let err = client
            .publish()
            .topic_arn("arn:aws:sns:eu-west-1:123456789012:t")
            .message("m")
            .send()
            .await
            .unwrap_err();
        error_text(&err)
    }

    #[tokio::test]
    async fn service_errors_read_as_code_and_message() {
        let denied = mock!(aws_sdk_sns::Client::publish).then_error(|| {
            PublishError::generic(
                aws_sdk_sns::error::ErrorMetadata::builder()
                    .code("AuthorizationError")
                    .message("not authorized")
                    .build(),
            )
        });
        assert_eq!(
            publish_error(denied).await,
            "AuthorizationError: not authorized"
        );
        let broken = mock!(aws_sdk_sns::Client::publish).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(500).unwrap(),
                aws_smithy_types::body::SdkBody::from("<html>oops</html>"),
            )
        });
        assert_eq!(publish_error(broken).await, "HTTP 500 without an AWS error");
    }
}
