//! DynamoDB's batch calls with their partial-success semantics written once: BatchGetItem (at
//! most 100 keys per call) and BatchWriteItem (at most 25 writes per call) may leave part of a
//! request unprocessed under load; those parts are asked again, with a short backoff, and a
//! request still unprocessed after a few attempts fails as `Throttled` (nothing is dropped
//! silently).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, WriteRequest};
use aws_sdk_dynamodb::Client;

use crate::aws::service_error;
use crate::error::{ErrorClass, ServiceError};

pub type Item = HashMap<String, AttributeValue>;

const GET_KEYS_PER_CALL: usize = 100;
const WRITES_PER_CALL: usize = 25;
const ATTEMPTS: u32 = 5;

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(25 << attempt.min(6))
}

fn unprocessed(service: &'static str, call: &str) -> ServiceError {
    ServiceError::new(
        service,
        ErrorClass::Throttled,
        format!("{call} left part of the request unprocessed after {ATTEMPTS} attempts"),
    )
}

/// The items with these keys (absent ones are simply missing), read with `consistent` reads and
/// `projection` when given. Errors name `service`.
pub async fn batch_get(
    client: &Client,
    service: &'static str,
    table: &str,
    keys: Vec<Item>,
    projection: Option<&str>,
    consistent: bool,
) -> Result<Vec<Item>, ServiceError> {
    let mut items = Vec::new();
    for chunk in keys.chunks(GET_KEYS_PER_CALL) {
        let mut request = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .set_projection_expression(projection.map(str::to_owned))
                .consistent_read(consistent)
                .build()
                .map_err(|e| ServiceError::new(service, ErrorClass::Internal, e.to_string()))?,
        );
        for attempt in 0..ATTEMPTS {
            let Some(keys) = request.take() else { break };
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let output = client
                .batch_get_item()
                .request_items(table, keys)
                .send()
                .await
                .map_err(|e| service_error(service, &e))?;
            if let Some(found) = output.responses().and_then(|r| r.get(table)) {
                items.extend(found.iter().cloned());
            }
            request = output
                .unprocessed_keys()
                .and_then(|u| u.get(table))
                .filter(|k| !k.keys().is_empty())
                .cloned();
        }
        if request.is_some() {
            return Err(unprocessed(service, "BatchGetItem"));
        }
    }
    Ok(items)
}

/// Puts and deletes, 25 per call. Writes are unconditional (BatchWriteItem takes no condition).
pub async fn batch_write(
    client: &Client,
    service: &'static str,
    table: &str,
    writes: Vec<WriteRequest>,
) -> Result<(), ServiceError> {
    for chunk in writes.chunks(WRITES_PER_CALL) {
        let mut request = Some(chunk.to_vec());
        for attempt in 0..ATTEMPTS {
            let Some(writes) = request.take() else { break };
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let output = client
                .batch_write_item()
                .request_items(table, writes)
                .send()
                .await
                .map_err(|e| service_error(service, &e))?;
            request = output
                .unprocessed_items()
                .and_then(|u| u.get(table))
                .filter(|w| !w.is_empty())
                .cloned();
        }
        if request.is_some() {
            return Err(unprocessed(service, "BatchWriteItem"));
        }
    }
    Ok(())
}

/// The event ledger in a state table keyed by `Id`: `<prefix>event#<event id>` (`Actions`
/// reserved, the report) and `<prefix>lease` (`Owner`, `Until`), each with `ExpiresAt` for the
/// table's TTL.
#[derive(Debug, Clone)]
pub struct DynamoLedger {
    client: Client,
    table: String,
    prefix: String,
    service: &'static str,
}

/// Lambda gives up retrying an event after MaximumEventAgeInSeconds (at most 6 hours).
const EVENT_RETENTION: chrono::Duration = chrono::Duration::days(1);

/// An instant as the fleet's tables store it: fixed-width UTC with milliseconds, so stamps
/// compare correctly as strings (conditional writes and key conditions rely on it).
pub fn stamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn expires(at: chrono::DateTime<chrono::Utc>) -> AttributeValue {
    AttributeValue::N((at + EVENT_RETENTION).timestamp().to_string())
}

