//! Local scenarios: the drive page behind a loopback HTTP server for the browser test and the demo.
//! Seeding helpers live in the test kit (`fleet_testkit::seed`).

pub use fleet_testkit::seed::*;

use fleet_core::HttpHandler;

/// The robot publisher's handler behind a real HTTP socket on loopback, for the browser test and
/// the local drive page: each request becomes a `lambda_http::Request`, as API Gateway would send.
pub struct DriveServer {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DriveServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type DriveApp<P, S, C> = robot_publisher::App<P, S, C>;

pub async fn drive_server<P, S, C>(app: DriveApp<P, S, C>) -> DriveServer
where
    P: robot_publisher::ports::Publisher + 'static,
    S: robot_publisher::ports::Sequence + 'static,
    C: fleet_core::Clock + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("binding the drive server: {e}"));
    let address = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("drive server address: {e}"));
    let app = std::sync::Arc::new(app);
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let app = app.clone();
            tokio::spawn(async move {
                // A broken connection only ends that connection.
                let _ = serve_one(stream, &app).await;
            });
        }
    });
    DriveServer {
        url: format!("http://{address}"),
        task,
    }
}

/// One HTTP/1.1 request and its answer; the connection is closed after it.
async fn serve_one<P, S, C>(
    mut stream: tokio::net::TcpStream,
    app: &DriveApp<P, S, C>,
) -> std::io::Result<()>
where
    P: robot_publisher::ports::Publisher,
    S: robot_publisher::ports::Sequence,
    C: fleet_core::Clock,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
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
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer[head_end..].to_vec();
    let mut request = lambda_http::Request::new(if body.is_empty() {
        lambda_http::Body::Empty
    } else {
        lambda_http::Body::Binary(body)
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
    let response = app.handle(request).await;
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status().as_u16(),
        response.status().canonical_reason().unwrap_or("")
    );
    for (name, value) in response.headers() {
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
    stream.write_all(body).await?;
    stream.shutdown().await
}
