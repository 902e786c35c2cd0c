//! AWS adapters: the rules table in DynamoDB and the creator lookup in CloudTrail. They own every
//! SDK detail and map service errors to domain errors.

use aws_config::SdkConfig;
use aws_sdk_cloudtrail::config::http::HttpResponse;
use aws_sdk_cloudtrail::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudtrail::primitives::DateTime as SdkTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use tokio::time::Instant;

use crate::identity::creator;
use crate::ports::{CreatorLookup, LookupError, PolicyState, RuleSource};
use crate::rules::{Field, RuleRow};
use fleet_core::aws::{error_text, service_error};
use fleet_core::dynamo::{batch_get, batch_write, DynamoLedger};
use fleet_core::{ErrorClass, ServiceError};

/// The rules table: one item per rule, key `RuleId` (number).
#[derive(Debug, Clone)]
pub struct DynamoRules {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoRules {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn from_sdk(sdk: &SdkConfig, table: impl Into<String>) -> Self {
        Self::new(aws_sdk_dynamodb::Client::new(sdk), table)
    }
}

fn field(item: &HashMap<String, AttributeValue>, name: &str) -> Field {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Field::Absent,
        Some(AttributeValue::S(s) | AttributeValue::N(s)) => Field::Text(s.clone()),
        Some(AttributeValue::Bool(_)) => Field::WrongType("BOOL"),
        Some(AttributeValue::L(_)) => Field::WrongType("L"),
        Some(AttributeValue::M(_)) => Field::WrongType("M"),
        Some(AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)) => {
            Field::WrongType("set")
        }
        Some(_) => Field::WrongType("binary"),
    }
}

impl RuleSource for DynamoRules {
    /// A consistent, paged Scan: a rules table is small, and every row matters.
    async fn load(&self) -> Result<Vec<RuleRow>, ServiceError> {
        let mut items = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut rows = Vec::new();
        while let Some(item) = items.try_next().await.map_err(|e| {
            let mut error = service_error("rules table", &e);
            error.detail = format!("{}: {}", self.table, error.detail);
            error
        })? {
            rows.push(RuleRow {
                rule_id: field(&item, "RuleId"),
                tag_key: field(&item, "TagKey"),
                action: field(&item, "Action"),
                required: field(&item, "Required"),
                default: field(&item, "Default"),
            });
        }
        Ok(rows)
    }
}

/// LookupEvents is limited to 2 calls per second per account and region.
pub const LOOKUP_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// Pages read per instance before giving up (50 events each).
pub const MAX_LOOKUP_PAGES: usize = 20;

/// The creator lookup over CloudTrail's event history.
#[derive(Debug)]
pub struct CloudTrailLookup {
    client: aws_sdk_cloudtrail::Client,
    interval: std::time::Duration,
    next_slot: Mutex<Option<Instant>>,
}

impl CloudTrailLookup {
    /// The client should carry a retry config with backoff (see [`cloudtrail_client`]).
    pub fn new(client: aws_sdk_cloudtrail::Client) -> Self {
        Self::with_interval(client, LOOKUP_INTERVAL)
    }

    /// At most one call per `interval` from this adapter.
    pub fn with_interval(
        client: aws_sdk_cloudtrail::Client,
        interval: std::time::Duration,
    ) -> Self {
        Self {
            client,
            interval,
            next_slot: Mutex::new(None),
        }
    }

    /// Waits for this call's slot under the account's rate limit.
    async fn pace(&self) {
        let wait = {
            let mut next = self.next_slot.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// A CloudTrail client that backs off on ThrottlingException (5 attempts).
pub fn cloudtrail_client(sdk: &SdkConfig) -> aws_sdk_cloudtrail::Client {
    use aws_sdk_cloudtrail::config::retry::RetryConfig;
    let config = aws_sdk_cloudtrail::config::Builder::from(sdk)
        .retry_config(RetryConfig::standard().with_max_attempts(5))
        .build();
    aws_sdk_cloudtrail::Client::from_conf(config)
}

fn lookup_error<E>(err: SdkError<E, HttpResponse>) -> LookupError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = err.code().unwrap_or("NoErrorCode").to_owned();
    let message = err
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| error_text(&err));
    let transient = matches!(
        err,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_)
    ) || matches!(
        code.as_str(),
        "ThrottlingException"
            | "Throttling"
            | "InternalFailure"
            | "ServiceUnavailable"
            | "NoErrorCode"
    );
    LookupError {
        code,
        message,
        transient,
    }
}

fn sdk_time(t: DateTime<Utc>) -> SdkTime {
    SdkTime::from_secs(t.timestamp())
}

