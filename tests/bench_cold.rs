//! Cold starts, measured (`make bench-cold`; issue 17, point 3): each function's shipped binary,
//! the `bootstrap` that `sam build` made (`BUILD_DIR`, default `.aws-sam/build`), started cold
//! `COLD_STARTS` times (default 10) under the test kit's Lambda Runtime API emulator at the 128 MB
//! setting, one sample event each against the local stand-in. Per function and sample it prints
//! the time from process start to the first response (median, min, max), the init part of it
//! (process start → the event handed over: SDK config, clients, the runtime's first `next`),
//! the peak RSS and the binary's size. A sample answered without any AWS call (a bad request, an
//! Alexa cancel) measures the cold start alone; a sample answered with the stand-in adds its
//! (slow, Python) calls. Goals, as local indications: ≤ 10 ms to the first response without AWS
//! calls, ≤ 32 MB peak RSS.

use fleet_local::fleet::{create_resources, env, event, matches, Expect, LocalFunction, FLEET};
use fleet_testkit::runtime::{Function, Outcome, Run};
use fleet_testkit::{workspace_root, Moto};
use std::path::PathBuf;
use std::time::Duration;

const GOAL_FIRST_RESPONSE_MS: f64 = 10.0;
const GOAL_PEAK_RSS_MB: f64 = 32.0;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The answer as `matches` reads it.
fn answer(run: &Run) -> Result<&serde_json::Value, String> {
    match run.outcomes().first() {
        Some(Outcome::Response(v)) => Ok(v),
        Some(Outcome::Error(e)) => Err(e.error_type().to_owned()),
        other => Err(format!("{other:?}")),
    }
}

struct Row {
    first: Vec<f64>,
    init: Vec<f64>,
    rss_mb: Vec<f64>,
}

fn measure(
    moto: &Moto,
    runtime: &tokio::runtime::Runtime,
    function: &LocalFunction,
    bootstrap: &PathBuf,
    sample: &str,
    expect: Expect,
    runs: usize,
) -> Result<Row, String> {
    let mut row = Row {
        first: Vec::new(),
        init: Vec::new(),
        rss_mb: Vec::new(),
    };
    for _ in 0..runs {
        // Every cold start meets the same stand-in: leases, budgets and counters start afresh.
        moto.reset();
        runtime.block_on(create_resources(moto));
        let run = Function::new(bootstrap)
            .name(function.binary)
            .memory_mb(128)
            .envs(moto.env())
            .envs(env(function, moto))
            .run(&[event(sample)]);
        let got = answer(&run);
        if !matches(expect, got.as_ref().copied().map_err(String::as_str)) {
            return Err(format!(
                "{} on {sample}: expected {expect:?}, got {got:?}\n{}",
                function.binary, run.logs
            ));
        }
        let first = run.first_response.ok_or("no first response")?;
        let took = run.answers[0].took.unwrap_or_default();
        row.first.push(ms(first));
        row.init.push(ms(first.saturating_sub(took)));
        row.rss_mb
            .push(run.peak_rss_kib.unwrap_or_default() as f64 / 1024.0);
    }
    Ok(row)
}

fn main() {
    let build_dir = std::env::var("BUILD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join(".aws-sam/build"));
    let runs: usize = std::env::var("COLD_STARTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let moto = Moto::start();
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    println!(
        "Cold starts of the shipped binaries in {} ({runs} per row, 128 MB)\n",
        build_dir.display()
    );
    println!(
        "| function | sample | AWS calls | first response ms (median / min / max) | init ms (median) | peak RSS MB | bootstrap MB |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut failures = Vec::new();
    let mut findings = Vec::new();
    for function in FLEET {
        let bootstrap = build_dir.join(function.logical_id).join("bootstrap");
        let Ok(meta) = std::fs::metadata(&bootstrap) else {
            failures.push(format!(
                "{}: {} is missing: run `make sam-build` first",
                function.binary,
                bootstrap.display()
            ));
            continue;
        };
        let size_mb = meta.len() as f64 / 1e6;
        let samples = function
            .offline_sample
            .map(|(sample, expect)| (sample, expect, "none"))
            .into_iter()
            .chain([(function.sample, function.expect, "stand-in")]);
        for (sample, expect, calls) in samples {
            match measure(&moto, &runtime, function, &bootstrap, sample, expect, runs) {
                Err(e) => failures.push(e),
                Ok(mut row) => {
                    let first = median(&mut row.first.clone());
                    let min = row.first.iter().copied().fold(f64::INFINITY, f64::min);
                    let max = row.first.iter().copied().fold(0.0, f64::max);
                    let init = median(&mut row.init);
                    let rss = row.rss_mb.iter().copied().fold(0.0, f64::max);
                    println!(
                        "| {} | {} | {calls} | {first:.1} / {min:.1} / {max:.1} | {init:.1} | {rss:.1} | {size_mb:.1} |",
                        function.binary,
                        sample.rsplit('/').next().unwrap_or(sample),
                    );
                    if calls == "none" && first > GOAL_FIRST_RESPONSE_MS {
                        findings.push(format!(
                            "{}: {first:.1} ms to the first response without AWS calls (goal ≤ {GOAL_FIRST_RESPONSE_MS} ms)",
                            function.binary
                        ));
                    }
                    if rss > GOAL_PEAK_RSS_MB {
                        findings.push(format!(
                            "{}: {rss:.1} MB peak RSS (goal ≤ {GOAL_PEAK_RSS_MB} MB)",
                            function.binary
                        ));
                    }
                }
            }
        }
    }
    println!();
    for finding in &findings {
        println!("over a goal: {finding}");
    }
    if findings.is_empty() && failures.is_empty() {
        println!("every function within the goals");
    }
    if !failures.is_empty() {
        for failure in &failures {
            eprintln!("{failure}");
        }
        std::process::exit(1);
    }
}
