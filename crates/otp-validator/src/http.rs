//! `POST /otp/send`, `POST /otp/verify`, `POST /mfa/verify`. Unknown users get the same answers
//! as known ones after the same work (a send is queued whoever it is for); refusals say when to
//! retry, not why in detail. Every call is charged to its caller: the IAM principal API Gateway
//! authenticated, keyed on its role or user ARN (never its session name).

use lambda_http::http::header::{HeaderValue, RETRY_AFTER};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};

use fleet_core::http::{error, json_response as respond, not_allowed, route, Route, Routed};
use fleet_core::Classified;
use fleet_core::HttpHandler;
use fleet_otp::{MfaOutcome, OtpService, SendOutcome, VerifyOutcome};

use crate::ports::{CodeQueue, QueuedRequest};

pub const MAX_BODY_BYTES: usize = 4096;

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Send,
    Verify,
    Mfa,
}

const ROUTES: [Route<Endpoint>; 3] = [
    Route {
        path: "/otp/send",
        methods: &[Method::POST],
        allow: "POST",
        target: Endpoint::Send,
    },
    Route {
        path: "/otp/verify",
        methods: &[Method::POST],
        allow: "POST",
        target: Endpoint::Verify,
    },
    Route {
        path: "/mfa/verify",
        methods: &[Method::POST],
        allow: "POST",
        target: Endpoint::Mfa,
    },
];

fn bad_request(message: String) -> Response<Body> {
    error(StatusCode::BAD_REQUEST, &message)
}

