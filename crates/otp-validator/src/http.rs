//! `POST /otp/send`, `POST /otp/verify`, `POST /mfa/verify`. Unknown users get the same answers
//! as known ones; refusals say when to retry, not why in detail.

use lambda_http::http::header::{HeaderValue, RETRY_AFTER};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};

use fleet_core::http::{error, json_response as respond, not_allowed, route, Route, Routed};
use fleet_core::Classified;
use fleet_core::HttpHandler;
use fleet_otp::{MfaOutcome, OtpError, OtpService, SendOutcome, VerifyOutcome};

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

fn failed(e: &OtpError) -> Response<Body> {
    tracing::error!(error_type = e.class().as_str(), error = %e, "request failed");
    let status = match e {
        OtpError::Sms(_) => StatusCode::BAD_GATEWAY,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    respond(
        status,
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

/// The function: the OTP service behind three routes.
pub struct App<O> {
    pub otp: O,
}

impl<O: OtpService> HttpHandler for App<O> {
    async fn handle(&self, request: Request) -> Response<Body> {
        let endpoint = match route(&ROUTES, &request) {
            Routed::Found(endpoint) => endpoint,
            Routed::MethodNotAllowed(allow) => return not_allowed(allow),
            Routed::NotFound => return error(StatusCode::NOT_FOUND, "not found"),
        };
        let body = request.body().as_ref();
        let result = match endpoint {
            Endpoint::Send => self.send(body).await,
            Endpoint::Verify => self.verify(body).await,
            Endpoint::Mfa => self.mfa(body).await,
        };
        result.unwrap_or_else(bad_request)
    }
}

impl<O: OtpService> App<O> {
    async fn send(&self, body: &[u8]) -> Result<Response<Body>, String> {
        let fields = Fields::parse(body, &["user", "purpose"])?;
        let (user, purpose) = (fields.user()?, fields.purpose()?);
        Ok(match self.otp.send_code(user, purpose).await {
            Ok(SendOutcome::Sent) => respond(StatusCode::ACCEPTED, json!({ "status": "sent" })),
            Ok(SendOutcome::Limited { retry_after }) => too_many(
                retry_after,
                json!({ "error": "too many codes requested; try again later" }),
            ),
            Err(e) => failed(&e),
        })
    }

    async fn verify(&self, body: &[u8]) -> Result<Response<Body>, String> {
        let fields = Fields::parse(body, &["user", "purpose", "code"])?;
        let (user, purpose, code) = (fields.user()?, fields.purpose()?, fields.digits("code")?);
        Ok(match self.otp.verify_code(user, purpose, code).await {
            Ok(VerifyOutcome::Valid) => respond(StatusCode::OK, json!({ "valid": true })),
            Ok(VerifyOutcome::Invalid) => {
                respond(StatusCode::UNAUTHORIZED, json!({ "valid": false }))
            }
            Ok(VerifyOutcome::Locked { retry_after }) => too_many(
                retry_after,
                json!({ "valid": false, "error": "too many attempts; try again later" }),
            ),
            Err(e) => failed(&e),
        })
    }

    async fn mfa(&self, body: &[u8]) -> Result<Response<Body>, String> {
        let fields = Fields::parse(body, &["user", "token"])?;
        let (user, token) = (fields.user()?, fields.digits("token")?);
        Ok(match self.otp.verify_mfa(user, token).await {
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