impl CreatorLookup for CloudTrailLookup {
    /// Events for the instance id, newest first; RunInstances is the oldest of them. With the
    /// original launch time known, an hour either side of it is searched instead of 90 days.
    async fn launched_by(
        &self,
        instance_id: &str,
        launched_at: Option<DateTime<Utc>>,
    ) -> Result<Option<String>, LookupError> {
        let attribute = LookupAttribute::builder()
            .attribute_key(LookupAttributeKey::ResourceName)
            .attribute_value(instance_id)
            .build()
            .map_err(|e| LookupError {
                code: "InvalidLookupAttributes".to_owned(),
                message: e.to_string(),
                transient: false,
            })?;
        let mut token = None;
        for _ in 0..MAX_LOOKUP_PAGES {
            self.pace().await;
            let mut request = self
                .client
                .lookup_events()
                .lookup_attributes(attribute.clone())
                .max_results(50)
                .set_next_token(token);
            if let Some(at) = launched_at {
                request = request
                    .start_time(sdk_time(at - Duration::hours(1)))
                    .end_time(sdk_time(at + Duration::hours(1)));
            }
            let out = request.send().await.map_err(lookup_error)?;
            let launch = out
                .events()
                .iter()
                .find(|e| e.event_name() == Some("RunInstances"));
            if let Some(event) = launch {
                let from_record = event
                    .cloud_trail_event()
                    .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
                    .and_then(|record| record.get("userIdentity").and_then(creator));
                return Ok(from_record.or_else(|| event.username().map(str::to_owned)));
            }
            match out.next_token().filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next.to_owned()),
                None => return Ok(None),
            }
        }
        Err(LookupError {
            code: "TooManyEvents".to_owned(),
            message: format!(
                "no RunInstances event among the newest {} events for {instance_id}",
                MAX_LOOKUP_PAGES * 50
            ),
            transient: false,
        })
    }
}

/// The policy's part of the fleet's state table (the scheduler's table, keys starting with
/// `tagging-policy#`): `tagging-policy#seen#<instance id>` (`FirstSeen`, for instances whose
/// launch time EC2 does not give) and the event ledger (`tagging-policy#event#…`,
/// `tagging-policy#lease`).
#[derive(Debug, Clone)]
pub struct DynamoPolicyState {
    client: aws_sdk_dynamodb::Client,
    table: String,
    ledger: DynamoLedger,
}

const STATE: &str = "state table";
const SEEN_PREFIX: &str = "tagging-policy#seen#";
/// A first sighting matters for a grace period of at most 30 days.
const SEEN_RETENTION: Duration = Duration::days(31);

impl DynamoPolicyState {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        let table = table.into();
        Self {
            ledger: DynamoLedger::new(client.clone(), table.clone(), "tagging-policy#", STATE),
            client,
            table,
        }
    }

    pub fn from_sdk(sdk: &SdkConfig, table: impl Into<String>) -> Self {
        Self::new(aws_sdk_dynamodb::Client::new(sdk), table)
    }
}

fn seen_key(instance_id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([(
        "Id".to_owned(),
        AttributeValue::S(format!("{SEEN_PREFIX}{instance_id}")),
    )])
}

impl PolicyState for DynamoPolicyState {
    type Ledger = DynamoLedger;

    fn ledger(&self) -> &DynamoLedger {
        &self.ledger
    }

    async fn first_seen(
        &self,
        instance_ids: &[String],
    ) -> Result<BTreeMap<String, DateTime<Utc>>, ServiceError> {
        let keys = instance_ids.iter().map(|id| seen_key(id)).collect();
        let items = batch_get(&self.client, STATE, &self.table, keys, None, true).await?;
        items
            .iter()
            .filter_map(|item| {
                let id = item.get("Id")?.as_s().ok()?.strip_prefix(SEEN_PREFIX)?;
                Some((id.to_owned(), item.get("FirstSeen")))
            })
            .map(|(id, value)| {
                value
                    .and_then(|v| v.as_s().ok())
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| (id.clone(), t.with_timezone(&Utc)))
                    .ok_or_else(|| {
                        ServiceError::new(
                            STATE,
                            ErrorClass::CorruptState,
                            format!("FirstSeen of {id} is not an RFC 3339 time"),
                        )
                    })
            })
            .collect()
    }

    async fn record_first_seen(
        &self,
        sightings: &[(String, DateTime<Utc>)],
    ) -> Result<(), ServiceError> {
        let writes = sightings
            .iter()
            .map(|(id, at)| {
                let mut item = seen_key(id);
                item.insert("FirstSeen".into(), AttributeValue::S(at.to_rfc3339()));
                item.insert(
                    "ExpiresAt".into(),
                    AttributeValue::N((*at + SEEN_RETENTION).timestamp().to_string()),
                );
                PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map(|put| WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ServiceError::new(STATE, ErrorClass::Internal, e.to_string()))?;
        batch_write(&self.client, STATE, &self.table, writes).await
    }
}
