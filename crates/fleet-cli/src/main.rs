mod approvals;
mod calls;
mod dlq;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use ec2_scheduler::aws::DynamoState;
use ec2_scheduler::InstanceState;
use fleet_cli::{explain, fixed_last_run, plan, render_plan, render_rules, tagging_plan, NoLookup};
use fleet_ec2::AwsEc2;
use std::process::ExitCode;
use tagging_policy::aws::{cloudtrail_client, CloudTrailLookup, DynamoRules};
use tagging_policy::ports::RuleSource;
use tagging_policy::rules::Policy;
use tagging_policy::{Settings as TaggingSettings, UntaggedAction};

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
    /// The tagging-policy engine.
    #[command(subcommand)]
    Tagging(Tagging),
    /// The dead-letter archive: failed asynchronous invocations, their class, replay.
    #[command(subcommand)]
    Dlq(dlq::Dlq),
    /// The call-center pipeline's calls and their sentiment.
    #[command(subcommand)]
    Calls(calls::Calls),
    /// The approval worker's pending requests.
    #[command(subcommand)]
    Approvals(approvals::Approvals),
}

/// Prints a command's text; a failure goes to stderr, prefixed with the command, and exits 1.
/// The SDK configuration for a command that calls AWS; a bad SDK setting (e.g.
/// `SDK_ATTEMPT_TIMEOUT_SECONDS=0`) ends the command, named, as it fails a function's cold start.
async fn sdk_config() -> aws_config::SdkConfig {
    match fleet_core::aws::load_sdk_config(&fleet_core::config::ProcessEnv).await {
        Ok(sdk) => sdk,
        Err(error) => {
            eprintln!("fleet: {error}");
            std::process::exit(1)
        }
    }
}

fn finish<E: std::fmt::Display>(command: &str, result: Result<String, E>) -> ExitCode {
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fleet {command}: {e}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Subcommand)]
enum Tagging {
    /// What a sweep would do now to the instances of the configured account (or
    /// AWS_ENDPOINT_URL), read-only: every instance, each violation and the fix.
    Plan {
        /// The rules table (the stack's TaggingRulesTableName output).
        #[arg(long, env = "RULES_TABLE")]
        rules_table: String,
        #[arg(long, env = "UNTAGGED_ACTION", default_value = "stop")]
        untagged_action: UntaggedAction,
        #[arg(long, env = "GRACE_MINUTES", default_value_t = 15)]
        grace_minutes: u32,
        /// Only instances in these VPCs (repeat, or separate with commas).
        #[arg(long = "vpc", env = "POLICY_VPC_IDS", value_delimiter = ',')]
        vpc_ids: Vec<String>,
        /// Do not ask CloudTrail who launched instances (it has no local stand-in).
        #[arg(long)]
        no_lookup: bool,
    },
    /// The rules table's rows.
    #[command(subcommand)]
    Rules(Rules),
}

#[derive(Subcommand)]
enum Rules {
    /// Checks every row; fails when a row would be skipped.
    Validate {
        #[arg(long, env = "RULES_TABLE")]
        rules_table: String,
    },
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
        /// For a one-off: the start of the window of the run that first saw the tag (defaults
        /// to --last-run: first seen by this run). It fixes the day the one-off belongs to.
        #[arg(long, value_parser = rfc3339)]
        first_seen: Option<DateTime<Utc>>,
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
            first_seen,
        }) => {
            println!("{}", explain(&tag, at, last_run, state, first_seen));
            ExitCode::SUCCESS
        }
        Command::Schedule(Schedule::Plan {
            at,
            last_run,
            state_table,
        }) => {
            let at = at.unwrap_or_else(Utc::now);
            let sdk = sdk_config().await;
            let ec2 = AwsEc2::from_sdk(&sdk);
            let report = match state_table {
                Some(table) => plan(ec2, DynamoState::from_sdk(&sdk, table), at).await,
                None => plan(ec2, fixed_last_run(at, last_run), at).await,
            };
            finish("schedule plan", report.map(|r| render_plan(&r)))
        }
        Command::Tagging(Tagging::Plan {
            rules_table,
            untagged_action,
            grace_minutes,
            vpc_ids,
            no_lookup,
        }) => {
            let sdk = sdk_config().await;
            let ec2 = fleet_ec2::AwsEc2::new(fleet_ec2::client(&sdk));
            let rules = DynamoRules::new(aws_sdk_dynamodb::Client::new(&sdk), rules_table);
            let settings = TaggingSettings {
                untagged_action,
                grace: chrono::Duration::minutes(i64::from(grace_minutes)),
                vpc_ids: vpc_ids
                    .into_iter()
                    .filter(|v| !v.trim().is_empty())
                    .collect(),
                ..TaggingSettings::default()
            };
            let at = Utc::now();
            let text = if no_lookup {
                tagging_plan(ec2, rules, NoLookup, settings, at).await
            } else {
                let lookup = CloudTrailLookup::new(cloudtrail_client(&sdk));
                tagging_plan(ec2, rules, lookup, settings, at).await
            };
            finish("tagging plan", text)
        }
        Command::Tagging(Tagging::Rules(Rules::Validate { rules_table })) => {
            let sdk = sdk_config().await;
            let rules = DynamoRules::new(aws_sdk_dynamodb::Client::new(&sdk), &rules_table);
            match rules.load().await {
                Ok(rows) => match render_rules(
                    &rules_table,
                    &Policy::from_rows(
                        rows,
                        &tagging_policy::config::protected_tag_keys(
                            &fleet_core::config::ProcessEnv,
                        ),
                    ),
                ) {
                    Ok(text) => {
                        print!("{text}");
                        ExitCode::SUCCESS
                    }
                    Err(text) => {
                        print!("{text}");
                        ExitCode::FAILURE
                    }
                },
                Err(e) => {
                    eprintln!("fleet tagging rules validate: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Dlq(command) => finish("dlq", dlq::run(command).await),
        Command::Calls(command) => finish("calls", calls::run(command).await),
        Command::Approvals(command) => finish("approvals", approvals::run(command).await),
    }
}
