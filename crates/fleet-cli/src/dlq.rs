//! `fleet dlq list|show|replay|resolve`: the dead-letter archive (logic in dlq_handler::cli).
use std::io::{BufRead, Write};

use clap::Subcommand;
use dlq_handler::classify::FailureClass;
use dlq_handler::cli::{self, CliError, ListArgs, ReplayArgs};
use dlq_handler::model::Status;
use dlq_handler::ports::TokioPause;
use dlq_handler::replay::{Rate, Since};
use fleet_core::SystemClock;

#[derive(Subcommand)]
pub enum Dlq {
    /// The archived failures, newest last.
    List {
        #[command(flatten)]
        table: Table,
        #[arg(long)]
        function: Option<String>,
        /// A failure class (timeout, out-of-memory, crash, misconfiguration, …).
        #[arg(long)]
        class: Option<FailureClass>,
        /// An RFC 3339 instant or a duration back from now (30m, 2h, 7d).
        #[arg(long)]
        since: Option<Since>,
        /// new, replayed or resolved.
        #[arg(long)]
        status: Option<Status>,
    },
    /// One failure: its fields, advice, whether it may be replayed, and the original event.
    Show {
        #[command(flatten)]
        table: Table,
        id: String,
    },
    /// Invokes the failed function again, asynchronously, with the original event.
    Replay {
        #[command(flatten)]
        table: Table,
        /// One failure; otherwise the new failures matching --function/--class/--since.
        #[arg(required_unless_present_any = ["function", "class"])]
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        function: Option<String>,
        #[arg(long, conflicts_with = "id")]
        class: Option<FailureClass>,
        #[arg(long, conflicts_with = "id")]
        since: Option<Since>,
        /// Show what would be sent; send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Invocations per second at most (e.g. 5/s).
        #[arg(long, default_value_t)]
        rate: Rate,
        /// Replay classes that would fail the same way (misconfiguration, bad input).
        #[arg(long)]
        force: bool,
        /// Do not ask before a bulk replay.
        #[arg(long)]
        yes: bool,
    },
    /// Marks a failure resolved (fixed; nothing to replay).
    Resolve {
        #[command(flatten)]
        table: Table,
        id: String,
    },
}

#[derive(clap::Args)]
pub struct Table {
    /// The archive table (the stack's DlqArchiveTableName output).
    #[arg(long, env = "DLQ_ARCHIVE_TABLE")]
    table: String,
}

/// Asks on the terminal; anything but y/yes cancels.
fn confirm(plan: &str) -> bool {
    print!("{plan}Send these? [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

pub async fn run(command: Dlq) -> Result<String, CliError> {
    let sdk = crate::sdk_config().await;
    let clock = SystemClock;
    match command {
        Dlq::List {
            table,
            function,
            class,
            since,
            status,
        } => {
            let a = cli::adapters(&sdk, &table.table);
            let args = ListArgs {
                function,
                class,
                since,
                status,
            };
            cli::list(&a.archive, &clock, &args).await
        }
        Dlq::Show { table, id } => {
            let a = cli::adapters(&sdk, &table.table);
            cli::show(&a.archive, &a.spill, &id).await
        }
        Dlq::Replay {
            table,
            id,
            function,
            class,
            since,
            dry_run,
            rate,
            force,
            yes,
        } => {
            let a = cli::adapters(&sdk, &table.table);
            let args = ReplayArgs {
                id,
                function,
                class,
                since,
                dry_run,
                rate,
                force,
                yes,
            };
            let mut ask = confirm;
            cli::replay(
                &a.archive,
                &a.spill,
                &a.invoker,
                &TokioPause,
                &clock,
                &args,
                &mut ask,
            )
            .await
        }
        Dlq::Resolve { table, id } => {
            let a = cli::adapters(&sdk, &table.table);
            cli::resolve(&a.archive, &clock, &id).await
        }
    }
}
