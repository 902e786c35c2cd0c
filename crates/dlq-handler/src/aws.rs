//! The AWS adapters: the archive and digest ledger in DynamoDB, the spill bucket in S3, replays
//! through Lambda `Invoke`. Every SDK detail stays here; errors become `ServiceError`s through
//! `fleet_core::aws::service_error`.
//!
//! ## The batched conditional write
//!
//! `BatchWriteItem` takes no condition and no update expression: it cannot count a duplicate
//! delivery, would reset a replayed item to `new`, and cannot tell a redelivery of the same
//! message from a new one. So a batch is written with one `TransactWriteItems` of conditional
//! `Update`s (up to 100 actions, 4 MB), each:
//!
//! ```text
//! SET <fields> = if_not_exists(<field>, :v), LastSeen = :now, ExpiresAt = :ttl
//! ADD Count :one, Deliveries :{message id}
//! CONDITION attribute_not_exists(Id) OR NOT contains(Deliveries, :message id)
//! ```
//!
//! A transaction is all or nothing, so when it is cancelled its `CancellationReasons` (one per
//! action, in order) sort the batch: `ConditionalCheckFailed` is a redelivered message, already
//! counted (done); `None` did nothing wrong (retried together in the next transaction); anything
//! else (`ThrottlingError`, `TransactionConflict`, …) is written on its own with `UpdateItem`
//! (the SDK backs off), so one throttled message fails alone. A clean batch is one call; a batch
//! with redeliveries two.

use aws_config::SdkConfig;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use aws_sdk_lambda::types::InvocationType;
use chrono::{DateTime, Utc};
use fleet_core::aws::service_error;
use fleet_core::dynamo::batch_get;
use fleet_core::{ErrorClass, ServiceError};
use std::collections::{BTreeSet, HashMap};

use crate::classify::FailureClass;
use crate::model::{
    ArchiveWrite, ArchivedFailure, Filter, Recorded, Shape, SpillLocation, Status, StoredEvent,
    UNKNOWN_FUNCTION,
};
use crate::ports::{Archive, DigestLedger, EventSpill, Invoker};

/// DynamoDB's limits on one transaction.
pub const MAX_TRANSACTION_ACTIONS: usize = 100;
const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;
/// Rounds of transactions before what is left is written item by item.
const TRANSACTION_ROUNDS: usize = 3;
/// The global secondary index on `Window` (template: `ByWindow`).
pub const WINDOW_INDEX: &str = "ByWindow";
/// Digest ledger items: `Id = digest#<window>`.
const DIGEST_PREFIX: &str = "digest#";

use fleet_core::dynamo::stamp as ts;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// An update expression under construction: `#nX` names and `:vX` values.
#[derive(Default)]
struct Expr {
    set: Vec<String>,
    add: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    fn name(&mut self, attribute: &str) -> String {
        let key = format!("#{attribute}");
        self.names.insert(key.clone(), attribute.to_owned());
        key
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let key = format!(":v{}", self.values.len());
        self.values.insert(key.clone(), value);
        key
    }

    /// `SET attr = if_not_exists(attr, value)`: kept from the first delivery.
    fn set_once(&mut self, attribute: &str, value: Option<AttributeValue>) {
        if let Some(value) = value {
            let name = self.name(attribute);
            let value = self.value(value);
            self.set
                .push(format!("{name} = if_not_exists({name}, {value})"));
        }
    }

    fn set(&mut self, attribute: &str, value: AttributeValue) {
        let name = self.name(attribute);
        let value = self.value(value);
        self.set.push(format!("{name} = {value}"));
    }

    fn add(&mut self, attribute: &str, value: AttributeValue) {
        let name = self.name(attribute);
        let value = self.value(value);
        self.add.push(format!("{name} {value}"));
    }

    fn expression(&self) -> String {
        let mut parts = Vec::new();
        if !self.set.is_empty() {
            parts.push(format!("SET {}", self.set.join(", ")));
        }
        if !self.add.is_empty() {
            parts.push(format!("ADD {}", self.add.join(", ")));
        }
        parts.join(" ")
    }
}

