//! The HTTP functions' shared pieces: the API Gateway boundary, routing with `405` + `Allow`,
//! JSON answers and CORS headers.

use lambda_http::http::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use lambda_http::http::{Method, StatusCode};
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Request, RequestExt, Response};
use lambda_runtime::{LambdaEvent, Service};
use serde_json::{json, Value};
use std::future::Future;

use crate::error::HandlerError;

/// The request's path without API Gateway's stage, without a trailing `/` (`""` is the root). A
/// request built by hand (a test, the local drive server) has only its URI.
pub fn path(request: &Request) -> String {
    let raw = request.raw_http_path();
    let path = if raw.is_empty() {
        request.uri().path()
    } else {
        raw
    };
    path.trim_end_matches('/').to_owned()
}

/// A route: a path, the methods it answers, and what the function does there.
#[derive(Debug, Clone, Copy)]
pub struct Route<T> {
    pub path: &'static str,
    pub methods: &'static [Method],
    /// The `Allow` header of a 405 on this path.
    pub allow: &'static str,
    pub target: T,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routed<T> {
    Found(T),
    /// The path exists, not for this method: answer [`not_allowed`] with this `Allow`.
    MethodNotAllowed(&'static str),
    NotFound,
}

pub fn route<T: Copy>(routes: &[Route<T>], request: &Request) -> Routed<T> {
    let path = path(request);
    match routes.iter().find(|r| r.path == path) {
        None => Routed::NotFound,
        Some(r) if r.methods.contains(request.method()) => Routed::Found(r.target),
        Some(r) => Routed::MethodNotAllowed(r.allow),
    }
}

/// An answer with a body and its content type.
pub fn respond(
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

/// A JSON answer.
pub fn json_response(status: StatusCode, value: Value) -> Response<Body> {
    respond(status, "application/json", value.to_string())
}

/// `{"error": message}`.
pub fn error(status: StatusCode, message: &str) -> Response<Body> {
    json_response(status, json!({ "error": message }))
}

/// 405 with the methods the path does answer.
pub fn not_allowed(allow: &'static str) -> Response<Body> {
    let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

/// CORS headers for a browser page served from another origin.
pub fn add_cors(
    response: &mut Response<Body>,
    origin: &HeaderValue,
    methods: &'static str,
    headers: &'static str,
) {
    let h = response.headers_mut();
    h.insert("access-control-allow-origin", origin.clone());
    h.insert(
        "access-control-allow-methods",
        HeaderValue::from_static(methods),
    );
    h.insert(
        "access-control-allow-headers",
        HeaderValue::from_static(headers),
    );
    h.insert("access-control-max-age", HeaderValue::from_static("600"));
}

/// One API Gateway invocation: the payload parsed as a REST or HTTP API request (`InvalidEvent`
/// when it is neither), answered by `handle`, the answer shaped for the request's origin.
pub async fn answer<F, Fut>(event: LambdaEvent<Value>, handle: &F) -> Result<Value, HandlerError>
where
    F: Fn(Request) -> Fut + Sync,
    Fut: Future<Output = Response<Body>> + Send,
{
    let LambdaEvent { payload, context } = event;
    let request: LambdaRequest = crate::event::parse(payload, "an API Gateway request")?;
    let mut adapter =
        lambda_http::Adapter::from(lambda_runtime::service_fn(|request: Request| async {
            Ok::<_, std::convert::Infallible>(handle(request).await)
        }));
    let response = match adapter.call(LambdaEvent::new(request, context)).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    serde_json::to_value(response).map_err(|e| {
        HandlerError::new(
            crate::ErrorClass::Internal,
            format!("serialising the answer: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTES: [Route<u8>; 2] = [
        Route {
            path: "",
            methods: &[Method::GET, Method::HEAD],
            allow: "GET, HEAD",
            target: 1,
        },
        Route {
            path: "/publish",
            methods: &[Method::POST],
            allow: "POST",
            target: 2,
        },
    ];

    fn request(method: Method, uri: &str) -> Request {
        let mut request = Request::new(Body::Empty);
        *request.method_mut() = method;
        *request.uri_mut() = uri.parse().unwrap();
        request
    }

    #[test]
    fn routes_paths_and_methods() {
        assert_eq!(route(&ROUTES, &request(Method::GET, "/")), Routed::Found(1));
        assert_eq!(
            route(&ROUTES, &request(Method::POST, "/publish/")),
            Routed::Found(2)
        );
        assert_eq!(
            route(&ROUTES, &request(Method::GET, "/publish")),
            Routed::MethodNotAllowed("POST")
        );
        assert_eq!(
            route(&ROUTES, &request(Method::GET, "/nope")),
            Routed::NotFound
        );
        let response = not_allowed("POST");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[ALLOW], "POST");
    }

    #[tokio::test]
    async fn a_payload_that_is_no_api_gateway_request_is_invalid_event() {
        let event = LambdaEvent::new(json!({"hello": 1}), lambda_runtime::Context::default());
        let err = answer(event, &|_r: Request| async { error(StatusCode::OK, "x") })
            .await
            .unwrap_err();
        assert_eq!(err.class, crate::ErrorClass::InvalidEvent);
        assert!(
            err.message.starts_with("not an API Gateway request"),
            "{}",
            err.message
        );
    }
}
