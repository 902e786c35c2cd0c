//! The local demo: no AWS account needed. Starts the stand-in, creates the example fleet, runs the
//! real scheduler handler at the sample events' instants and prints every decision and the final
//! instance states.

use ec2_scheduler::config::Config;
use ec2_scheduler::{wire, Settings};
use fleet_core::EventHandler;
use fleet_core::{Env, RunSummary};
use fleet_local::{
    context_with_deadline_after, create_fleet, create_state_table, instances, EXAMPLE_FLEET,
};
use fleet_testkit::{event_files, load_event, Moto};
use lambda_runtime::LambdaEvent;

#[tokio::main]
async fn main() {
    println!("Starting the local AWS stand-in (moto server)...");
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let ids = create_fleet(&ec2, &EXAMPLE_FLEET).await;
    create_state_table(&aws_sdk_dynamodb::Client::new(&sdk), "demo-scheduler-state").await;
    println!(
        "Created {} instances with Schedule tags at {}\n",
        ids.len(),
        moto.endpoint()
    );

    let config = Config {
        state_table: "demo-scheduler-state".into(),
        report_topic_arn: None,
        settings: Settings {
            max_terminations_per_run: 2,
            ..Settings::default()
        },
    };
    // The function's clock stands at each sample's instant, as if EventBridge delivered it then
    // (the function refuses events from its future).
    let (env, clock) = Env::fixed(chrono::Utc::now());
    let app = wire(&sdk, config, env).await.unwrap();
    for file in event_files("ec2-scheduler") {
        let event = load_event(&file);
        let time = event["time"].as_str().unwrap_or("?");
        println!("=== run for events/{file} (time {time}) ===");
        let Ok(at) = time.parse::<chrono::DateTime<chrono::Utc>>() else {
            println!("run failed: events/{file} has no readable time\n");
            continue;
        };
        clock.set(at);
        match app
            .handle(LambdaEvent::new(
                event,
                context_with_deadline_after(at, 120),
            ))
            .await
        {
            Ok(report) => println!("{}\n", report.to_text()),
            Err(e) => println!("run failed: {e}\n"),
        }
    }

    println!("=== final instance states ===");
    let states = instances(&ec2).await;
    println!(
        "{:<16} {:<20} {:<11} SCHEDULE (ScheduleError)",
        "NAME", "INSTANCE", "STATE"
    );
    for (name, id) in &ids {
        let (state, tags) = &states[id];
        let error = tags
            .get("ScheduleError")
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        println!(
            "{name:<16} {id:<20} {state:<11} {}{error}",
            tags.get("Schedule").map(String::as_str).unwrap_or("")
        );
    }
}
