//! The HTTP side: `POST /publish` drives the robot, `GET /` serves the drive page, `OPTIONS`
//! answers CORS preflights. Every answer carries the CORS headers.

use chrono::Duration;
use lambda_http::http::header::HeaderValue;
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::json;

use fleet_core::http::{
    add_cors, error, json_response, not_allowed, respond, route, Route, Routed,
};
use fleet_core::HttpHandler;

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

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Page,
    Publish,
}

const ROUTES: [Route<Endpoint>; 2] = [
    Route {
        path: "",
        methods: &[Method::GET, Method::HEAD],
        allow: "GET, HEAD, OPTIONS",
        target: Endpoint::Page,
    },
    Route {
        path: "/publish",
        methods: &[Method::POST],
        allow: "POST, OPTIONS",
        target: Endpoint::Publish,
    },
];

impl<P: Publisher, S: Sequence, C: Clock> HttpHandler for App<P, S, C> {
    async fn handle(&self, request: Request) -> Response<Body> {
        let mut response = if request.method() == Method::OPTIONS {
            respond(StatusCode::NO_CONTENT, "text/plain", Body::Empty)
        } else {
            match route(&ROUTES, &request) {
                Routed::Found(Endpoint::Page) => {
                    respond(StatusCode::OK, "text/html; charset=utf-8", DRIVE_PAGE)
                }
                Routed::Found(Endpoint::Publish) => self.publish(request.body().as_ref()).await,
                Routed::MethodNotAllowed(allow) => not_allowed(allow),
                Routed::NotFound => error(
                    StatusCode::NOT_FOUND,
                    "not found: use POST /publish or GET /",
                ),
            }
        };
        add_cors(
            &mut response,
            &self.settings.allowed_origin,
            "GET, POST, OPTIONS",
            "Content-Type, X-Api-Key",
        );
        response
    }
}

impl<P: Publisher, S: Sequence, C: Clock> App<P, S, C> {
    async fn publish(&self, body: &[u8]) -> Response<Body> {
        let command = match DriveCommand::parse(body) {
            Ok(command) => command,
            Err(e) => {
                tracing::warn!(reason = %e, "drive command refused");
                return error(StatusCode::BAD_REQUEST, &e.0);
            }
        };
        let now = self.clock.now();
        // No number, no command: a command the robot cannot order must not be sent.
        let sequence = match self.sequence.next().await {
            Ok(sequence) => sequence,
            Err(e) => {
                tracing::error!(error_type = e.class.as_str(), error = %e, action = command.action.as_str(), "no sequence number; the drive command was not published");
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the command could not be numbered; try again",
                );
            }
        };
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
