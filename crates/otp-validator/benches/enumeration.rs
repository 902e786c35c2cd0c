//! No user enumeration by timing (issue 12, point 3): the API's send and verify paths for a
//! known and an unknown user, on the real DynamoDB and SQS adapters against the local stand-in.
//! Prints, per path, the AWS calls one request makes (moto's request recorder) and the latency
//! (median, p90, mean over interleaved requests). The SMS is not on these paths: the delivery
//! step sends it later.
//!
//! `cargo bench -p otp-validator --bench enumeration --profile dev` (or `make bench`).

use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use fleet_core::{HttpHandler, SystemClock};
use fleet_otp::aws::{DynamoProfiles, DynamoStore, SnsSms};
use fleet_otp::memory::FakeMfa;
use fleet_otp::ports::OsDigits;
use fleet_otp::{HmacKey, Limits, Otp};
use fleet_testkit::seed::create_table;
use fleet_testkit::{load_event, Moto};
use otp_validator::aws::SqsQueue;
use otp_validator::App;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const ROUNDS: usize = 120;

/// A send (or a wrong guess) for `user` from `caller`.
fn path_request(caller: &str, user: &str, send: bool) -> lambda_http::Request {
    if send {
        let body = json!({"user": user, "purpose": "p"});
        request("otp-validator/01-send.json", caller, body)
    } else {
        let body = json!({"user": user, "purpose": "p", "code": "000000"});
        request("otp-validator/02-verify.json", caller, body)
    }
}

fn request(file: &str, caller: &str, body: Value) -> lambda_http::Request {
    let mut event = load_event(file);
    event["requestContext"]["identity"]["userArn"] = Value::from(caller);
    event["body"] = Value::String(body.to_string());
    lambda_http::request::from_str(&event.to_string()).expect("a sample request")
}

/// "dynamodb GetItem", "sqs SendMessage", … for one recorded request.
fn call_name(r: &fleet_testkit::RecordedRequest) -> String {
    if let Some(target) = r.headers.get("x-amz-target") {
        let (service, op) = target.split_once('.').unwrap_or(("?", target));
        let service = if service.starts_with("DynamoDB") {
            "dynamodb"
        } else if service.starts_with("AmazonSQS") {
            "sqs"
        } else {
            service
        };
        return format!("{service} {op}");
    }
    let body = String::from_utf8_lossy(&r.body);
    let action = body
        .split('&')
        .find_map(|p| p.strip_prefix("Action="))
        .unwrap_or("?");
    format!("query {action}")
}

fn summary(mut times: Vec<Duration>) -> String {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    format!(
        "median {:>6.2} ms  p90 {:>6.2} ms  mean {:>6.2} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.9).as_secs_f64() * 1e3,
        mean.as_secs_f64() * 1e3
    )
}

fn main() {
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = runtime.block_on(async {
        create_table(&ddb, "otp-profiles", "UserId", ScalarAttributeType::S).await;
        create_table(&ddb, "otp-codes", "UserId", ScalarAttributeType::S).await;
        ddb.put_item()
            .table_name("otp-profiles")
            .item("UserId", AttributeValue::S("alice".into()))
            .item("Phone", AttributeValue::S("+31612345678".into()))
            .send()
            .await
            .expect("a profile");
        sqs.create_queue()
            .queue_name("otp-code-requests")
            .send()
            .await
            .expect("a queue")
            .queue_url
            .unwrap_or_default()
    });
    let api = App {
        otp: Otp {
            profiles: DynamoProfiles::new(ddb.clone(), "otp-profiles"),
            store: DynamoStore::new(ddb.clone(), "otp-codes", "api"),
            sms: SnsSms::new(fleet_core::aws::SnsClient::new(&sdk), None),
            mfa: FakeMfa::default(),
            digits: OsDigits,
            clock: SystemClock,
            key: HmacKey::new(*b"bench-key-0123456789abcdef-01234").expect("a key"),
            limits: Limits::default(),
        },
        queue: SqsQueue::new(sqs, &queue_url),
    };
    let paths = [
        ("send, known user", "alice", true),
        ("send, unknown user", "zed", true),
        ("verify, known user", "alice", false),
        ("verify, unknown user", "zed", false),
    ];
    // The calls one request of each path makes.
    let mut calls: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (name, user, send) in paths {
        let caller =
            format!("arn:aws:iam::123456789012:user/probe-{name}").replace([' ', ','], "-");
        let req = path_request(&caller, user, send);
        moto.start_recording();
        let status = runtime.block_on(api.handle(req)).status().as_u16();
        let mut names: Vec<String> = moto.recorded_requests().iter().map(call_name).collect();
        names.sort();
        calls.insert(name, names);
        assert!(matches!(status, 202 | 401), "{name}: {status}");
    }
    // Interleaved so drift in the stand-in hits every path alike; a fresh caller per round keeps
    // every request inside its caller's budget.
    let mut times: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    for round in 0..ROUNDS {
        for (name, user, send) in paths {
            let caller = format!("arn:aws:iam::123456789012:user/bench-{round}");
            let req = path_request(&caller, user, send);
            let started = Instant::now();
            let status = runtime.block_on(api.handle(req)).status().as_u16();
            times.entry(name).or_default().push(started.elapsed());
            assert!(matches!(status, 202 | 401 | 429), "{name}: {status}");
        }
    }
    println!(
        "OTP API, known vs unknown user ({ROUNDS} interleaved requests per path, moto on loopback)"
    );
    for (name, _, _) in paths {
        println!(
            "  {name:<22} {}  calls: {}",
            summary(times.remove(name).unwrap_or_default()),
            calls.get(name).map(|c| c.join(", ")).unwrap_or_default()
        );
    }
}
