//! AWS adapters: Kinesis streams and the access grants in DynamoDB.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use crate::ports::{AccessStore, ServiceError, Stream, Streams};
use fleet_core::aws::service_error;

#[derive(Debug, Clone)]
pub struct KinesisStreams {
    client: aws_sdk_kinesis::Client,
    page_size: Option<i32>,
}

impl KinesisStreams {
    pub fn new(client: aws_sdk_kinesis::Client) -> Self {
        Self {
            client,
            page_size: None,
        }
    }

    /// Smaller ListStreams pages (Kinesis' default is 100), so tests page through a few streams.
    pub fn with_page_size(mut self, page_size: i32) -> Self {
        self.page_size = Some(page_size);
        self
    }
}

impl Streams for KinesisStreams {
    /// Every stream (ListStreams, paged), then each one's open shard count.
    async fn streams(&self) -> Result<Vec<Stream>, ServiceError> {
        let mut names: Vec<String> = Vec::new();
        let mut token: Option<String> = None;
        loop {
            // Kinesis pages with NextToken; the older ExclusiveStartStreamName (the last name
            // read) serves when an answer says HasMoreStreams without a token.
            let start_after = match &token {
                Some(_) => None,
                None => names.last().cloned(),
            };
            let out = self
                .client
                .list_streams()
                .set_limit(self.page_size)
                .set_next_token(token.take())
                .set_exclusive_start_stream_name(start_after)
                .send()
                .await
                .map_err(|e| service_error("Kinesis", &e))?;
            names.extend(out.stream_names().iter().cloned());
            if !out.has_more_streams() || out.stream_names().is_empty() {
                break;
            }
            token = out.next_token().map(str::to_owned);
        }
        let mut streams = Vec::with_capacity(names.len());
        for name in names {
            let out = self
                .client
                .describe_stream_summary()
                .stream_name(&name)
                .send()
                .await
                .map_err(|e| service_error("Kinesis", &e))?;
            let shards = out
                .stream_description_summary()
                .map_or(0, |s| u32::try_from(s.open_shard_count()).unwrap_or(0));
            streams.push(Stream { name, shards });
        }
        Ok(streams)
    }
}

/// Access table: `UserId` (S) → `GrantedUntil` (N, epoch seconds), `ExpiresAt` (N, TTL).
#[derive(Debug, Clone)]
pub struct DynamoAccess {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoAccess {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn from_sdk(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(aws_sdk_dynamodb::Client::new(sdk), table)
    }
}

impl AccessStore for DynamoAccess {
    async fn granted_until(&self, user_id: &str) -> Result<Option<DateTime<Utc>>, ServiceError> {
        let item =
            fleet_otp::aws::user_item(&self.client, &self.table, "access table", user_id).await?;
        Ok(item
            .as_ref()
            .and_then(|i| i.get("GrantedUntil"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .and_then(|secs| DateTime::from_timestamp(secs, 0)))
    }

    async fn grant(&self, user_id: &str, until: DateTime<Utc>) -> Result<(), ServiceError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("UserId", AttributeValue::S(user_id.to_owned()))
            .item(
                "GrantedUntil",
                AttributeValue::N(until.timestamp().to_string()),
            )
            .item(
                "ExpiresAt",
                AttributeValue::N((until.timestamp() + 3600).to_string()),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|e| service_error("access table", &e))
    }
}
