//! Test kit (dev-dependency only): a private moto server per test, `events/` loading, and
//! read-back of what the code under test sent.
//!
//! Each [`Moto`] is its own `moto_server` process on a free loopback port, so tests never share
//! state and may run in parallel. The server comes from the project's virtualenv (`make setup`),
//! or from `MOTO_SERVER` when set.

pub mod alexa_model;
pub mod approval;
pub mod faults;
pub mod http_server;
pub mod moto_api;
pub mod seed;
pub mod ses;
pub mod sqs;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod runtime;

pub const REGION: &str = "eu-west-1";
/// moto's default account.
pub const ACCOUNT_ID: &str = "123456789012";

/// The workspace root (where `events/` and `.venv/` live).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Reads `events/<relative>` as JSON.
pub fn load_event(relative: &str) -> Value {
    let path = workspace_root().join("events").join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Every `*.json` under `events/<dir>`, sorted, as paths relative to `events/`.
pub fn event_files(dir: &str) -> Vec<String> {
    let root = workspace_root().join("events");
    let mut files: Vec<String> = std::fs::read_dir(root.join(dir))
        .unwrap_or_else(|e| panic!("listing events/{dir}: {e}"))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| {
            p.strip_prefix(&root)
                .ok()
                .map(|p| p.to_string_lossy().into_owned())
        })
        .collect();
    files.sort();
    files
}

fn moto_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let venv = workspace_root().join(".venv/bin/moto_server");
    assert!(
        venv.exists(),
        "moto_server not found at {}: run `make setup` (or set MOTO_SERVER)",
        venv.display()
    );
    venv
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

/// A running moto server, killed on drop.
pub struct Moto {
    child: Child,
    endpoint: String,
    agent: ureq::Agent,
    /// This server's request-recorder file, removed with the server.
    recording: PathBuf,
}

