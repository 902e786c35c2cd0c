//! What every function's `main.rs` calls: [`run`] (or [`run_http`]) for its [`Function`]: telemetry,
//! the SDK configuration and the system [`Env`] once, the configuration from the environment, the
//! function's `wire`, with an init failure reported to Lambda with its class; then the event loop.

use aws_config::SdkConfig;
use lambda_runtime::{service_fn, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use std::future::Future;

use crate::config::{FromVars, ProcessEnv};
use crate::env::Env;
use crate::error::{ErrorClass, HandlerError};
use crate::handler::EventHandler;
#[cfg(feature = "http")]
use crate::handler::HttpHandler;

/// The whole of an event function's `main`: `wire` is the crate's
/// `async fn wire(&SdkConfig, Config, Env) -> Result<App, HandlerError>`; the configuration is read
/// from the environment with its `FromVars`.
pub async fn run<C, A>(
    wire: impl AsyncFnOnce(&SdkConfig, C, Env) -> Result<A, HandlerError>,
) -> Result<(), lambda_runtime::Error>
where
    C: FromVars,
    A: EventHandler,
{
    let app = init(async |sdk, env| wire(&sdk, C::from_vars(&ProcessEnv)?, env).await).await?;
    serve(|event| app.handle(event)).await
}

/// The whole of an HTTP function's `main`, as [`run`].
#[cfg(feature = "http")]
pub async fn run_http<C, A>(
    wire: impl AsyncFnOnce(&SdkConfig, C, Env) -> Result<A, HandlerError>,
) -> Result<(), lambda_runtime::Error>
where
    C: FromVars,
    A: HttpHandler + Sync,
{
    let app = init(async |sdk, env| wire(&sdk, C::from_vars(&ProcessEnv)?, env).await).await?;
    serve_http(|request| app.handle(request)).await
}

/// Telemetry, the SDK configuration and the system environment, then `wire`. A failure (a
/// missing or out-of-range setting is `InvalidConfig`) is posted to the runtime API's
/// `/init/error` with its class, so Lambda and the dead-letter handler see `InvalidConfig`, not
/// "exit status 1"; then the process ends.
pub async fn init<A>(
    wire: impl AsyncFnOnce(SdkConfig, Env) -> Result<A, HandlerError>,
) -> Result<A, lambda_runtime::Error> {
    crate::telemetry::init();
    let wired = async {
        // A bad SDK setting fails the cold start, named.
        let sdk = crate::aws::load_sdk_config(&ProcessEnv).await?;
        wire(sdk, Env::system()).await
    };
    match wired.await {
        Ok(app) => Ok(app),
        Err(error) => {
            tracing::error!(error_type = error.error_type(), error = %error.message, "init failed");
            if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") {
                if let Err(e) = report_init_error(&api, &error).await {
                    tracing::error!(error = %e, "reporting the init error to the runtime API failed");
                }
            }
            Err(Box::new(error))
        }
    }
}

/// `POST /2018-06-01/runtime/init/error` on the runtime API (`host:port`, plain HTTP/1.1).
pub async fn report_init_error(api: &str, error: &HandlerError) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = serde_json::json!({
        "errorType": error.error_type(),
        "errorMessage": error.message,
    })
    .to_string();
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\n\
         Lambda-Runtime-Function-Error-Type: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        error.error_type(),
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(api).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let status_line = String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    if status_line.split_whitespace().nth(1) == Some("202") {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "the runtime API answered {status_line:?}"
        )))
    }
}

/// Serves events: each payload reaches `handle` as JSON, which it parses with
/// [`crate::event::parse`] into its typed event.
pub async fn serve<F, Fut, R>(handle: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(LambdaEvent<Value>) -> Fut,
    Fut: Future<Output = Result<R, HandlerError>>,
    R: Serialize,
{
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        // Boxed: a function's whole run is a deep future, and the runtime nests it further.
        let answer = Box::pin(handle(event));
        async move { to_json(answer.await?) }
    }))
    .await
}

/// The handler's answer as JSON; an answer that cannot be serialised is a bug.
fn to_json<R: Serialize>(answer: R) -> Result<Value, HandlerError> {
    serde_json::to_value(answer).map_err(|e| {
        HandlerError::new(ErrorClass::Internal, format!("serialising the answer: {e}"))
    })
}

/// Serves API Gateway (REST or HTTP API) requests: the payload is parsed into the request type
/// through [`crate::event::parse`] (`InvalidEvent` when it is not one), `handle` answers it, and
/// the answer goes back in the shape the request's origin expects.
#[cfg(feature = "http")]
pub async fn serve_http<F, Fut>(handle: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(lambda_http::Request) -> Fut + Sync,
    Fut: Future<Output = lambda_http::Response<lambda_http::Body>> + Send,
{
    serve(|event: LambdaEvent<Value>| crate::http::answer(event, &handle)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A stand-in runtime API that accepts one request and hands back what it received.
    async fn one_request(answer: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = listener.local_addr().unwrap().to_string();
        let received = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buffer = vec![0u8; 4096];
            let mut request = Vec::new();
            loop {
                let n = stream.read(&mut buffer).await.unwrap();
                request.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
            }
            stream.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&request).into_owned()
        });
        (api, received)
    }

    #[tokio::test]
    async fn an_init_failure_reaches_the_runtime_api_with_its_class() {
        let (api, received) =
            one_request("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n").await;
        let error: HandlerError = crate::config::ConfigError::Missing {
            name: "STATE_TABLE".into(),
        }
        .into();
        report_init_error(&api, &error).await.unwrap();
        let request = received.await.unwrap();
        assert!(
            request.starts_with("POST /2018-06-01/runtime/init/error HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(
            request.contains("\r\nLambda-Runtime-Function-Error-Type: InvalidConfig\r\n"),
            "{request}"
        );
        let body: Value = serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "errorType": "InvalidConfig",
                "errorMessage": "missing environment variable STATE_TABLE"
            })
        );
    }

    #[tokio::test]
    async fn a_refused_report_is_an_error() {
        let (api, _received) =
            one_request("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n").await;
        let error = HandlerError::new(ErrorClass::InvalidConfig, "x");
        assert!(report_init_error(&api, &error).await.is_err());
    }
}
