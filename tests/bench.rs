//! Scheduler benchmark (not a test): prints AWS calls and time for one run over 10,000 tagged
//! instances against the in-memory EC2 port and over 1,000 in the stand-in, and the planner's
//! CPU time per 10,000 instances. Run with `make bench`.

use chrono::{DateTime, Utc};
use ec2_scheduler::memory::{FakeInstance, InMemoryEc2, MemoryState};
use ec2_scheduler::{evaluate, InstanceState, Scheduler, Settings, Window};
use fleet_core::FixedClock;
use fleet_local::{create_state_table, EXAMPLE_FLEET};
use fleet_testkit::Moto;
use std::time::Instant;

const NOW: &str = "2026-11-23T08:00:00Z";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(NOW)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn mixed(i: usize) -> (&'static str, InstanceState) {
    let seed = EXAMPLE_FLEET[i % EXAMPLE_FLEET.len()];
    (
        seed.schedule,
        if seed.running {
            InstanceState::Running
        } else {
            InstanceState::Stopped
        },
    )
}

#[tokio::main]
async fn main() {
    // 1. planner CPU time: evaluate 10,000 tags, best of 5
    let window = Window {
        last_run: now() - chrono::Duration::minutes(10),
        now: now(),
    };
    let mut best = f64::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        let mut acting = 0;
        for i in 0..10_000 {
            let (tag, state) = mixed(i);
            if evaluate(tag, Some(state), window, None).action != ec2_scheduler::Action::None {
                acting += 1;
            }
        }
        std::hint::black_box(acting);
        best = best.min(started.elapsed().as_secs_f64());
    }
    println!(
        "planner: {:.1} ms CPU per 10,000 instances (single thread, best of 5)",
        best * 1e3
    );

    // 2. one run over 10,000 instances against the in-memory EC2 port
    let instances = (0..10_000).map(|i| {
        let (tag, state) = mixed(i);
        FakeInstance::new(
            format!("i-{i:017x}"),
            state,
            &[("Schedule", tag), ("Name", &format!("vm-{i}"))],
        )
    });
    let scheduler = Scheduler {
        ec2: InMemoryEc2::new(instances, 1000),
        state: MemoryState::default(),
        clock: FixedClock::at(now()),
        settings: Settings {
            max_terminations_per_run: 10_000,
            ..Settings::default()
        },
    };
    let started = Instant::now();
    let report = match scheduler.run(now(), None, None).await {
        Ok(r) => r,
        Err(e) => return eprintln!("in-memory run failed: {e}"),
    };
    let c = report.ec2_calls;
    println!(
        "in-memory, 10,000 instances: {:.1} ms, EC2 calls: {} describe + {} start/stop/terminate + {} create-tags = {} ({} instances changed, {} tags rewritten)",
        started.elapsed().as_secs_f64() * 1e3,
        c.describe, c.change_state, c.create_tags, c.describe + c.change_state + c.create_tags,
        report.counts.start + report.counts.stop + report.counts.terminate, report.counts.tags_rewritten
    );

    // 3. one run over 1,000 instances in the stand-in, through the real SDK adapters
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let fleet: Vec<_> = (0..1_000)
        .map(|i| {
            let seed = EXAMPLE_FLEET[i % EXAMPLE_FLEET.len()];
            fleet_local::SeedInstance {
                termination_protected: false,
                ..seed
            }
        })
        .collect();
    let seeded = Instant::now();
    fleet_local::create_fleet(&ec2, &fleet).await;
    println!(
        "stand-in: seeded 1,000 instances in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );
    create_state_table(&aws_sdk_dynamodb::Client::new(&sdk), "bench-state").await;
    let scheduler = Scheduler {
        ec2: fleet_ec2::AwsEc2::from_sdk(&sdk),
        state: ec2_scheduler::aws::DynamoState::from_sdk(&sdk, "bench-state"),
        clock: FixedClock::at(now()),
        settings: Settings {
            max_terminations_per_run: 1_000,
            ..Settings::default()
        },
    };
    let started = Instant::now();
    match scheduler.run(now(), None, None).await {
        Ok(report) => {
            let c = report.ec2_calls;
            println!(
                "stand-in, 1,000 instances: {:.2} s, EC2 calls: {} describe + {} start/stop/terminate + {} create-tags = {} (+1 DynamoDB read, 1 write)",
                started.elapsed().as_secs_f64(),
                c.describe, c.change_state, c.create_tags, c.describe + c.change_state + c.create_tags
            );
        }
        Err(e) => eprintln!("stand-in run failed: {e}"),
    }
}
