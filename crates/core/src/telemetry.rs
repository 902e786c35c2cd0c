//! Tracing setup for a Lambda function.
//!
//! Some crates log secrets at verbose levels: `lambda_runtime` logs every raw event at TRACE (a
//! verify request's code, a skill request's spoken digits), and the SDK's smithy runtime logs
//! whole requests and responses at TRACE (the SMS text with its code, STS's `TokenCode`). Those
//! targets are capped whatever `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` say, so no setting an
//! operator picks can make a function write a one-time code to CloudWatch.

use lambda_runtime::tracing::subscriber::filter::{EnvFilter, LevelFilter, Targets};
use lambda_runtime::tracing::subscriber::fmt::MakeWriter;
use lambda_runtime::tracing::subscriber::prelude::*;
use lambda_runtime::tracing::subscriber::{fmt, registry, Layer};
use lambda_runtime::tracing::Subscriber;

/// The most these targets (and their submodules, by prefix) may log.
pub const CAPPED_TARGETS: &[(&str, LevelFilter)] = &[
    // TRACE: "raw JSON event received from Lambda" with the whole body.
    ("lambda_runtime", LevelFilter::DEBUG),
    ("lambda_http", LevelFilter::DEBUG),
    // TRACE: "transmitting request" / "received response from service" with the bodies.
    ("aws_smithy", LevelFilter::DEBUG),
    // DEBUG: canonical requests.
    ("aws_sigv4", LevelFilter::INFO),
    // TRACE: frames and buffers of the HTTP connection.
    ("hyper", LevelFilter::INFO),
    ("h2", LevelFilter::INFO),
    ("rustls", LevelFilter::INFO),
];

/// Installs the function's subscriber: JSON lines when Lambda's log format is JSON (the template
/// sets `LoggingConfig.LogFormat: JSON`), level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, with
/// [`CAPPED_TARGETS`] capped.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "INFO".to_owned());
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    subscriber(&level, json, std::io::stdout).init();
}

/// The subscriber [`init`] installs, for a given level setting, format and writer (tests capture
/// the output with their own writer).
pub fn subscriber<W>(level: &str, json: bool, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let default = level.parse().unwrap_or(LevelFilter::INFO);
    let filter = EnvFilter::builder()
        .with_default_directive(default.into())
        .parse_lossy(level);
    let caps = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(CAPPED_TARGETS.iter().copied());
    let format = fmt::layer()
        .with_target(false)
        .without_time()
        .with_writer(writer);
    let format = if json {
        format.json().boxed()
    } else {
        format.boxed()
    };
    registry().with(format.with_filter(filter).with_filter(caps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// At TRACE, the capped targets still say nothing below their cap; other targets say all.
    #[test]
    fn trace_does_not_reach_the_capped_targets() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = subscriber("trace", true, move || writer.clone());
        lambda_runtime::tracing::dispatcher::with_default(
            &lambda_runtime::tracing::Dispatch::new(subscriber),
            || {
                lambda_runtime::tracing::trace!(target: "lambda_runtime::layers::api_response", body = "{\"code\":\"73195\"}", "raw JSON event received from Lambda");
                lambda_runtime::tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", request = "Message=code+73196", "transmitting request");
                lambda_runtime::tracing::debug!(target: "aws_smithy_runtime::client::orchestrator", "beginning attempt #1");
                lambda_runtime::tracing::trace!(target: "otp_validator", "our own trace line");
            },
        );
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("7319"), "{text}");
        assert!(text.contains("beginning attempt #1"), "{text}");
        assert!(text.contains("our own trace line"), "{text}");
    }
}