/// 429 with `Retry-After` in whole seconds (rounded up).
fn too_many(retry_after: chrono::Duration, mut body: Value) -> Response<Body> {
    let seconds = (retry_after.num_milliseconds().max(0) + 999) / 1000;
    body["retry_after_seconds"] = seconds.into();
    let mut response = respond(StatusCode::TOO_MANY_REQUESTS, body);
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

/// 503, the same for every failure and every user: the log says what failed.
fn failed(e: &(impl Classified + std::fmt::Display)) -> Response<Body> {
    tracing::error!(error_type = e.class().as_str(), error = %e, "request failed");
    respond(
        StatusCode::SERVICE_UNAVAILABLE,
        json!({ "error": "temporarily unavailable; try again" }),
    )
}

/// The request's fields, each checked; messages name the field.
struct Fields(Map<String, Value>);

impl Fields {
    fn parse(body: &[u8], allowed: &[&str]) -> Result<Self, String> {
        fleet_core::body::json_object(body, MAX_BODY_BYTES, allowed, None).map(Self)
    }

    fn text(
        &self,
        name: &str,
        max_chars: usize,
        allowed: impl Fn(char) -> bool,
    ) -> Result<&str, String> {
        match self.0.get(name) {
            None => Err(format!("missing field {name:?}")),
            Some(Value::String(s)) if s.is_empty() => Err(format!("{name:?} must not be empty")),
            Some(Value::String(s)) if s.chars().count() > max_chars => {
                Err(format!("{name:?} is longer than {max_chars} characters"))
            }
            Some(Value::String(s)) if !s.chars().all(&allowed) => {
                Err(format!("{name:?} has characters that are not allowed"))
            }
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(format!("{name:?} must be a string, not {}", kind(other))),
        }
    }

    fn user(&self) -> Result<&str, String> {
        self.text("user", 128, |c| !c.is_control())
    }

    fn purpose(&self) -> Result<&str, String> {
        self.text("purpose", 64, |c| {
            c.is_ascii_alphanumeric() || "-_.:".contains(c)
        })
    }

    /// Digits only; a wrong length is a wrong code, answered 401 like any other.
    fn digits(&self, name: &str) -> Result<&str, String> {
        self.text(name, 16, |c| c.is_ascii_digit())
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The principal a request is charged to: an assumed role's ARN without its session name
/// (`…:assumed-role/Role/session` → `…:assumed-role/Role`), an IAM user's ARN as it is.
pub fn caller_principal(user_arn: &str) -> String {
    const ROLE: &str = ":assumed-role/";
    match user_arn.find(ROLE) {
        Some(at) => {
            let role_and_session = &user_arn[at + ROLE.len()..];
            let role = role_and_session.split('/').next().unwrap_or_default();
            format!("{}{ROLE}{role}", &user_arn[..at])
        }
        None => user_arn.to_owned(),
    }
}

/// The authenticated caller of a REST API request (IAM authorization), if any.
fn caller(request: &Request) -> Option<String> {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(c)) => c
            .identity
            .user_arn
            .as_deref()
            .filter(|arn| arn.starts_with("arn:"))
            .map(caller_principal),
        _ => None,
    }
}

/// The function: the OTP service behind three routes; code requests go to the delivery queue.
pub struct App<O, Q> {
    pub otp: O,
    pub queue: Q,
}

impl<O: OtpService, Q: CodeQueue> HttpHandler for App<O, Q> {
    async fn handle(&self, request: Request) -> Response<Body> {
        let endpoint = match route(&ROUTES, &request) {
            Routed::Found(endpoint) => endpoint,
            Routed::MethodNotAllowed(allow) => return not_allowed(allow),
            Routed::NotFound => return error(StatusCode::NOT_FOUND, "not found"),
        };
        // API Gateway authenticates every call (AWS_IAM); without an identity there is nobody
        // to charge, so nothing is done.
        let Some(caller) = caller(&request) else {
            tracing::warn!("request without an IAM caller refused");
            return error(
                StatusCode::FORBIDDEN,
                "call with IAM (SigV4) credentials: the caller's identity is missing",
            );
        };
        let body = request.body().as_ref();
        let result = match endpoint {
            Endpoint::Send => self.send(&caller, body).await,
            Endpoint::Verify => self.verify(&caller, body).await,
            Endpoint::Mfa => self.mfa(&caller, body).await,
        };
        result.unwrap_or_else(bad_request)
    }
}

impl<O: OtpService, Q: CodeQueue> App<O, Q> {
    /// Charged to the caller and queued, whoever the user is: the answer and the work are the
    /// same for a known and an unknown user, and an SMS failure later changes neither.
    async fn send(&self, caller: &str, body: &[u8]) -> Result<Response<Body>, String> {
        let fields = Fields::parse(body, &["user", "purpose"])?;
        let (user, purpose) = (fields.user()?, fields.purpose()?);
        match self.otp.request_code(caller, user, purpose).await {
            Ok(SendOutcome::Sent) => {}
            Ok(SendOutcome::Limited { retry_after }) => {
                return Ok(too_many(
                    retry_after,
                    json!({ "error": "too many codes requested; try again later" }),
                ))
            }
            Err(e) => return Ok(failed(&e)),
        }
        let queued = QueuedRequest {
            user: user.to_owned(),
            purpose: purpose.to_owned(),
        };
        Ok(match self.queue.enqueue(&queued).await {
            Ok(()) => respond(StatusCode::ACCEPTED, json!({ "status": "accepted" })),
            Err(e) => failed(&e),
        })
    }

    async fn verify(&self, caller: &str, body: &[u8]) -> Result<Response<Body>, String> {
        let fields = Fields::parse(body, &["user", "purpose", "code"])?;
        let (user, purpose, code) = (fields.user()?, fields.purpose()?, fields.digits("code")?);
        Ok(
            match self.otp.verify_code(caller, user, purpose, code).await {
                Ok(VerifyOutcome::Valid) => respond(StatusCode::OK, json!({ "valid": true })),
                Ok(VerifyOutcome::Invalid) => {
                    respond(StatusCode::UNAUTHORIZED, json!({ "valid": false }))
                }
                Ok(VerifyOutcome::Locked { retry_after }) => too_many(
                    retry_after,
                    json!({ "valid": false, "error": "too many attempts; try again later" }),
                ),
                Err(e) => failed(&e),
            },
        )
    }

    async fn mfa(&self, caller: &str, body: &[u8]) -> Result<Response<Body>, String> {
        let fields = Fields::parse(body, &["user", "token"])?;
        let (user, token) = (fields.user()?, fields.digits("token")?);
        Ok(match self.otp.verify_mfa(caller, user, token).await {
            Ok(MfaOutcome::Valid) => respond(StatusCode::OK, json!({ "valid": true })),
            Ok(MfaOutcome::Invalid) => respond(StatusCode::UNAUTHORIZED, json!({ "valid": false })),
            Ok(MfaOutcome::Locked { retry_after }) => too_many(
                retry_after,
                json!({ "valid": false, "error": "too many attempts; try again later" }),
            ),
            Ok(MfaOutcome::Unavailable) => respond(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "valid": false, "error": "the MFA check is unavailable; try again" }),
            ),
            Err(e) => failed(&e),
        })
    }
}
