//! Tagging-policy benchmark (not a test): prints AWS calls and time for one sweep over 10,000
//! instances against the in-memory ports and over 500 in the stand-in (CloudTrail is the fake in
//! both; its real cost is the 2 calls/second limit, printed as arithmetic). Run with `make bench`.

use chrono::{DateTime, Duration, Utc};
use fleet_core::FixedClock;
use fleet_ec2::{AwsEc2, FakeInstance, InMemoryEc2, InstanceState};
use fleet_local::{create_rules_table, launch_instance};
use fleet_testkit::Moto;
use std::time::Instant;
use tagging_policy::aws::{DynamoRules, LOOKUP_INTERVAL};
use tagging_policy::memory::{FakeLookup, MemoryRules};
use tagging_policy::rules::seed_rows;
use tagging_policy::{Engine, Report, Settings, Trigger};

/// Ten kinds of instance, cycled: 4 compliant, 3 missing ProjectCode and CreatedBy, 2 with an
/// empty Expires, 1 untagged.
fn tags(i: usize) -> Vec<(&'static str, &'static str)> {
    match i % 10 {
        0..=3 => vec![("Name", "ok"), ("ProjectCode", "P"), ("CreatedBy", "c")],
        4..=6 => vec![("Name", "new")],
        7 | 8 => vec![("ProjectCode", "P"), ("CreatedBy", "c"), ("Expires", "")],
        _ => vec![],
    }
}

fn print(label: &str, seconds: f64, report: &Report) {
    let c = report.ec2_calls;
    println!(
        "{label}: {:.1} ms, EC2 calls: {} describe + {} stop + {} create-tags; {} CloudTrail lookups; {} tags set, {} stopped",
        seconds * 1e3,
        c.describe,
        c.change_state,
        c.create_tags,
        report.cloudtrail_lookups,
        report.counts.tags_set,
        report.counts.stopped
    );
}

#[tokio::main]
async fn main() {
    let now: DateTime<Utc> = Utc::now() + Duration::hours(1);
    let settings = Settings {
        max_enforcements_per_run: 10_000,
        ..Settings::default()
    };

    // 1. one sweep over 10,000 instances, in memory
    let ids: Vec<String> = (0..10_000).map(|i| format!("i-{i:017x}")).collect();
    let instances = ids.iter().enumerate().map(|(i, id)| {
        FakeInstance::new(id, InstanceState::Running, &tags(i)).launched(now - Duration::days(3))
    });
    let engine = Engine {
        ec2: InMemoryEc2::new(instances, 1000),
        rules: MemoryRules(seed_rows()),
        lookup: FakeLookup::new(ids.iter().map(|id| (id.as_str(), "alice"))),
        clock: FixedClock::at(now),
        state: tagging_policy::memory::MemoryPolicyState::default(),
        settings: settings.clone(),
    };
    let started = Instant::now();
    match engine.run(&Trigger::Sweep, None).await {
        Ok(report) => {
            print(
                "in-memory, 10,000 instances",
                started.elapsed().as_secs_f64(),
                &report,
            );
            let paced = report.cloudtrail_lookups as f64 * LOOKUP_INTERVAL.as_secs_f64();
            println!(
                "  CloudTrail LookupEvents at 2 calls/s would add {paced:.0} s for these {} lookups on a first sweep (later sweeps: 0, the tags are set)",
                report.cloudtrail_lookups
            );
        }
        Err(e) => eprintln!("in-memory run failed: {e}"),
    }

    // 2. one sweep over 500 instances in the stand-in, through the EC2 and DynamoDB adapters
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    create_rules_table(&ddb, "bench-rules").await;
    let seeded = Instant::now();
    let mut launched = Vec::new();
    for i in 0..500 {
        launched.push(launch_instance(&ec2, &tags(i), None).await);
    }
    println!(
        "stand-in: seeded 500 instances in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );
    let engine = Engine {
        ec2: AwsEc2::new(fleet_ec2::client(&sdk)),
        rules: DynamoRules::new(ddb, "bench-rules"),
        lookup: FakeLookup::new(launched.iter().map(|id| (id.as_str(), "alice"))),
        clock: FixedClock::at(now),
        state: tagging_policy::memory::MemoryPolicyState::default(),
        settings,
    };
    let started = Instant::now();
    match engine.run(&Trigger::Sweep, None).await {
        Ok(report) => print(
            "stand-in, 500 instances",
            started.elapsed().as_secs_f64(),
            &report,
        ),
        Err(e) => eprintln!("stand-in run failed: {e}"),
    }
}
