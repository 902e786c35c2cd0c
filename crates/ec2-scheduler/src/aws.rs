//! AWS adapters: the DynamoDB state table (EC2's adapter is the fleet's shared one).
//!
//! Items, all keyed by `Id`:
//! - `ec2-scheduler`: `LastSuccessfulRun`;
//! - `ec2-scheduler#instance#<instance id>`: the note about one instance (`Schedule`, the first
//!   sighting `FirstSeenAfter`/`FirstSeenAt`, the pending `PendingAction`/`PendingDue`/
//!   `PendingSince`), read for every listed instance with BatchGetItem and written only when it
//!   changes; one item per instance, so no fleet outgrows the 400 KB item limit;
//! - `ec2-scheduler#event#<event id>` and `ec2-scheduler#lease`: the shared event ledger
//!   (`fleet_core::dynamo::DynamoLedger`): terminations reserved and the report of one scheduled
//!   event across Lambda's retries, and the lease that keeps runs from overlapping.
//!
//! Notes and events carry `ExpiresAt` (the table's TTL attribute), so items of terminated
//! instances and old events go away on their own.

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

use crate::decide::{Action, Window};
use crate::ports::{InstanceNote, PendingAction, StateStore};
use fleet_core::aws::service_error;
use fleet_core::dynamo::{batch_get, batch_write, stamp, DynamoLedger, Item};
use fleet_core::{ErrorClass, ServiceError};

pub use fleet_ec2::{ec2_error, AwsEc2};

/// Errors name the table they come from.
const SERVICE: &str = "state table";

/// The state table: one item per function, `Id` = the function's name in the fleet, plus the
/// per-instance notes and per-event records.
#[derive(Debug, Clone)]
pub struct DynamoState {
    client: aws_sdk_dynamodb::Client,
    table: String,
    id: String,
    ledger: DynamoLedger,
}

const KEY: &str = "Id";
const LAST_RUN: &str = "LastSuccessfulRun";
const NOTE_PREFIX: &str = "ec2-scheduler#instance#";
/// Notes outlive anything they hold (a one-off's day, a pending action's TTL) by far.
const NOTE_RETENTION_DAYS: i64 = 7;

impl DynamoState {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        let table = table.into();
        Self {
            ledger: DynamoLedger::new(client.clone(), table.clone(), "ec2-scheduler#", SERVICE),
            client,
            table,
            id: "ec2-scheduler".to_owned(),
        }
    }

    pub fn from_sdk(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(aws_sdk_dynamodb::Client::new(sdk), table)
    }
}

fn corrupt(detail: String) -> ServiceError {
    ServiceError::new(SERVICE, ErrorClass::CorruptState, detail)
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn expires(at: DateTime<Utc>, days: i64) -> AttributeValue {
    AttributeValue::N((at + Duration::days(days)).timestamp().to_string())
}

fn key(id: String) -> Item {
    HashMap::from([(KEY.to_owned(), s(id))])
}

fn text<'a>(item: &'a Item, name: &str) -> Result<Option<&'a str>, ServiceError> {
    item.get(name)
        .map(|v| {
            v.as_s()
                .map(String::as_str)
                .map_err(|_| corrupt(format!("{name} is not a string")))
        })
        .transpose()
}

fn instant(item: &Item, name: &str) -> Result<Option<DateTime<Utc>>, ServiceError> {
    text(item, name)?
        .map(|t| {
            DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| corrupt(format!("{name}={t:?}: {e}")))
        })
        .transpose()
}

fn action(name: &str) -> Option<Action> {
    [Action::Start, Action::Stop, Action::Terminate]
        .into_iter()
        .find(|a| a.as_str() == name)
}

