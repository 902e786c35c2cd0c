//! `fleet approvals list|show`: pending approval requests (logic in approval_worker::cli).
use approval_worker::cli;
use chrono::Utc;
use clap::Subcommand;
use fleet_core::ServiceError;

#[derive(Subcommand)]
pub enum Approvals {
    /// Pending requests, oldest first, with their age and the time left.
    List {
        #[command(flatten)]
        table: Table,
    },
    /// One request: everything stored but the task token (its length and a fingerprint only).
    Show {
        #[command(flatten)]
        table: Table,
        id: String,
    },
}

#[derive(clap::Args)]
pub struct Table {
    /// The approvals table (the stack's ApprovalsTableName output).
    #[arg(long, env = "APPROVALS_TABLE")]
    table: String,
}

pub async fn run(command: Approvals) -> Result<String, ServiceError> {
    let sdk = crate::sdk_config().await;
    match command {
        Approvals::List { table } => cli::list(&cli::store(&sdk, &table.table), Utc::now()).await,
        Approvals::Show { table, id } => {
            cli::show(&cli::store(&sdk, &table.table), &id, Utc::now()).await
        }
    }
}
