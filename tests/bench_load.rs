//! Load, bounded (`make bench-load`; issue 18, point 4; a benchmark, not a test): the HTTP
//! functions' shipped binaries (`BUILD_DIR`, default `.aws-sam/build`, as `make sam-build` makes
//! them) under the test kit's Lambda Runtime API emulator on loopback, `LOAD_CLIENTS` instances
//! each (default 4: Lambda's concurrency, one request at a time per instance), sending
//! `LOAD_REQUESTS` requests per function between them (default 10,000) against the local
//! stand-in. Per function it prints the answers by status, p50/p99/max latency (queued → answered,
//! as API Gateway waits for it), throughput, and each instance's resident memory after its first
//! 100 requests, half-way and at its end (flat: no growth per request). `LOAD_FUNCTIONS` (a
//! comma-separated list of binaries) runs only those; `LOAD_OFFLINE=1` sends only a request each
//! refuses without any AWS call (the runtime and the function alone). It fails when any answer is not a
//! designed one: a drive command is accepted (202) or refused as malformed (400); a code check
//! is a wrong code (401) or a lockout or caller budget spent (429), never a server error.

use fleet_local::fleet::{create_resources, env, FLEET};
use fleet_testkit::runtime::{Function, Outcome};
use fleet_testkit::{load_event, workspace_root, Moto};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// After this many requests an instance's memory is taken as its baseline.
const WARM_REQUESTS: usize = 100;

struct Workload {
    binary: &'static str,
    /// The `n`th request of client `client`.
    request: fn(n: usize, client: usize) -> Value,
    /// The statuses the function is designed to answer this load with.
    designed: &'static [u16],
    /// A request it refuses (400) without any AWS call, for `LOAD_OFFLINE`.
    offline: &'static str,
}

/// Commands as a driver sends them, with a malformed one now and then.
fn drive_command(n: usize, _client: usize) -> Value {
    let sample = match n % 10 {
        9 => "04-bad-unknown-action.json",
        k if k % 3 == 0 => "01-forward.json",
        k if k % 3 == 1 => "02-left-slow.json",
        _ => "03-stop.json",
    };
    load_event(&format!("robot-publisher/{sample}"))
}

/// Code checks from one caller per client: guesses for many users and, every fifth, for the one
/// user with a profile, so lockouts and the callers' miss budgets come into play.
fn code_check(n: usize, client: usize) -> Value {
    let mut event = load_event("otp-validator/02-verify.json");
    let user = if n.is_multiple_of(5) {
        "alice".to_owned()
    } else {
        format!("user-{client}-{n}")
    };
    event["body"] = Value::String(
        serde_json::json!({"user": user, "purpose": "start-instance", "code": format!("{:06}", n % 1_000_000)})
            .to_string(),
    );
    event["requestContext"]["identity"]["userArn"] = Value::String(format!(
        "arn:aws:sts::123456789012:assumed-role/LoadClient{client}/session"
    ));
    event
}

const WORKLOADS: [Workload; 2] = [
    Workload {
        binary: "robot-publisher",
        request: drive_command,
        designed: &[202, 400],
        offline: "robot-publisher/04-bad-unknown-action.json",
    },
    Workload {
        binary: "otp-validator",
        request: code_check,
        designed: &[401, 429],
        offline: "otp-validator/05-bad-missing-user.json",
    },
];

/// What one instance saw.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    statuses: BTreeMap<String, usize>,
    undesigned: Vec<String>,
    rss_warm_kib: Option<u64>,
    rss_middle_kib: Option<u64>,
    rss_end_kib: Option<u64>,
}

fn status_of(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Response(response) => response["statusCode"]
            .as_u64()
            .map_or_else(|| "no status".to_owned(), |s| s.to_string()),
        Outcome::Error(e) => format!("error {}", e.error_type()),
        other => format!("{other:?}"),
    }
}