/// The conditional update of one failure: (update expression, condition, names, values).
struct FailureUpdate {
    expression: String,
    condition: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn failure_update(write: &ArchiveWrite) -> FailureUpdate {
    let f = &write.failure;
    let mut e = Expr::default();
    e.set_once("Function", Some(s(f.function_name())));
    e.set_once("FunctionArn", f.function_arn.clone().map(s));
    e.set_once("Class", Some(s(f.class.as_str())));
    e.set_once("ErrorType", f.error_type.clone().map(s));
    e.set_once("ErrorMessage", Some(s(f.error_message.clone())));
    e.set_once("ErrorCode", f.error_code.clone().map(s));
    e.set_once("RequestId", f.request_id.clone().map(s));
    e.set_once("Condition", f.condition.clone().map(s));
    e.set_once("Attempts", f.attempts.map(n));
    e.set_once("Shape", Some(s(f.shape.as_str())));
    e.set_once("SourceArn", f.source_arn.clone().map(s));
    e.set_once("FailedAt", f.failed_at.map(|t| s(ts(t))));
    match &write.event {
        StoredEvent::Inline(event) => e.set_once("Event", Some(s(event.clone()))),
        StoredEvent::Spilled { location, bytes } => {
            e.set_once("EventLocation", Some(s(location.to_string())));
            e.set_once("EventBytes", Some(n(bytes)));
        }
    }
    e.set_once("FirstSeen", Some(s(ts(write.seen_at))));
    e.set_once("Window", Some(s(ts(write.window))));
    e.set_once("Status", Some(s(Status::New.as_str())));
    e.set("LastSeen", s(ts(write.seen_at)));
    e.set("ExpiresAt", n(write.expires_at.timestamp()));
    e.add("Count", n(1));
    e.add(
        "Deliveries",
        AttributeValue::Ss(vec![f.delivery_id.clone()]),
    );
    let id = e.name("Id");
    let deliveries = e.name("Deliveries");
    let delivery = e.value(s(f.delivery_id.clone()));
    FailureUpdate {
        expression: e.expression(),
        condition: format!("attribute_not_exists({id}) OR NOT contains({deliveries}, {delivery})"),
        names: e.names,
        values: e.values,
    }
}

/// The size DynamoDB counts for a write, roughly: for chunking transactions under 4 MB.
fn approximate_bytes(write: &ArchiveWrite) -> usize {
    let event = match &write.event {
        StoredEvent::Inline(e) => e.len(),
        StoredEvent::Spilled { .. } => 256,
    };
    event + write.failure.error_message.len() + 2048
}

fn key(id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("Id".to_owned(), s(id))])
}

fn corrupt(id: &str, what: &str) -> ServiceError {
    ServiceError::new(
        "DynamoDB",
        ErrorClass::CorruptState,
        format!("archive item {id}: {what}"),
    )
}

