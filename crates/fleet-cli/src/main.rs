use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use ec2_scheduler::handler::{ec2_adapter, state_adapter};
use ec2_scheduler::InstanceState;
use fleet_cli::{explain, fixed_last_run, plan, render_plan};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "fleet",
    version,
    about = "Operate the cloudops-fleet functions"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The EC2 Schedule-tag scheduler.
    #[command(subcommand)]
    Schedule(Schedule),
}

#[derive(Subcommand)]
enum Schedule {
    /// What a Schedule tag value asks for at an instant, as one JSON object.
    Explain {
        /// The tag value; one-offs start with `-` (`--tag -18:30T`).
        #[arg(long, allow_hyphen_values = true)]
        tag: String,
        /// The run's instant (RFC 3339).
        #[arg(long, value_parser = rfc3339)]
        at: DateTime<Utc>,
        /// The previous successful run; defaults to --at minus 10 minutes.
        #[arg(long, value_parser = rfc3339)]
        last_run: Option<DateTime<Utc>>,
        /// The instance's state; without it the due action is printed whatever the state.
        #[arg(long, value_parser = instance_state)]
        state: Option<InstanceState>,
    },
    /// What a run would do now to the instances of the configured account (or AWS_ENDPOINT_URL),
    /// read-only.
    Plan {
        #[arg(long, value_parser = rfc3339)]
        at: Option<DateTime<Utc>>,
        /// The previous successful run; defaults to --at minus 10 minutes (ignored with --state-table).
        #[arg(long, value_parser = rfc3339)]
        last_run: Option<DateTime<Utc>>,
        /// Read the previous run from the scheduler's state table, as the function does.
        #[arg(long, env = "STATE_TABLE")]
        state_table: Option<String>,
    },
}

fn rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e} (expected e.g. 2026-11-23T08:00:00Z)"))
}

fn instance_state(text: &str) -> Result<InstanceState, String> {
    InstanceState::parse(text).ok_or_else(|| {
        "expected pending, running, stopping, stopped, shutting-down or terminated".to_owned()
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Schedule(Schedule::Explain {
            tag,
            at,
            last_run,
            state,
        }) => {
            println!("{}", explain(&tag, at, last_run, state));
            ExitCode::SUCCESS
        }
        Command::Schedule(Schedule::Plan {
            at,
            last_run,
            state_table,
        }) => {
            let at = at.unwrap_or_else(Utc::now);
            let sdk = fleet_core::aws::load_sdk_config().await;
            let ec2 = ec2_adapter(&sdk);
            let report = match state_table {
                Some(table) => plan(ec2, state_adapter(&sdk, table), at).await,
                None => plan(ec2, fixed_last_run(at, last_run), at).await,
            };
            match report {
                Ok(report) => {
                    print!("{}", render_plan(&report));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("fleet schedule plan: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
