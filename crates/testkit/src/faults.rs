//! The injected faults of the reliability suite (issue 18, point 2), shared by every function's
//! `tests/faults.rs`: throttling that the SDK's retry absorbs, throttling that outlasts it, a
//! 5xx on every attempt, and no answer at all. Throttling and 5xx answers are aws-smithy-mocks
//! rules ([`fault_rule!`](crate::fault_rule)); a timeout is an HTTP client that never answers
//! ([`Silent`]), since a mocked response always arrives. [`inject!`](crate::inject) builds either.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

// The rule type, for the probe; the calling crate's own aws-smithy-mocks builds the rules.
use aws_smithy_mocks as aws_smithy_mocks_probe;

/// Attempts per call, as the SDK's standard retry makes them.
pub const ATTEMPTS: usize = 3;

/// How long an attempt waits for an answer that never comes.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Throttled on the first two attempts, answered on the third.
    ThrottledThenOk,
    /// Throttled on every attempt.
    Throttled,
    /// HTTP 503 on every attempt.
    ServerError,
    /// No answer within [`ATTEMPT_TIMEOUT`], on every attempt.
    Timeout,
}

impl Fault {
    pub const ALL: [Fault; 4] = [
        Fault::ThrottledThenOk,
        Fault::Throttled,
        Fault::ServerError,
        Fault::Timeout,
    ];
}

/// The SDK's standard retry with [`ATTEMPTS`] attempts, without the waiting between them.
pub fn fast_retry() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(ATTEMPTS as u32)
        .with_initial_backoff(Duration::from_millis(1))
}

/// An SDK configuration whose every request goes unanswered: each attempt times out after
/// [`ATTEMPT_TIMEOUT`], and the standard retry tries [`ATTEMPTS`] times. Build any client on
/// [`Silent::sdk`]; [`Silent::attempts`] counts the requests sent.
#[derive(Debug, Clone)]
pub struct Silent {
    pub sdk: SdkConfig,
    attempts: Arc<AtomicUsize>,
}

impl Default for Silent {
    fn default() -> Self {
        let attempts = Arc::new(AtomicUsize::new(0));
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(crate::REGION))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "fleet-testkit",
            )))
            .http_client(SharedHttpClient::new(NeverAnswers(attempts.clone())))
            .retry_config(fast_retry())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .build(),
            )
            .build();
        Self { sdk, attempts }
    }
}

impl Silent {
    pub fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Clone)]
struct NeverAnswers(Arc<AtomicUsize>);

impl HttpConnector for NeverAnswers {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        self.0.fetch_add(1, Ordering::SeqCst);
        HttpConnectorFuture::new(std::future::pending())
    }
}

impl HttpClient for NeverAnswers {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// A client with a fault injected, and how many attempts reached the faulty operation.
#[derive(Debug)]
pub struct Injected<C> {
    pub client: C,
    probe: Probe,
}

#[derive(Debug)]
enum Probe {
    Rule(aws_smithy_mocks_probe::Rule),
    Silent(Box<Silent>),
}

impl<C> Injected<C> {
    #[doc(hidden)]
    pub fn mocked(client: C, rule: aws_smithy_mocks_probe::Rule) -> Self {
        Self {
            client,
            probe: Probe::Rule(rule),
        }
    }

    #[doc(hidden)]
    pub fn silent(client: C, silent: Silent) -> Self {
        Self {
            client,
            probe: Probe::Silent(Box::new(silent)),
        }
    }

    /// Attempts of the faulty operation (for a timeout: every request the client sent).
    pub fn attempts(&self) -> usize {
        match &self.probe {
            Probe::Rule(rule) => rule.num_calls(),
            Probe::Silent(silent) => silent.attempts(),
        }
    }
}

/// An aws-smithy-mocks rule for `$operation` (a client method path) answering with the
/// [`Fault`] `$fault`: `$throttling` builds the operation's throttling error, `$ok` its output.
/// Each keeps answering as it ends (the output, or the fault). For [`Fault::Timeout`] the rule
/// answers `$ok`: the client is [`Silent`], so no rule is reached. The calling crate needs `aws-smithy-mocks` and its SDK crate's `test-util`.
#[macro_export]
macro_rules! fault_rule {
    ($operation:path, $fault:expr, $throttling:expr, $ok:expr) => {{
        use $crate::faults::{Fault, ATTEMPTS};
        // `mock!` without its expression attribute, which a macro in expression position cannot
        // carry on stable Rust.
        #[allow(unreachable_code)]
        let rule = ::aws_smithy_mocks::RuleBuilder::new_from_mock(
            || $operation(todo!()).as_input().clone().build().unwrap(),
            || $operation(todo!()).send(),
        );
        match $fault {
            Fault::ThrottledThenOk => rule
                .sequence()
                .error($throttling)
                .times(ATTEMPTS - 1)
                .output($ok)
                .repeatedly()
                .build(),
            Fault::Throttled => rule.sequence().error($throttling).repeatedly().build(),
            Fault::ServerError => rule.sequence().http_status(503, None).repeatedly().build(),
            Fault::Timeout => rule.then_output($ok),
        }
    }};
}

/// `$sdk`'s client (e.g. `aws_sdk_sqs`) with [`Fault`] `$fault` on `$operation` (a client method
/// path, e.g. `aws_sdk_sqs::Client::send_message`), as an [`Injected`]: `$throttling` builds the
/// operation's throttling error, `$ok` its output; `$other` rules answer the client's other
/// operations. Mocked clients retry as [`fast_retry`]; for [`Fault::Timeout`] the client is
/// [`Silent`] (every operation of it goes unanswered).
#[macro_export]
macro_rules! inject {
    ($sdk:ident, $operation:path, $fault:expr, $throttling:expr, $ok:expr $(, $other:expr)* $(,)?) => {{
        let fault = $fault;
        let rule = $crate::fault_rule!($operation, fault, $throttling, $ok);
        match fault {
            $crate::faults::Fault::Timeout => {
                let silent = $crate::faults::Silent::default();
                $crate::faults::Injected::silent($sdk::Client::new(&silent.sdk), silent)
            }
            _ => $crate::faults::Injected::mocked(
                ::aws_smithy_mocks::mock_client!(
                    $sdk,
                    ::aws_smithy_mocks::RuleMode::MatchAny,
                    [&rule $(, &$other)*],
                    |c| c.retry_config($crate::faults::fast_retry())
                ),
                rule,
            ),
        }
    }};
}