/// An archive item read back.
fn item_from(map: &HashMap<String, AttributeValue>) -> Result<ArchivedFailure, ServiceError> {
    let id = map
        .get("Id")
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or_else(|| corrupt("?", "no Id"))?;
    let text = |name: &str| map.get(name).and_then(|v| v.as_s().ok()).cloned();
    let number = |name: &str| -> Result<Option<u64>, ServiceError> {
        match map.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_n()
                .ok()
                .and_then(|x| x.parse::<u64>().ok())
                .map(Some)
                .ok_or_else(|| corrupt(&id, &format!("{name} is not a number"))),
        }
    };
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, ServiceError> {
        match text(name) {
            None => Ok(None),
            Some(t) => DateTime::parse_from_rfc3339(&t)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| corrupt(&id, &format!("{name} {t:?} is not a time"))),
        }
    };
    let required_time = |name: &str| -> Result<DateTime<Utc>, ServiceError> {
        time(name)?.ok_or_else(|| corrupt(&id, &format!("no {name}")))
    };
    let class = text("Class")
        .ok_or_else(|| corrupt(&id, "no Class"))?
        .parse::<FailureClass>()
        .map_err(|e| corrupt(&id, &e.to_string()))?;
    let status = text("Status")
        .unwrap_or_else(|| "new".to_owned())
        .parse::<Status>()
        .map_err(|e| corrupt(&id, &e))?;
    let event = match (text("Event"), text("EventLocation")) {
        (Some(event), _) => StoredEvent::Inline(event),
        (None, Some(location)) => StoredEvent::Spilled {
            location: location
                .parse::<SpillLocation>()
                .map_err(|e| corrupt(&id, &e))?,
            bytes: number("EventBytes")?.unwrap_or_default(),
        },
        (None, None) => StoredEvent::Inline(String::new()),
    };
    let expires = number("ExpiresAt")?.unwrap_or_default();
    Ok(ArchivedFailure {
        function: text("Function").filter(|f| f != UNKNOWN_FUNCTION),
        function_arn: text("FunctionArn"),
        class,
        error_type: text("ErrorType"),
        error_message: text("ErrorMessage").unwrap_or_default(),
        error_code: text("ErrorCode"),
        request_id: text("RequestId"),
        condition: text("Condition"),
        attempts: number("Attempts")?.map(|a| a.min(u64::from(u32::MAX)) as u32),
        shape: Shape::parse(&text("Shape").unwrap_or_default()),
        source_arn: text("SourceArn"),
        failed_at: time("FailedAt")?,
        count: number("Count")?.unwrap_or(1),
        first_seen: required_time("FirstSeen")?,
        last_seen: required_time("LastSeen")?,
        window: required_time("Window")?,
        status,
        event,
        expires_at: DateTime::<Utc>::from_timestamp(i64::try_from(expires).unwrap_or(0), 0)
            .unwrap_or_default(),
        replays: number("Replays")?.unwrap_or_default(),
        replayed_at: time("ReplayedAt")?,
        replay_request_ids: map
            .get("ReplayRequestIds")
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default(),
        resolved_at: time("ResolvedAt")?,
        id,
    })
}

/// How a transaction ended.
enum Transaction {
    Done,
    /// One reason code per action, in order (`None` = that action was fine).
    Cancelled(Vec<Option<String>>),
    Failed(ServiceError),
}

