//! Any API Gateway handler behind a real HTTP socket on loopback, for browser tests and local
//! pages: each request becomes a `lambda_http::Request` as API Gateway's HTTP API would send it
//! (method, path and query, headers, body, and a request context carrying the caller's address).
//!
//! ```ignore
//! let app = std::sync::Arc::new(app);
//! let server = fleet_testkit::http_server::serve(move |request| {
//!     let app = app.clone();
//!     async move { app.handle(request).await }
//! })
//! .await;
//! // open format!("{}/approvals/…", server.url)
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A running server; stopped on drop.
pub struct HttpServer {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Bodies above this are refused with 413 (a test server, not a proxy).
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Serves `handler` on a free loopback port until the returned server is dropped. Needs a tokio
/// runtime; one connection per request (`connection: close`).
pub async fn serve<F, Fut>(handler: F) -> HttpServer
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("binding the test HTTP server: {e}"));
    let address = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("test HTTP server address: {e}"));
    let handler = Arc::new(handler);
    let task = tokio::spawn(async move {
        while let Ok((stream, peer)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                // A broken connection only ends that connection.
                let _ = serve_one(stream, peer, handler.as_ref()).await;
            });
        }
    });
    HttpServer {
        url: format!("http://{address}"),
        task,
    }
}

async fn serve_one<F, Fut>(
    mut stream: tokio::net::TcpStream,
    peer: SocketAddr,
    handler: &F,
) -> std::io::Result<()>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Response<Body>>,
{
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buffer.len() > 64 * 1024 {
            return write_response(&mut stream, &status_only(431), false).await;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut request_line = lines.next().unwrap_or_default().split_whitespace();
    let method = request_line.next().unwrap_or("GET").to_owned();
    let target = request_line.next().unwrap_or("/").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    if length > MAX_BODY_BYTES {
        return write_response(&mut stream, &status_only(413), false).await;
    }
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer[head_end..].to_vec();
    let mut request = Request::new(if body.is_empty() {
        Body::Empty
    } else {
        Body::Binary(body)
    });
    *request.method_mut() = method.parse().unwrap_or_default();
    *request.uri_mut() = target.parse().unwrap_or_default();
    for (name, value) in &headers {
        if let (Ok(name), Ok(value)) = (
            lambda_http::http::HeaderName::from_bytes(name.as_bytes()),
            lambda_http::http::HeaderValue::from_str(value),
        ) {
            request.headers_mut().append(name, value);
        }
    }
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http.method = request.method().clone();
    context.http.path = Some(request.uri().path().to_owned());
    context.http.source_ip = Some(peer.ip().to_string());
    context.http.user_agent = headers
        .iter()
        .find(|(k, _)| k == "user-agent")
        .map(|(_, v)| v.clone());
    context.stage = Some("$default".to_owned());
    let request = request.with_request_context(RequestContext::ApiGatewayV2(context));
    let is_head = request.method() == lambda_http::http::Method::HEAD;
    let response = handler(request).await;
    write_response(&mut stream, &response, is_head).await
}

fn status_only(code: u16) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = lambda_http::http::StatusCode::from_u16(code).unwrap_or_default();
    response
}

async fn write_response(
    stream: &mut tokio::net::TcpStream,
    response: &Response<Body>,
    is_head: bool,
) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status().as_u16(),
        response.status().canonical_reason().unwrap_or("")
    );
    for (name, value) in response.headers() {
        if name == "content-length" || name == "connection" {
            continue;
        }
        out.push_str(&format!(
            "{}: {}\r\n",
            name,
            value.to_str().unwrap_or_default()
        ));
    }
    let body = response.body().as_ref();
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(out.as_bytes()).await?;
    if !is_head {
        stream.write_all(body).await?;
    }
    stream.shutdown().await
}
