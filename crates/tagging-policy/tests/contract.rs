//! The rules table's and the policy state's contracts over the in-memory adapters and DynamoDB in
//! the local stand-in; the
//! creator lookup's over the fake and the CloudTrail adapter on aws-smithy-mocks (the stand-in has
//! no CloudTrail LookupEvents).

use aws_sdk_cloudtrail::operation::lookup_events::LookupEventsOutput;
use aws_sdk_cloudtrail::types::Event;
use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use fleet_testkit::seed::create_table;
use fleet_testkit::Moto;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use tagging_policy::aws::{CloudTrailLookup, DynamoPolicyState, DynamoRules};
use tagging_policy::contract::{self, LookupHarness, RulesHarness};
use tagging_policy::memory::{FakeLookup, MemoryPolicyState, MemoryRules};
use tagging_policy::rules::{Field, RuleRow};

struct Memory;

impl RulesHarness for Memory {
    type Source = MemoryRules;

    async fn with_rows(&self, rows: &[RuleRow]) -> MemoryRules {
        MemoryRules(rows.to_vec())
    }
}

impl LookupHarness for Memory {
    type Lookup = FakeLookup;

    fn with_history(&self, launches: &[(&str, &str)]) -> FakeLookup {
        FakeLookup::new(launches.iter().copied())
    }
}

struct Stand {
    moto: Moto,
    tables: AtomicUsize,
}

fn attribute(name: &str, field: &Field) -> Option<AttributeValue> {
    match field {
        Field::Absent => None,
        Field::Text(t) if name == "RuleId" => Some(AttributeValue::N(t.clone())),
        Field::Text(t) => Some(AttributeValue::S(t.clone())),
        Field::WrongType("BOOL") => Some(AttributeValue::Bool(true)),
        Field::WrongType(other) => panic!("no sample value for {other}"),
    }
}

impl RulesHarness for Stand {
    type Source = DynamoRules;

    async fn with_rows(&self, rows: &[RuleRow]) -> DynamoRules {
        let ddb = aws_sdk_dynamodb::Client::new(&self.moto.sdk_config());
        let table = format!("rules-{}", self.tables.fetch_add(1, Ordering::Relaxed));
        create_table(&ddb, &table, "RuleId", ScalarAttributeType::N).await;
        for row in rows {
            let item: HashMap<String, AttributeValue> = [
                ("RuleId", &row.rule_id),
                ("TagKey", &row.tag_key),
                ("Action", &row.action),
                ("Required", &row.required),
                ("Default", &row.default),
            ]
            .into_iter()
            .filter_map(|(name, field)| attribute(name, field).map(|v| (name.to_owned(), v)))
            .collect();
            ddb.put_item()
                .table_name(&table)
                .set_item(Some(item))
                .send()
                .await
                .unwrap();
        }
        DynamoRules::new(ddb, table)
    }
}

/// CloudTrail's LookupEvents answered by aws-smithy-mocks: each instance's history, newest first.
struct MockedCloudTrail;

impl LookupHarness for MockedCloudTrail {
    type Lookup = CloudTrailLookup;

    fn with_history(&self, launches: &[(&str, &str)]) -> CloudTrailLookup {
        let history: HashMap<String, String> = launches
            .iter()
            .map(|(id, who)| ((*id).to_owned(), (*who).to_owned()))
            .collect();
        let rule = mock!(aws_sdk_cloudtrail::Client::lookup_events).then_compute_output(
            move |request| {
                let id = request
                    .lookup_attributes()
                    .first()
                    .map(|a| a.attribute_value().to_owned())
                    .unwrap_or_default();
                let events = history.get(&id).map(|who| {
                    let identity = match who.split_once('/') {
                        None => json!({"type": "IAMUser", "userName": who}),
                        Some((role, session)) => json!({
                            "type": "AssumedRole",
                            "arn": format!("arn:aws:sts::123456789012:assumed-role/{role}/{session}"),
                            "sessionContext": {"sessionIssuer": {"type": "Role", "userName": role}}
                        }),
                    };
                    vec![
                        Event::builder().event_name("CreateTags").build(),
                        Event::builder()
                            .event_name("RunInstances")
                            .cloud_trail_event(
                                json!({"eventName": "RunInstances", "userIdentity": identity})
                                    .to_string(),
                            )
                            .build(),
                    ]
                });
                LookupEventsOutput::builder()
                    .set_events(events)
                    .build()
            },
        );
        let client = mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, [&rule]);
        CloudTrailLookup::with_interval(client, std::time::Duration::ZERO)
    }
}

#[tokio::test]
async fn in_memory() {
    contract::rule_source(&Memory).await;
    contract::creator_lookup(&Memory).await;
    contract::policy_state(&MemoryPolicyState::default()).await;
}

#[tokio::test]
async fn dynamodb_policy_state_against_the_stand_in() {
    let moto = Moto::start();
    let ddb = aws_sdk_dynamodb::Client::new(&moto.sdk_config());
    fleet_testkit::seed::create_state_table(&ddb, "state").await;
    contract::policy_state(&DynamoPolicyState::new(ddb, "state")).await;
}

#[tokio::test]
async fn dynamodb_rules_against_the_stand_in() {
    let stand = Stand {
        moto: Moto::start(),
        tables: AtomicUsize::new(0),
    };
    contract::rule_source(&stand).await;
}

#[tokio::test]
async fn cloudtrail_lookup_on_smithy_mocks() {
    contract::creator_lookup(&MockedCloudTrail).await;
}
