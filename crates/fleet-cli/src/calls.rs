//! `fleet calls list|show`: the call-center table (logic in call_center::cli).
use call_center::aws::DynamoCalls;
use call_center::cli::{self, CliError};
use call_center::sentiment::Label;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Calls {
    /// The newest calls, or only analysed calls with one sentiment.
    List {
        #[command(flatten)]
        table: Table,
        /// POSITIVE, NEGATIVE, NEUTRAL or MIXED (any case).
        #[arg(long, value_parser = sentiment)]
        sentiment: Option<Label>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Everything stored about one call.
    Show {
        #[command(flatten)]
        table: Table,
        call_id: String,
    },
}

#[derive(clap::Args)]
pub struct Table {
    /// The calls table (the stack's CallsTableName output).
    #[arg(long, env = "CALLS_TABLE")]
    table: String,
}

fn sentiment(text: &str) -> Result<Label, String> {
    cli::parse_sentiment(text).map_err(|e| e.to_string())
}

fn calls_table(sdk: &aws_config::SdkConfig, table: Table) -> DynamoCalls {
    DynamoCalls {
        client: aws_sdk_dynamodb::Client::new(sdk),
        table: table.table,
    }
}

pub async fn run(command: Calls) -> Result<String, CliError> {
    let sdk = crate::sdk_config().await;
    match command {
        Calls::List {
            table,
            sentiment,
            limit,
        } => cli::list(&calls_table(&sdk, table), sentiment, limit).await,
        Calls::Show { table, call_id } => cli::show(&calls_table(&sdk, table), &call_id).await,
    }
}