impl Moto {
    /// Starts a fresh server and waits until it answers.
    pub fn start() -> Moto {
        let port = free_port();
        // The request recorder writes to a file (default `moto_recording` in the working
        // directory): one per server, so parallel tests never read each other's requests.
        let recording =
            std::env::temp_dir().join(format!("moto-recording-{}-{port}", std::process::id()));
        let _ = std::fs::remove_file(&recording);
        let child = Command::new(moto_server_binary())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting moto_server: {e}"));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            agent,
            recording,
        };
        let started = Instant::now();
        while moto
            .agent
            .get(&moto.url("/moto-api/data.json"))
            .call()
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto_server did not start within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint)
    }

    /// SDK config pointed at this server, with dummy credentials.
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                    "testing",
                    "testing",
                    None,
                    None,
                    "fleet-testkit",
                )),
            )
            .build()
    }

    /// Environment for a child process (the CLI, `cargo lambda`) to use this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", REGION.into()),
            ("AWS_DEFAULT_REGION", REGION.into()),
        ]
    }

    fn get_json(&self, path: &str) -> Value {
        let mut response = self
            .agent
            .get(&self.url(path))
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        // data.json holds every service's state (EC2's AMI catalogue alone is over 10 MB).
        response
            .body_mut()
            .with_config()
            .limit(512 * 1024 * 1024)
            .read_json()
            .unwrap_or_else(|e| panic!("GET {path} did not return JSON: {e}"))
    }

    fn post(&self, path: &str, body: &Value) -> String {
        let mut response = self
            .agent
            .post(&self.url(path))
            .send_json(body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        assert!(
            response.status().is_success(),
            "POST {path}: {}",
            response.status()
        );
        response.body_mut().read_to_string().unwrap_or_default()
    }

    /// Clears every service's state.
    pub fn reset(&self) {
        self.post("/moto-api/reset", &Value::Null);
    }

    /// moto's configuration API, e.g. `{"stepfunctions":{"execute_state_machine":true}}`.
    pub fn configure(&self, config: Value) {
        self.post("/moto-api/config", &config);
    }

    /// Everything moto holds that its data API exposes (SNS messages, SMS, SES mail, ...).
    pub fn data(&self) -> Value {
        self.get_json("/moto-api/data.json")
    }

    /// Messages published to SNS topics: (topic ARN, subject, message).
    pub fn sns_messages(&self) -> Vec<SnsMessage> {
        let data = self.data();
        let mut out = Vec::new();
        // {"sns": {"Topic": [{"arn": ..., "sent_notifications": [[id, message, subject, attributes, group], ...]}]}}
        if let Some(topics) = data.pointer("/sns/Topic").and_then(Value::as_array) {
            for topic in topics {
                let arn = topic.get("arn").and_then(Value::as_str).unwrap_or_default();
                for n in topic
                    .get("sent_notifications")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    out.push(SnsMessage {
                        topic_arn: arn.to_owned(),
                        message: n
                            .get(1)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        subject: n.get(2).and_then(Value::as_str).map(str::to_owned),
                    });
                }
            }
        }
        out
    }

    /// Text messages sent with SNS `Publish(PhoneNumber)`: (phone number, message).
    pub fn sms_messages(&self) -> Vec<(String, String)> {
        let data = self.data();
        data.pointer("/sns/SMS")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|m| {
                let field = |name: &str| {
                    m.get(name)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                (field("phone_number"), field("message"))
            })
            .collect()
    }

    /// Starts moto's request recorder (clears what it had).
    pub fn start_recording(&self) {
        self.post("/moto-api/recorder/reset-recording", &Value::Null);
        self.post("/moto-api/recorder/start-recording", &Value::Null);
    }

    /// The operation of every request recorded since [`Moto::start_recording`] that names one.
    pub fn recorded_operations(&self) -> Vec<String> {
        self.recorded_requests()
            .iter()
            .filter_map(RecordedRequest::operation)
            .collect()
    }

    /// Every request recorded since [`Moto::start_recording`], bodies decoded.
    pub fn recorded_requests(&self) -> Vec<RecordedRequest> {
        use base64::Engine;
        let mut response = self
            .agent
            .get(&self.url("/moto-api/recorder/download-recording"))
            .call()
            .unwrap_or_else(|e| panic!("downloading the recording: {e}"));
        let text = response.body_mut().read_to_string().unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|r| {
                let field = |name: &str| r.get(name).and_then(Value::as_str).unwrap_or_default();
                let body = if r.get("body_encoded").and_then(Value::as_bool) == Some(true) {
                    base64::engine::general_purpose::STANDARD
                        .decode(field("body"))
                        .unwrap_or_else(|e| panic!("recorded body: {e}"))
                } else {
                    field("body").as_bytes().to_vec()
                };
                let headers = r
                    .get("headers")
                    .and_then(Value::as_object)
                    .map(|h| {
                        h.iter()
                            .map(|(k, v)| {
                                (
                                    k.to_ascii_lowercase(),
                                    v.as_str().unwrap_or_default().to_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                RecordedRequest {
                    method: field("method").to_owned(),
                    url: field("url").to_owned(),
                    headers,
                    body,
                }
            })
            .collect()
    }
}

/// (topic, QoS, payload) of every iot-data Publish in `recorded`, in order.
pub fn iot_publishes(recorded: &[RecordedRequest]) -> Vec<(String, u8, Vec<u8>)> {
    recorded
        .iter()
        .filter(|r| r.method == "POST" && r.url.contains("/topics/"))
        .map(|r| {
            let (path, query) = r.url.split_once('?').unwrap_or((&r.url, ""));
            let topic = path
                .rsplit("/topics/")
                .next()
                .unwrap_or_default()
                .replace("%2F", "/");
            let qos = query
                .split('&')
                .find_map(|p| p.strip_prefix("qos="))
                .and_then(|q| q.parse().ok())
                .unwrap_or(0);
            (topic, qos, r.body.clone())
        })
        .collect()
}

/// One request as moto's recorder saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// With the query string, percent-encoded as sent.
    pub url: String,
    /// Lower-case names.
    pub headers: std::collections::BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The operation: the JSON protocols' `X-Amz-Target` suffix (`UpdateItem`, `SendTaskSuccess`)
    /// or the query protocol's `Action` (EC2, SNS); `None` for REST protocols (S3, IoT data).
    pub fn operation(&self) -> Option<String> {
        if let Some(target) = self.headers.get("x-amz-target") {
            return target.rsplit('.').next().map(str::to_owned);
        }
        let body = String::from_utf8_lossy(&self.body);
        let query = self.url.split_once('?').map_or("", |(_, q)| q);
        body.split('&')
            .chain(query.split('&'))
            .find_map(|p| p.strip_prefix("Action="))
            .map(str::to_owned)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.recording);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsMessage {
    pub topic_arn: String,
    pub subject: Option<String>,
    pub message: String,
}