fn is_condition_failure<E, R>(err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

impl DynamoLedger {
    /// `prefix` is the function's own part of the table (`ec2-scheduler#`); errors name `service`.
    pub fn new(
        client: Client,
        table: impl Into<String>,
        prefix: impl Into<String>,
        service: &'static str,
    ) -> Self {
        Self {
            client,
            table: table.into(),
            prefix: prefix.into(),
            service,
        }
    }

    fn key(&self, suffix: &str) -> Item {
        HashMap::from([(
            "Id".to_owned(),
            AttributeValue::S(format!("{}{suffix}", self.prefix)),
        )])
    }

    fn event_key(&self, event_id: &str) -> Item {
        self.key(&format!("event#{event_id}"))
    }

    fn corrupt(&self, detail: String) -> ServiceError {
        ServiceError::new(self.service, ErrorClass::CorruptState, detail)
    }
}

impl crate::ledger::EventLedger for DynamoLedger {
    async fn event(&self, event_id: &str) -> Result<crate::ledger::EventRecord, ServiceError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.event_key(event_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| service_error(self.service, &e))?;
        let Some(item) = out.item() else {
            return Ok(crate::ledger::EventRecord::default());
        };
        let actions = match item.get("Actions") {
            Some(v) => v
                .as_n()
                .ok()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| self.corrupt(format!("Actions of event {event_id}")))?,
            None => 0,
        };
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let report = match (text("ReportSubject"), text("ReportText")) {
            (Some(subject), Some(text)) => Some(crate::ledger::StoredReport {
                subject,
                text,
                published: matches!(
                    item.get("ReportPublished"),
                    Some(AttributeValue::Bool(true))
                ),
            }),
            _ => None,
        };
        Ok(crate::ledger::EventRecord { actions, report })
    }

    async fn reserve(
        &self,
        event: crate::ledger::EventKey<'_>,
        used: usize,
        count: usize,
    ) -> Result<bool, ServiceError> {
        let condition = if used == 0 {
            "attribute_not_exists(Actions) OR Actions = :used"
        } else {
            "Actions = :used"
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.event_key(event.id)))
            .update_expression("ADD Actions :count SET ExpiresAt = :ttl")
            .condition_expression(condition)
            .expression_attribute_values(":used", AttributeValue::N(used.to_string()))
            .expression_attribute_values(":count", AttributeValue::N(count.to_string()))
            .expression_attribute_values(":ttl", expires(event.at))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(service_error(self.service, &e)),
        }
    }

    async fn store_report(
        &self,
        event: crate::ledger::EventKey<'_>,
        subject: &str,
        text: &str,
    ) -> Result<(), ServiceError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.event_key(event.id)))
            .update_expression(
                "SET ReportSubject = :subject, ReportText = :text, ReportPublished = :no, ExpiresAt = :ttl",
            )
            .expression_attribute_values(":subject", AttributeValue::S(subject.to_owned()))
            .expression_attribute_values(":text", AttributeValue::S(text.to_owned()))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .expression_attribute_values(":ttl", expires(event.at))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| service_error(self.service, &e))
    }

    async fn mark_report_published(&self, event_id: &str) -> Result<(), ServiceError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.event_key(event_id)))
            .update_expression("SET ReportPublished = :yes")
            .condition_expression("attribute_exists(ReportText)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| service_error(self.service, &e))
    }

    async fn acquire_lease(
        &self,
        owner: &str,
        now: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, ServiceError> {
        let mut item = self.key("lease");
        item.insert("Owner".into(), AttributeValue::S(owner.to_owned()));
        item.insert("Until".into(), AttributeValue::S(stamp(until)));
        item.insert("ExpiresAt".into(), expires(until));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            // Fixed-width UTC stamps compare correctly as strings.
            .condition_expression("attribute_not_exists(Id) OR #until < :now OR #owner = :owner")
            .expression_attribute_names("#until", "Until")
            .expression_attribute_names("#owner", "Owner")
            .expression_attribute_values(":now", AttributeValue::S(stamp(now)))
            .expression_attribute_values(":owner", AttributeValue::S(owner.to_owned()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(service_error(self.service, &e)),
        }
    }

    async fn release_lease(&self, owner: &str) -> Result<(), ServiceError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.key("lease")))
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "Owner")
            .expression_attribute_values(":owner", AttributeValue::S(owner.to_owned()))
            .send()
            .await;
        match result {
            // Someone else's (ours had expired): not ours to release.
            Err(e) if is_condition_failure(&e) => Ok(()),
            other => other
                .map(|_| ())
                .map_err(|e| service_error(self.service, &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
    use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemOutput;
    use aws_sdk_dynamodb::types::PutRequest;
    use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};

    fn item(id: &str) -> Item {
        HashMap::from([("Id".to_owned(), AttributeValue::S(id.to_owned()))])
    }

    fn client(rules: &[&Rule]) -> Client {
        mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, rules)
    }

    /// A get answering `found` and leaving `left` unprocessed.
    fn get(found: &'static [&'static str], left: &'static [&'static str]) -> Rule {
        mock!(Client::batch_get_item).then_output(move || {
            let mut out = BatchGetItemOutput::builder()
                .responses("t", found.iter().map(|id| item(id)).collect());
            if !left.is_empty() {
                out = out.unprocessed_keys(
                    "t",
                    KeysAndAttributes::builder()
                        .set_keys(Some(left.iter().map(|id| item(id)).collect()))
                        .build()
                        .unwrap(),
                );
            }
            out.build()
        })
    }

    #[tokio::test]
    async fn unprocessed_keys_are_asked_again_and_chunks_hold_100_keys() {
        let first = get(&["a"], &["b"]);
        let second = get(&["b"], &[]);
        let third = get(&["c"], &[]);
        let keys: Vec<Item> = (0..101).map(|i| item(&format!("k{i}"))).collect();
        let items = batch_get(
            &client(&[&first, &second, &third]),
            "T",
            "t",
            keys,
            None,
            true,
        )
        .await
        .unwrap();
        assert_eq!(items, vec![item("a"), item("b"), item("c")]);
        assert_eq!(
            (first.num_calls(), second.num_calls(), third.num_calls()),
            (1, 1, 1),
            "two calls for the first 100 keys, one for the 101st"
        );
    }

    #[tokio::test]
    async fn keys_left_unprocessed_every_time_fail_as_throttled() {
        let stuck = mock!(Client::batch_get_item)
            .sequence()
            .output(|| {
                BatchGetItemOutput::builder()
                    .unprocessed_keys(
                        "t",
                        KeysAndAttributes::builder()
                            .set_keys(Some(vec![item("a")]))
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
            .times(ATTEMPTS as usize)
            .build();
        let err = batch_get(&client(&[&stuck]), "T", "t", vec![item("a")], None, true)
            .await
            .unwrap_err();
        assert_eq!(err.class, ErrorClass::Throttled);
        assert_eq!(stuck.num_calls(), ATTEMPTS as usize);
    }

    #[tokio::test]
    async fn unprocessed_writes_are_sent_again_in_chunks_of_25() {
        let put = |id: &str| {
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(item(id)))
                        .build()
                        .unwrap(),
                )
                .build()
        };
        let partly = mock!(Client::batch_write_item).then_output(move || {
            BatchWriteItemOutput::builder()
                .unprocessed_items("t", vec![put("w3")])
                .build()
        });
        let rest = mock!(Client::batch_write_item)
            .sequence()
            .output(|| BatchWriteItemOutput::builder().build())
            .times(2)
            .build();
        let writes = (0..26).map(|i| put(&format!("w{i}"))).collect();
        batch_write(&client(&[&partly, &rest]), "T", "t", writes)
            .await
            .unwrap();
        assert_eq!((partly.num_calls(), rest.num_calls()), (1, 2));
    }
}
