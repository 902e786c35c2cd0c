//! The scheduler: the README's example fleet of 20 tagged instances, the three sample runs at
//! their instants (Monday 08:00, Monday 19:20, Tuesday 07:50), every decision, the final states.

use std::collections::BTreeMap;

use ec2_scheduler::config::Config;
use fleet_core::{Env, EventHandler, RunSummary};
use fleet_testkit::seed::{context_with_deadline_after, create_fleet, instances, EXAMPLE_FLEET};
use fleet_testkit::{event_files, load_event, Moto};
use lambda_runtime::LambdaEvent;

use super::{config, ensure, Outcome};

pub async fn run(moto: &Moto) -> Outcome {
    let sdk = moto.sdk_config();
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let ids = create_fleet(&ec2, &EXAMPLE_FLEET).await;
    println!("Created {} instances with Schedule tags.\n", ids.len());

    let config: Config = config(moto, "ec2-scheduler", &[("MAX_TERMINATIONS_PER_RUN", "2")])?;
    // The function's clock stands at each sample's instant, as if EventBridge delivered it then
    // (the function refuses events from its future).
    let (env, clock) = Env::fixed(chrono::Utc::now());
    let app = ec2_scheduler::wire(&sdk, config, env)
        .await
        .map_err(|e| e.to_string())?;
    for file in event_files("ec2-scheduler") {
        let event = load_event(&file);
        let at: chrono::DateTime<chrono::Utc> = event["time"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| format!("events/{file} has no readable time"))?;
        println!("── run for events/{file} (time {at}) ──");
        clock.set(at);
        let report = app
            .handle(LambdaEvent::new(
                event,
                context_with_deadline_after(at, 120),
            ))
            .await
            .map_err(|e| format!("the run for {file} failed: {e}"))?;
        println!("{}\n", report.to_text());
    }

    println!("── final instance states ──");
    let states = instances(&ec2).await;
    println!(
        "{:<16} {:<20} {:<11} SCHEDULE (ScheduleError)",
        "NAME", "INSTANCE", "STATE"
    );
    let mut by_name = BTreeMap::new();
    for (name, id) in &ids {
        let (state, tags) = states
            .get(id)
            .ok_or_else(|| format!("{name} ({id}) is gone"))?;
        let error = tags
            .get("ScheduleError")
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        let schedule = tags.get("Schedule").map(String::as_str).unwrap_or("");
        println!("{name:<16} {id:<20} {state:<11} {schedule}{error}");
        by_name.insert(name.as_str(), (state.as_str(), tags));
    }

    // Tuesday 07:50, after the three runs: what each tag asks for.
    let state = |name: &str| by_name.get(name).map_or("missing", |(s, _)| *s);
    for name in [
        "build-agent",
        "late-shift",
        "ny-desk",
        "midnight-batch",
        "web-1",
    ] {
        ensure(state(name) == "stopped", || {
            format!("{name} is {}, not stopped", state(name))
        })?;
    }
    for name in ["office-ams", "early-bird", "tokyo-desk"] {
        ensure(state(name) == "running", || {
            format!("{name} is {}, not running", state(name))
        })?;
    }
    ensure(state("prod-db") != "terminated", || {
        "the termination-protected prod-db was terminated".into()
    })?;
    let explained = ["typo-box", "bad-hour"].iter().all(|name| {
        by_name
            .get(name)
            .is_some_and(|(_, tags)| tags.contains_key("ScheduleError"))
    });
    ensure(explained, || {
        "an invalid Schedule tag was not explained".into()
    })?;
    Ok(
        "each instance ended Tuesday 07:50 in the state its Schedule tag asks for (missed \
        ticks caught up, overnight windows, time zones); invalid tags were commented with the \
        reason; the protected instance survived"
            .into(),
    )
}