fn note_from(item: &Item) -> Result<InstanceNote, ServiceError> {
    let id = text(item, KEY)?.unwrap_or_default();
    let instance_id = id.strip_prefix(NOTE_PREFIX).unwrap_or(id).to_owned();
    let first_seen = match (
        instant(item, "FirstSeenAfter")?,
        instant(item, "FirstSeenAt")?,
    ) {
        (Some(last_run), Some(now)) => Some(Window { last_run, now }),
        _ => None,
    };
    let pending = match text(item, "PendingAction")? {
        Some(name) => {
            let action = action(name)
                .ok_or_else(|| corrupt(format!("PendingAction={name:?} of {instance_id}")))?;
            match (instant(item, "PendingDue")?, instant(item, "PendingSince")?) {
                (Some(due_at), Some(since)) => Some(PendingAction {
                    action,
                    due_at,
                    since,
                }),
                _ => {
                    return Err(corrupt(format!(
                        "the pending action of {instance_id} has no times"
                    )))
                }
            }
        }
        None => None,
    };
    Ok(InstanceNote {
        schedule: text(item, "Schedule")?.unwrap_or_default().to_owned(),
        instance_id,
        first_seen,
        pending,
    })
}

fn note_item(note: &InstanceNote) -> Item {
    let mut item = key(format!("{NOTE_PREFIX}{}", note.instance_id));
    item.insert("Schedule".into(), s(&note.schedule));
    let mut latest = None;
    if let Some(w) = note.first_seen {
        item.insert("FirstSeenAfter".into(), s(stamp(w.last_run)));
        item.insert("FirstSeenAt".into(), s(stamp(w.now)));
        latest = Some(w.now);
    }
    if let Some(p) = note.pending {
        item.insert("PendingAction".into(), s(p.action.as_str()));
        item.insert("PendingDue".into(), s(stamp(p.due_at)));
        item.insert("PendingSince".into(), s(stamp(p.since)));
        latest = latest.max(Some(p.since));
    }
    if let Some(at) = latest {
        item.insert("ExpiresAt".into(), expires(at, NOTE_RETENTION_DAYS));
    }
    item
}

impl StateStore for DynamoState {
    type Ledger = DynamoLedger;

    async fn last_successful_run(&self) -> Result<Option<DateTime<Utc>>, ServiceError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, s(&self.id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| service_error(SERVICE, &e))?;
        let Some(value) = out.item().and_then(|item| item.get(LAST_RUN)) else {
            return Ok(None);
        };
        let text = value
            .as_s()
            .map_err(|_| corrupt(format!("{LAST_RUN} is not a string")))?;
        DateTime::parse_from_rfc3339(text)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| corrupt(format!("{LAST_RUN}={text:?}: {e}")))
    }

    async fn record_successful_run(&self, at: DateTime<Utc>) -> Result<(), ServiceError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(KEY, s(&self.id))
            .item(LAST_RUN, s(stamp(at)))
            .condition_expression("attribute_not_exists(#last) OR #last < :at")
            .expression_attribute_names("#last", LAST_RUN)
            .expression_attribute_values(":at", s(stamp(at)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // A later run already recorded a later time: keep it.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(service_error(SERVICE, &e)),
        }
    }

    async fn notes(&self, instance_ids: &[String]) -> Result<Vec<InstanceNote>, ServiceError> {
        let keys = instance_ids
            .iter()
            .map(|id| key(format!("{NOTE_PREFIX}{id}")))
            .collect();
        batch_get(&self.client, SERVICE, &self.table, keys, None, true)
            .await?
            .iter()
            .map(note_from)
            .collect()
    }

    async fn save_notes(&self, notes: &[InstanceNote]) -> Result<(), ServiceError> {
        let writes = notes
            .iter()
            .map(|note| {
                PutRequest::builder()
                    .set_item(Some(note_item(note)))
                    .build()
                    .map(|put| WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ServiceError::new(SERVICE, ErrorClass::Internal, e.to_string()))?;
        batch_write(&self.client, SERVICE, &self.table, writes).await
    }

    async fn forget_notes(&self, instance_ids: &[String]) -> Result<(), ServiceError> {
        let writes = instance_ids
            .iter()
            .map(|id| {
                DeleteRequest::builder()
                    .set_key(Some(key(format!("{NOTE_PREFIX}{id}"))))
                    .build()
                    .map(|delete| WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ServiceError::new(SERVICE, ErrorClass::Internal, e.to_string()))?;
        batch_write(&self.client, SERVICE, &self.table, writes).await
    }

    fn ledger(&self) -> &DynamoLedger {
        &self.ledger
    }
}