/// The archive table.
#[derive(Debug, Clone)]
pub struct DynamoArchive {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoArchive {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn transact(&self, writes: &[&ArchiveWrite]) -> Transaction {
        let mut items = Vec::with_capacity(writes.len());
        for write in writes {
            let u = failure_update(write);
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(&write.failure.id)))
                .update_expression(u.expression)
                .condition_expression(u.condition)
                .set_expression_attribute_names(Some(u.names))
                .set_expression_attribute_values(Some(u.values))
                .build();
            match update {
                Ok(update) => items.push(TransactWriteItem::builder().update(update).build()),
                Err(e) => {
                    return Transaction::Failed(ServiceError::new(
                        "DynamoDB",
                        ErrorClass::Internal,
                        e.to_string(),
                    ))
                }
            }
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Transaction::Done,
            Err(err) => match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    Transaction::Cancelled(
                        cancelled
                            .cancellation_reasons()
                            .iter()
                            .map(|r| r.code().filter(|c| *c != "None").map(str::to_owned))
                            .collect(),
                    )
                }
                _ => Transaction::Failed(service_error("DynamoDB", &err)),
            },
        }
    }

    /// One failure on its own (`UpdateItem`, same condition).
    async fn write_one(&self, write: &ArchiveWrite) -> Result<Recorded, ServiceError> {
        let u = failure_update(write);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&write.failure.id)))
            .update_expression(u.expression)
            .condition_expression(u.condition)
            .set_expression_attribute_names(Some(u.names))
            .set_expression_attribute_values(Some(u.values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Recorded::Archived),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(Recorded::AlreadyCounted)
            }
            Err(e) => Err(service_error("DynamoDB", &e)),
        }
    }

    /// Writes `indexes` of `batch`: transactions first, what they cannot settle item by item.
    async fn write_chunk(
        &self,
        batch: &[ArchiveWrite],
        indexes: Vec<usize>,
        results: &mut [Option<Result<Recorded, ServiceError>>],
    ) {
        let mut pending = indexes;
        let mut alone = Vec::new();
        for _ in 0..TRANSACTION_ROUNDS {
            if pending.len() < 2 {
                break;
            }
            let writes: Vec<&ArchiveWrite> = pending.iter().map(|&i| &batch[i]).collect();
            match self.transact(&writes).await {
                Transaction::Done => {
                    for &i in &pending {
                        results[i] = Some(Ok(Recorded::Archived));
                    }
                    pending.clear();
                }
                Transaction::Cancelled(reasons) => {
                    let mut retry = Vec::new();
                    for (position, &i) in pending.iter().enumerate() {
                        match reasons.get(position) {
                            Some(None) => retry.push(i),
                            Some(Some(code)) if code == "ConditionalCheckFailed" => {
                                tracing::debug!(id = %batch[i].failure.id, message_id = %batch[i].failure.delivery_id, "redelivery: condition failed in the transaction");
                                results[i] = Some(Ok(Recorded::AlreadyCounted));
                            }
                            Some(Some(code)) => {
                                tracing::warn!(id = %batch[i].failure.id, reason = %code, "transaction cancelled for this item; writing it alone");
                                alone.push(i);
                            }
                            None => alone.push(i),
                        }
                    }
                    pending = retry;
                }
                Transaction::Failed(error) => {
                    tracing::warn!(error = %error, items = pending.len(), "transaction failed; writing item by item");
                    break;
                }
            }
        }
        alone.append(&mut pending);
        alone.sort_unstable();
        for i in alone {
            results[i] = Some(self.write_one(&batch[i]).await);
        }
    }
}

