//! The AWS SDK configuration, loaded once per container, and the one place where an SDK error
//! becomes a failure class.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::{ErrorClass, ServiceError};
use crate::notify::{clip_subject, truncate_utf8, Notifier, MAX_MESSAGE_BYTES};

/// Re-exported so function crates build the client without depending on the SNS crate themselves.
pub use aws_sdk_sns::Client as SnsClient;

/// Loads region, credentials and endpoint from the standard chain. `AWS_ENDPOINT_URL` (and the
/// per-service `AWS_ENDPOINT_URL_<SERVICE>`) is honoured by the SDK itself, which is how tests and
/// the local demo point every client at the stand-in. Every client built from it shares one
/// [`https_client`] and gives up on an attempt after [`attempt_timeout`], read from `vars` (the
/// process environment outside tests): a bad value is refused, named, never replaced by the default.
pub async fn load_sdk_config(
    vars: &impl crate::config::Vars,
) -> Result<SdkConfig, crate::config::ConfigError> {
    let timeout = attempt_timeout(vars)?;
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(timeout)
                .build(),
        )
        .load()
        .await)
}

/// The attempt timeout when `SDK_ATTEMPT_TIMEOUT_SECONDS` is not set.
pub const DEFAULT_ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// `SDK_ATTEMPT_TIMEOUT_SECONDS` (1–120, default 5): how long one attempt of an AWS call may take
/// before the SDK abandons it and retries (three attempts in all). The SDK sets no such limit by
/// default, so a connection that stops answering would hold the invocation until Lambda's own
/// timeout: the caller gets nothing and nothing is classified. Three attempts must fit in the
/// function's timeout (`tests/template.rs` checks it): the functions with 8–15 s set 2.
pub fn attempt_timeout(
    vars: &impl crate::config::Vars,
) -> Result<std::time::Duration, crate::config::ConfigError> {
    vars.ranged_or("SDK_ATTEMPT_TIMEOUT_SECONDS", 5, 1..=120)
        .map(std::time::Duration::from_secs)
}

/// The SDK's default HTTPS client (hyper 1 and rustls with aws-lc, proxies from the environment,
/// as `default-https-client` builds it), except that its TLS roots are read on the first request.
///
/// The default client builds a TLS connector, reading and parsing every system root certificate,
/// each time an SDK client is constructed (`validate_base_client_config`), so a function wiring
/// three clients parsed the roots three times at init, before answering anything: measured on a
/// Debian machine, about a quarter of the init CPU time. Here the connector is built once, by the
/// first request that needs it, and cached for every client sharing this one.
pub fn https_client() -> SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    use aws_smithy_http_client::{proxy::ProxyConfig, Builder, ConnectorBuilder};
    let default = Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    });
    SharedHttpClient::new(ConnectOnFirstRequest(default))
}

/// An HTTP client that leaves out the eager start (`validate_base_client_config`'s default does
/// nothing) and otherwise is the client it wraps.
#[derive(Debug)]
struct ConnectOnFirstRequest(SharedHttpClient);

impl HttpClient for ConnectOnFirstRequest {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
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

#[cfg(test)]
mod first_request_tests {
    use super::*;
    use aws_sdk_sns::config::{Credentials, Region, SharedCredentialsProvider};
    use aws_smithy_runtime_api::box_error::BoxError;
    use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorFuture};
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::config_bag::ConfigBag;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// An HTTP client that counts eager starts (where the default client reads the TLS roots)
    /// and requests, and answers every request 400.
    #[derive(Debug, Clone, Default)]
    struct Counting {
        started: Arc<AtomicUsize>,
        requests: Arc<AtomicUsize>,
    }

    impl HttpConnector for Counting {
        fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
            self.requests.fetch_add(1, Ordering::SeqCst);
            let status = 400.try_into().unwrap_or_else(|e| panic!("{e}"));
            HttpConnectorFuture::ready(Ok(HttpResponse::new(status, SdkBody::empty())))
        }
    }

    impl HttpClient for Counting {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            SharedHttpConnector::new(self.clone())
        }

        fn validate_base_client_config(
            &self,
            _: &RuntimeComponentsBuilder,
            _: &ConfigBag,
        ) -> Result<(), BoxError> {
            self.started.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    fn sdk(http: SharedHttpClient) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::for_tests()))
            .http_client(http)
            .build()
    }

    #[tokio::test]
    async fn clients_start_no_connection_at_construction_only_on_the_first_request() {
        // What the SDK does with its default client: a start per client constructed.
        let eager = Counting::default();
        let config = sdk(SharedHttpClient::new(eager.clone()));
        let _one = SnsClient::new(&config);
        let _two = SnsClient::new(&config);
        assert_eq!(eager.started.load(Ordering::SeqCst), 2);

        let counting = Counting::default();
        let config = sdk(SharedHttpClient::new(ConnectOnFirstRequest(
            SharedHttpClient::new(counting.clone()),
        )));
        let client = SnsClient::new(&config);
        let _other = SnsClient::new(&config);
        assert_eq!(
            counting.started.load(Ordering::SeqCst),
            0,
            "no start at init"
        );
        assert_eq!(counting.requests.load(Ordering::SeqCst), 0);
        let _ = client.list_topics().send().await;
        assert_eq!(
            counting.requests.load(Ordering::SeqCst),
            1,
            "the request went through the wrapped client"
        );
    }
}

#[cfg(test)]
mod attempt_timeout_tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_attempt_timeout_is_five_seconds_unless_set_within_range() {
        assert_eq!(
            attempt_timeout(&[("OTHER", "1")]).unwrap(),
            DEFAULT_ATTEMPT_TIMEOUT
        );
        assert_eq!(
            attempt_timeout(&[("SDK_ATTEMPT_TIMEOUT_SECONDS", " 2 ")]).unwrap(),
            Duration::from_secs(2)
        );
        for bad in ["0", "121", "2s", "-1"] {
            let error = attempt_timeout(&[("SDK_ATTEMPT_TIMEOUT_SECONDS", bad)]).unwrap_err();
            assert!(
                error.to_string().contains("SDK_ATTEMPT_TIMEOUT_SECONDS"),
                "{bad}: {error}"
            );
        }
    }

    #[tokio::test]
    async fn every_client_gives_up_on_an_attempt_after_the_attempt_timeout() {
        let sdk = load_sdk_config(&[("OTHER", "1")]).await.unwrap();
        let timeouts = sdk.timeout_config().expect("a timeout config");
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(DEFAULT_ATTEMPT_TIMEOUT)
        );
        let sdk = load_sdk_config(&[("SDK_ATTEMPT_TIMEOUT_SECONDS", "7")])
            .await
            .unwrap();
        let timeouts = sdk.timeout_config().expect("a timeout config");
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(Duration::from_secs(7))
        );
    }

    #[tokio::test]
    async fn a_bad_attempt_timeout_is_refused_by_the_loader_not_replaced_by_the_default() {
        let error = load_sdk_config(&[("SDK_ATTEMPT_TIMEOUT_SECONDS", "0")])
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("SDK_ATTEMPT_TIMEOUT_SECONDS"),
            "{error}"
        );
    }
}
