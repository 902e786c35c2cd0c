//! The HTTP side: `POST /publish` drives the robot, `GET /` serves the drive page, `OPTIONS`
//! answers CORS preflights. Every answer carries the CORS headers.

use chrono::Duration;
use lambda_http::http::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;

use crate::command::{DriveCommand, DrivePayload};
use crate::ports::{Publisher, Sequence};
use fleet_core::Clock;

/// The drive page: buttons and arrow keys → `POST publish`, each answer shown.
pub const DRIVE_PAGE: &str = include_str!("drive.html");

#[derive(Debug, Clone)]
pub struct Settings {
    pub robot_name: String,
    /// `Access-Control-Allow-Origin`.
    pub allowed_origin: HeaderValue,
    /// How long a command stays valid for the robot.
    pub command_ttl: Duration,
}

impl Settings {
    /// The topic the robot subscribes to.
    pub fn topic(&self) -> String {
        format!("{}/action", self.robot_name)
    }
}

pub struct App<P, S, C> {
    pub publisher: P,
    pub sequence: S,
    pub clock: C,
    pub settings: Settings,
}

enum Route {
    Page,
    Publish,
    Unknown,
}

fn route(request: &Request) -> Route {
    // API Gateway's path without the stage; a request built by hand has only its URI.
    let raw = request.raw_http_path();
    let path = if raw.is_empty() {
        request.uri().path()
    } else {
        raw
    };
    match path.trim_end_matches('/') {
        "" => Route::Page,
        "/publish" => Route::Publish,
        _ => Route::Unknown,
    }
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Body>,
) -> Response<Body> {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn json_response(status: StatusCode, value: serde_json::Value) -> Response<Body> {
    respond(status, "application/json", value.to_string())
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
    json_response(status, json!({ "error": message }))
}

fn not_allowed(allow: &'static str) -> Response<Body> {
    let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

impl<P: Publisher, S: Sequence, C: Clock> App<P, S, C> {
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let method = request.method().clone();
        let mut response = match (route(&request), &method) {
            (_, &Method::OPTIONS) => respond(StatusCode::NO_CONTENT, "text/plain", Body::Empty),
            (Route::Page, &Method::GET | &Method::HEAD) => {
                respond(StatusCode::OK, "text/html; charset=utf-8", DRIVE_PAGE)
            }
            (Route::Page, _) => not_allowed("GET, HEAD, OPTIONS"),
            (Route::Publish, &Method::POST) => self.publish(request.body().as_ref()).await,
            (Route::Publish, _) => not_allowed("POST, OPTIONS"),
            (Route::Unknown, _) => error(
                StatusCode::NOT_FOUND,
                "not found: use POST /publish or GET /",
            ),
        };
        let headers = response.headers_mut();
        headers.insert(
            "access-control-allow-origin",
            self.settings.allowed_origin.clone(),
        );
        headers.insert(
            "access-control-allow-methods",
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        headers.insert(
            "access-control-allow-headers",
            HeaderValue::from_static("Content-Type, X-Api-Key"),
        );
        headers.insert("access-control-max-age", HeaderValue::from_static("600"));
        response
    }

    async fn publish(&self, body: &[u8]) -> Response<Body> {
        let command = match DriveCommand::parse(body) {
            Ok(command) => command,
            Err(e) => {
                tracing::warn!(reason = %e, "drive command refused");
                return error(StatusCode::BAD_REQUEST, &e.0);
            }
        };
        let now = self.clock.now();
        let sequence = self.sequence.next(now);
        let payload = DrivePayload::new(command, sequence, now, self.settings.command_ttl);
        let topic = self.settings.topic();
        match self.publisher.publish(&topic, payload.to_bytes()).await {
            Ok(()) => {
                tracing::info!(topic = %topic, action = command.action.as_str(), speed = command.speed, duration_ms = command.duration_ms, sequence, "drive command published");
                json_response(
                    StatusCode::ACCEPTED,
                    json!({ "topic": topic, "sequence": sequence, "expires_at": payload.expires_at }),
                )
            }
            Err(e) => {
                tracing::error!(topic = %topic, code = %e.code, message = %e.message, sequence, "publishing the drive command failed");
                error(
                    StatusCode::BAD_GATEWAY,
                    "the robot's IoT topic could not be reached; try again",
                )
            }
        }
    }
}