impl Archive for DynamoArchive {
    async fn record(&self, batch: &[ArchiveWrite]) -> Vec<Result<Recorded, ServiceError>> {
        let mut results: Vec<Option<Result<Recorded, ServiceError>>> = vec![None; batch.len()];
        // A transaction cannot touch one item twice: the first write of each id goes in the
        // transactions, a repeat of an id in the same batch is written after, alone.
        let mut seen = BTreeSet::new();
        let (mut firsts, mut repeats) = (Vec::new(), Vec::new());
        for (i, write) in batch.iter().enumerate() {
            if seen.insert(write.failure.id.as_str()) {
                firsts.push(i);
            } else {
                repeats.push(i);
            }
        }
        let mut chunk = Vec::new();
        let mut bytes = 0;
        for i in firsts {
            let size = approximate_bytes(&batch[i]);
            if !chunk.is_empty()
                && (chunk.len() == MAX_TRANSACTION_ACTIONS || bytes + size > MAX_TRANSACTION_BYTES)
            {
                self.write_chunk(batch, std::mem::take(&mut chunk), &mut results)
                    .await;
                bytes = 0;
            }
            chunk.push(i);
            bytes += size;
        }
        if !chunk.is_empty() {
            self.write_chunk(batch, chunk, &mut results).await;
        }
        for i in repeats {
            results[i] = Some(self.write_one(&batch[i]).await);
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(ServiceError::new(
                        "DynamoDB",
                        ErrorClass::Internal,
                        "write not attempted",
                    ))
                })
            })
            .collect()
    }

    async fn get(&self, id: &str) -> Result<Option<ArchivedFailure>, ServiceError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| service_error("DynamoDB", &e))?;
        output
            .item()
            .filter(|item| item.contains_key("Class"))
            .map(item_from)
            .transpose()
    }

    async fn list(&self, filter: &Filter) -> Result<Vec<ArchivedFailure>, ServiceError> {
        let mut conditions = vec!["attribute_exists(#class)".to_owned()];
        let mut names = HashMap::from([("#class".to_owned(), "Class".to_owned())]);
        let mut values = HashMap::new();
        if let Some(function) = &filter.function {
            conditions.push("#function = :function".into());
            names.insert("#function".into(), "Function".into());
            values.insert(":function".into(), s(function.clone()));
        }
        if let Some(class) = filter.class {
            conditions.push("#class = :class".into());
            values.insert(":class".into(), s(class.as_str()));
        }
        if let Some(since) = filter.since {
            conditions.push("#last >= :since".into());
            names.insert("#last".into(), "LastSeen".into());
            values.insert(":since".into(), s(ts(since)));
        }
        if let Some(status) = filter.status {
            conditions.push("#status = :status".into());
            names.insert("#status".into(), "Status".into());
            values.insert(":status".into(), s(status.as_str()));
        }
        let items = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression(conditions.join(" AND "))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| service_error("DynamoDB", &e))?;
        let mut items = items.iter().map(item_from).collect::<Result<Vec<_>, _>>()?;
        items.sort_by(|a, b| (a.last_seen, &a.id).cmp(&(b.last_seen, &b.id)));
        Ok(items)
    }

    async fn in_window(&self, window: DateTime<Utc>) -> Result<Vec<ArchivedFailure>, ServiceError> {
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(WINDOW_INDEX)
            .key_condition_expression("#window = :window")
            .expression_attribute_names("#window", "Window")
            .expression_attribute_values(":window", s(ts(window)))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| service_error("DynamoDB", &e))?;
        items.iter().map(item_from).collect()
    }

    async fn mark_replayed(
        &self,
        id: &str,
        at: DateTime<Utc>,
        replay_request_id: Option<String>,
    ) -> Result<(), ServiceError> {
        let mut e = Expr::default();
        e.set("Status", s(Status::Replayed.as_str()));
        e.set("ReplayedAt", s(ts(at)));
        e.add("Replays", n(1));
        if let Some(request_id) = replay_request_id {
            e.add("ReplayRequestIds", AttributeValue::Ss(vec![request_id]));
        }
        self.update_existing(id, e).await
    }

    async fn resolve(&self, id: &str, at: DateTime<Utc>) -> Result<(), ServiceError> {
        let mut e = Expr::default();
        e.set("Status", s(Status::Resolved.as_str()));
        e.set("ResolvedAt", s(ts(at)));
        self.update_existing(id, e).await
    }
}

impl DynamoArchive {
    /// An update of an item that must exist: `NotFound` when it does not.
    async fn update_existing(&self, id: &str, mut e: Expr) -> Result<(), ServiceError> {
        let class = e.name("Class");
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .update_expression(e.expression())
            .condition_expression(format!("attribute_exists({class})"))
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(err))
                if matches!(
                    err.err(),
                    UpdateItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Err(ServiceError::new(
                    "DynamoDB",
                    ErrorClass::NotFound,
                    format!("no archived failure {id}"),
                ))
            }
            Err(err) => Err(service_error("DynamoDB", &err)),
        }
    }

    fn digest_key(window: DateTime<Utc>) -> HashMap<String, AttributeValue> {
        key(&format!("{DIGEST_PREFIX}{}", ts(window)))
    }
}

impl DigestLedger for DynamoArchive {
    async fn unsent(&self, windows: &[DateTime<Utc>]) -> Result<Vec<DateTime<Utc>>, ServiceError> {
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        let keys = windows.iter().map(|w| Self::digest_key(*w)).collect();
        let items = batch_get(
            &self.client,
            "DynamoDB",
            &self.table,
            keys,
            Some("Id, SentAt"),
            true,
        )
        .await?;
        let sent: BTreeSet<String> = items
            .iter()
            .filter(|item| item.contains_key("SentAt"))
            .filter_map(|item| item.get("Id").and_then(|v| v.as_s().ok()).cloned())
            .collect();
        Ok(windows
            .iter()
            .filter(|w| !sent.contains(&format!("{DIGEST_PREFIX}{}", ts(**w))))
            .copied()
            .collect())
    }