fn run_client(
    function: &Function,
    workload: &Workload,
    offline: bool,
    client: usize,
    clients: usize,
    requests: usize,
) -> Tally {
    let mut tally = Tally::default();
    let mut instance = function.start();
    let refusal = load_event(workload.offline);
    let designed: &[u16] = if offline { &[400] } else { workload.designed };
    for (sent, n) in (client..requests).step_by(clients).enumerate() {
        let request = if offline {
            refusal.clone()
        } else {
            (workload.request)(n, client)
        };
        let answer = instance.invoke(&request);
        let status = status_of(&answer.outcome);
        let designed = status.parse::<u16>().is_ok_and(|s| designed.contains(&s));
        if !designed && tally.undesigned.len() < 5 {
            tally
                .undesigned
                .push(format!("request {n}: {status}: {:?}", answer.outcome));
        }
        *tally.statuses.entry(status).or_default() += 1;
        tally.latencies.extend(answer.latency);
        if sent + 1 == WARM_REQUESTS {
            tally.rss_warm_kib = instance.rss_kib();
        }
        if sent + 1 == requests / clients / 2 {
            tally.rss_middle_kib = instance.rss_kib();
        }
        if !answer.is_alive() {
            break;
        }
    }
    tally.rss_end_kib = instance.rss_kib();
    let run = instance.finish();
    if !tally.undesigned.is_empty() {
        tally.undesigned.push(run.logs.chars().take(4000).collect());
    }
    tally
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let build_dir = std::env::var("BUILD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join(".aws-sam/build"));
    let clients = setting("LOAD_CLIENTS", 4).max(1);
    let requests = setting("LOAD_REQUESTS", 10_000);
    let moto = Moto::start();
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(create_resources(&moto));
    println!(
        "Load on loopback: {requests} requests per function from {clients} concurrent instances, shipped binaries in {}, against the stand-in\n",
        build_dir.display()
    );
    println!("| function | answers | p50 ms | p99 ms | max ms | requests/s | RSS MB after {WARM_REQUESTS} → half → end (per instance) |");
    println!("|---|---|---|---|---|---|---|");
    let mut failures = Vec::new();
    let only = std::env::var("LOAD_FUNCTIONS").unwrap_or_default();
    let offline = std::env::var("LOAD_OFFLINE").is_ok_and(|v| v == "1");
    for workload in WORKLOADS
        .iter()
        .filter(|w| only.is_empty() || only.split(',').any(|f| f.trim() == w.binary))
    {
        let Some(local) = FLEET.iter().find(|f| f.binary == workload.binary) else {
            failures.push(format!("{}: not in the fleet table", workload.binary));
            continue;
        };
        let bootstrap = build_dir.join(local.logical_id).join("bootstrap");
        if !bootstrap.exists() {
            failures.push(format!(
                "{}: {} is missing: run `make sam-build` first",
                workload.binary,
                bootstrap.display()
            ));
            continue;
        }
        let function = Function::new(&bootstrap)
            .name(workload.binary)
            .memory_mb(128)
            .envs(moto.env())
            .envs(env(local, &moto));
        let started = Instant::now();
        let tallies: Vec<Tally> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..clients)
                .map(|client| {
                    let function = &function;
                    scope.spawn(move || {
                        run_client(function, workload, offline, client, clients, requests)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let elapsed = started.elapsed();
        let mut latencies: Vec<Duration> = tallies
            .iter()
            .flat_map(|t| t.latencies.iter().copied())
            .collect();
        latencies.sort();
        let mut statuses: BTreeMap<&str, usize> = BTreeMap::new();
        for tally in &tallies {
            for (status, count) in &tally.statuses {
                *statuses.entry(status).or_default() += count;
            }
            failures.extend(
                tally
                    .undesigned
                    .iter()
                    .map(|u| format!("{}: {u}", workload.binary)),
            );
        }
        let answered: usize = statuses.values().sum();
        let answers: Vec<String> = statuses.iter().map(|(s, n)| format!("{n} × {s}")).collect();
        let mb =
            |kib: Option<u64>| kib.map_or("?".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0));
        let memory: Vec<String> = tallies
            .iter()
            .map(|t| {
                format!(
                    "{} → {} → {}",
                    mb(t.rss_warm_kib),
                    mb(t.rss_middle_kib),
                    mb(t.rss_end_kib)
                )
            })
            .collect();
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.0} | {} |",
            workload.binary,
            answers.join(", "),
            percentile(&latencies, 50.0),
            percentile(&latencies, 99.0),
            percentile(&latencies, 100.0),
            answered as f64 / elapsed.as_secs_f64(),
            memory.join("; ")
        );
        if answered != requests {
            failures.push(format!(
                "{}: {answered} of {requests} requests answered",
                workload.binary
            ));
        }
    }
    if !failures.is_empty() {
        for failure in &failures {
            eprintln!("{failure}");
        }
        std::process::exit(1);
    }
    println!("\nevery answer a designed one");
}
