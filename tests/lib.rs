//! The example fleet, created in the local stand-in by the emulator tests and the demo.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Tag, TagSpecification};
use std::collections::BTreeMap;

/// One instance of the example fleet.
#[derive(Debug, Clone, Copy)]
pub struct SeedInstance {
    pub name: &'static str,
    pub schedule: &'static str,
    pub running: bool,
    pub termination_protected: bool,
}

const fn seed(name: &'static str, schedule: &'static str, running: bool) -> SeedInstance {
    SeedInstance {
        name,
        schedule,
        running,
        termination_protected: false,
    }
}

/// Twenty instances carrying the tag values of the README's reference.
pub const EXAMPLE_FLEET: [SeedInstance; 20] = [
    seed("web-1", "08:00-19:15", false),
    seed("web-2", "08:00-19:15", true),
    seed("build-agent", "21:00-07:45", true),
    seed("office-ams", "08:00-19:15 Europe/Amsterdam", false),
    seed("office-weekdays", "Mon-Fri 08:00-19:15", false),
    seed("weekend-lab", "Sat,Sun 10:00-12:00", false),
    seed("demo-box", "-08:00", true),
    seed("temp-worker", "-08:00T", true),
    SeedInstance {
        name: "prod-db",
        schedule: "-08:00T",
        running: true,
        termination_protected: true,
    },
    seed("spare-worker", "-08:00T", false),
    seed("typo-box", "9to5", true),
    seed("bad-hour", "25:00-08:00", false),
    seed("paused", "#08:00-19:15", false),
    seed("late-shift", "12:00-20:00", false),
    seed("early-bird", "06:00-14:00", true),
    seed("ny-desk", "08:00-17:00 America/New_York", false),
    seed("tokyo-desk", "Mon-Fri 09:00-18:00 Asia/Tokyo", false),
    seed("midnight-batch", "00:00-06:00", false),
    seed("evening-stop", "-19:15", true),
    seed("friday-night", "Fri 22:00-02:00", false),
];

/// Creates the instances (stopping those meant to be stopped) and returns name → instance id.
pub async fn create_fleet(
    ec2: &aws_sdk_ec2::Client,
    fleet: &[SeedInstance],
) -> BTreeMap<String, String> {
    let mut ids = BTreeMap::new();
    let mut to_stop = Vec::new();
    for spec in fleet {
        let id = launch_instance(
            ec2,
            &[("Name", spec.name), ("Schedule", spec.schedule)],
            None,
        )
        .await;
        if spec.termination_protected {
            ec2.modify_instance_attribute()
                .instance_id(&id)
                .disable_api_termination(AttributeBooleanValue::builder().value(true).build())
                .send()
                .await
                .unwrap_or_else(|e| panic!("protecting {id}: {e}"));
        }
        if !spec.running {
            to_stop.push(id.clone());
        }
        ids.insert(spec.name.to_owned(), id);
    }
    if !to_stop.is_empty() {
        ec2.stop_instances()
            .set_instance_ids(Some(to_stop))
            .send()
            .await
            .unwrap_or_else(|e| panic!("stop_instances: {e}"));
    }
    ids
}

/// Launches one t3.micro with `tags` (in `subnet_id`, or the default VPC) and returns its id.
pub async fn launch_instance(
    ec2: &aws_sdk_ec2::Client,
    tags: &[(&str, &str)],
    subnet_id: Option<&str>,
) -> String {
    let mut request = ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .set_subnet_id(subnet_id.map(str::to_owned));
    if !tags.is_empty() {
        let mut spec = TagSpecification::builder().resource_type(ResourceType::Instance);
        for (key, value) in tags {
            spec = spec.tags(Tag::builder().key(*key).value(*value).build());
        }
        request = request.tag_specifications(spec.build());
    }
    let out = request.send().await.unwrap_or_else(|e| {
        panic!(
            "run_instances: {}",
            aws_sdk_ec2::error::DisplayErrorContext(e)
        )
    });
    out.instances()[0]
        .instance_id()
        .unwrap_or_default()
        .to_owned()
}

/// Current state and tags of every instance, by instance id.
pub async fn instances(
    ec2: &aws_sdk_ec2::Client,
) -> BTreeMap<String, (String, BTreeMap<String, String>)> {
    let mut out = BTreeMap::new();
    let mut pages = ec2.describe_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.unwrap_or_else(|e| panic!("describe_instances: {e}"));
        for i in page.reservations().iter().flat_map(|r| r.instances()) {
            let state = i
                .state()
                .and_then(|s| s.name())
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default();
            let tags = i
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            out.insert(
                i.instance_id().unwrap_or_default().to_owned(),
                (state, tags),
            );
        }
    }
    out
}

/// The scheduler's state table, as the template defines it.
pub async fn create_state_table(ddb: &aws_sdk_dynamodb::Client, name: &str) {
    create_table(ddb, name, "Id", ScalarAttributeType::S).await;
}

/// An on-demand table with a hash key.
pub async fn create_table(
    ddb: &aws_sdk_dynamodb::Client,
    name: &str,
    key: &str,
    key_type: ScalarAttributeType,
) {
    ddb.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(key_type)
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("create_table: {e}"));
}

/// The tagging policy's rules table, as the template defines it, holding the seed rows exactly as
/// the README tells users to load them (`crates/tagging-policy/seed-rules.json`).
pub async fn create_rules_table(ddb: &aws_sdk_dynamodb::Client, name: &str) {
    create_table(ddb, name, "RuleId", ScalarAttributeType::N).await;
    let path = fleet_testkit::workspace_root().join("crates/tagging-policy/seed-rules.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let items: Vec<BTreeMap<String, BTreeMap<String, String>>> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for item in items {
        let item = item
            .into_iter()
            .map(|(name, typed)| {
                let value = match typed.iter().next() {
                    Some((t, v)) if t == "N" => AttributeValue::N(v.clone()),
                    Some((t, v)) if t == "S" => AttributeValue::S(v.clone()),
                    other => panic!("{name}: unexpected {other:?}"),
                };
                (name, value)
            })
            .collect();
        ddb.put_item()
            .table_name(name)
            .set_item(Some(item))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put_item: {e}"));
    }
}

/// A Lambda context with a deadline `seconds` from now, like the real runtime's.
pub fn context_with_deadline(seconds: i64) -> lambda_runtime::Context {
    let mut context = lambda_runtime::Context::default();
    context.request_id = "local-test".to_owned();
    context.deadline =
        (chrono::Utc::now() + chrono::Duration::seconds(seconds)).timestamp_millis() as u64;
    context
}

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