    async fn claim(
        &self,
        window: DateTime<Utc>,
        at: DateTime<Utc>,
        stale_after: chrono::Duration,
    ) -> Result<bool, ServiceError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::digest_key(window)))
            .update_expression("SET ClaimedAt = :at, DigestWindow = :window, ExpiresAt = :ttl")
            .condition_expression(
                "attribute_not_exists(SentAt) AND (attribute_not_exists(ClaimedAt) OR ClaimedAt < :stale)",
            )
            .expression_attribute_values(":at", s(ts(at)))
            .expression_attribute_values(":window", s(ts(window)))
            .expression_attribute_values(":stale", s(ts(at - stale_after)))
            .expression_attribute_values(":ttl", n((at + chrono::Duration::days(2)).timestamp()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(service_error("DynamoDB", &e)),
        }
    }

    async fn complete(
        &self,
        window: DateTime<Utc>,
        at: DateTime<Utc>,
        messages: usize,
    ) -> Result<(), ServiceError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::digest_key(window)))
            .update_expression("SET SentAt = :at, Messages = :messages")
            .expression_attribute_values(":at", s(ts(at)))
            .expression_attribute_values(":messages", n(messages))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| service_error("DynamoDB", &e))
    }

    async fn release(&self, window: DateTime<Utc>) -> Result<(), ServiceError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::digest_key(window)))
            .update_expression("REMOVE ClaimedAt")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| service_error("DynamoDB", &e))
    }
}

/// An S3 client that uses path-style addressing when pointed at a local stand-in.
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(fleet_core::aws::s3_force_path_style(sdk))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// The spill bucket.
#[derive(Debug, Clone)]
pub struct S3Spill {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Spill {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }
}

impl EventSpill for S3Spill {
    async fn put(&self, key: &str, event: &str) -> Result<SpillLocation, ServiceError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(aws_sdk_s3::primitives::ByteStream::from(
                event.as_bytes().to_vec(),
            ))
            .send()
            .await
            .map_err(|e| service_error("S3", &e))?;
        Ok(SpillLocation {
            bucket: self.bucket.clone(),
            key: key.to_owned(),
        })
    }

    async fn get(&self, location: &SpillLocation) -> Result<String, ServiceError> {
        let output = self
            .client
            .get_object()
            .bucket(&location.bucket)
            .key(&location.key)
            .send()
            .await
            .map_err(|e| service_error("S3", &e))?;
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| ServiceError::new("S3", ErrorClass::Unavailable, e.to_string()))?
            .into_bytes();
        String::from_utf8(bytes.to_vec()).map_err(|_| {
            ServiceError::new(
                "S3",
                ErrorClass::CorruptState,
                format!("{location} is not UTF-8"),
            )
        })
    }
}

/// Replays through Lambda.
#[derive(Debug, Clone)]
pub struct LambdaInvoker {
    client: aws_sdk_lambda::Client,
}

impl LambdaInvoker {
    pub fn new(client: aws_sdk_lambda::Client) -> Self {
        Self { client }
    }
}

impl Invoker for LambdaInvoker {
    async fn invoke_async(
        &self,
        function: &str,
        payload: &str,
    ) -> Result<Option<String>, ServiceError> {
        use aws_sdk_lambda::operation::RequestId;
        let output = self
            .client
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::Event)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload.as_bytes()))
            .send()
            .await
            .map_err(|e| service_error("Lambda", &e))?;
        // An asynchronous invoke is accepted with 202: the event is queued for the function.
        if output.status_code() != 202 {
            return Err(ServiceError::new(
                "Lambda",
                ErrorClass::Internal,
                format!(
                    "Invoke answered {} instead of 202 Accepted",
                    output.status_code()
                ),
            ));
        }
        Ok(output.request_id().map(str::to_owned))
    }
}
