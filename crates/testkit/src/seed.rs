//! Seeding the local stand-in: instances, tables, the example fleet of the README and the
//! tagging policy's seed rules; and a Lambda context with a deadline.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Tag, TagSpecification};
use std::collections::BTreeMap;

/// One instance of the example fleet.
#[derive(Debug, Clone, Copy)]
pub struct SeedInstance {
    pub name: &'static str,
    pub schedule: &'static str,
    pub running: bool,
    pub termination_protected: bool,
}

const fn seed(name: &'static str, schedule: &'static str, running: bool) -> SeedInstance {
    SeedInstance {
        name,
        schedule,
        running,
        termination_protected: false,
    }
}

/// Twenty instances carrying the tag values of the README's reference.
pub const EXAMPLE_FLEET: [SeedInstance; 20] = [
    seed("web-1", "08:00-19:15", false),
    seed("web-2", "08:00-19:15", true),
    seed("build-agent", "21:00-07:45", true),
    seed("office-ams", "08:00-19:15 Europe/Amsterdam", false),
    seed("office-weekdays", "Mon-Fri 08:00-19:15", false),
    seed("weekend-lab", "Sat,Sun 10:00-12:00", false),
    seed("demo-box", "-08:00", true),
    seed("temp-worker", "-08:00T", true),
    SeedInstance {
        name: "prod-db",
        schedule: "-08:00T",
        running: true,
        termination_protected: true,
    },
    seed("spare-worker", "-08:00T", false),
    seed("typo-box", "9to5", true),
    seed("bad-hour", "25:00-08:00", false),
    seed("paused", "#08:00-19:15", false),
    seed("late-shift", "12:00-20:00", false),
    seed("early-bird", "06:00-14:00", true),
    seed("ny-desk", "08:00-17:00 America/New_York", false),
    seed("tokyo-desk", "Mon-Fri 09:00-18:00 Asia/Tokyo", false),
    seed("midnight-batch", "00:00-06:00", false),
    seed("evening-stop", "-19:15", true),
    seed("friday-night", "Fri 22:00-02:00", false),
];

/// Creates the instances (stopping those meant to be stopped) and returns name → instance id.
pub async fn create_fleet(
    ec2: &aws_sdk_ec2::Client,
    fleet: &[SeedInstance],
) -> BTreeMap<String, String> {
    let mut ids = BTreeMap::new();
    let mut to_stop = Vec::new();
    for spec in fleet {
        let id = launch_instance(
            ec2,
            &[("Name", spec.name), ("Schedule", spec.schedule)],
            None,
        )
        .await;
        if spec.termination_protected {
            protect(ec2, &id).await;
        }
        if !spec.running {
            to_stop.push(id.clone());
        }
        ids.insert(spec.name.to_owned(), id);
    }
    set_state(ec2, &to_stop, "stopped").await;
    ids
}

/// Launches one t3.micro with `tags` (in `subnet_id`, or the default VPC) and returns its id.
pub async fn launch_instance(
    ec2: &aws_sdk_ec2::Client,
    tags: &[(&str, &str)],
    subnet_id: Option<&str>,
) -> String {
    let mut request = ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .set_subnet_id(subnet_id.map(str::to_owned));
    if !tags.is_empty() {
        let mut spec = TagSpecification::builder().resource_type(ResourceType::Instance);
        for (key, value) in tags {
            spec = spec.tags(Tag::builder().key(*key).value(*value).build());
        }
        request = request.tag_specifications(spec.build());
    }
    let out = request.send().await.unwrap_or_else(|e| {
        panic!(
            "run_instances: {}",
            aws_sdk_ec2::error::DisplayErrorContext(e)
        )
    });
    out.instances()[0]
        .instance_id()
        .unwrap_or_default()
        .to_owned()
}

/// Current state and tags of every instance, by instance id.
pub async fn instances(
    ec2: &aws_sdk_ec2::Client,
) -> BTreeMap<String, (String, BTreeMap<String, String>)> {
    let mut out = BTreeMap::new();
    let mut pages = ec2.describe_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.unwrap_or_else(|e| panic!("describe_instances: {e}"));
        for i in page.reservations().iter().flat_map(|r| r.instances()) {
            let state = i
                .state()
                .and_then(|s| s.name())
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default();
            let tags = i
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            out.insert(
                i.instance_id().unwrap_or_default().to_owned(),
                (state, tags),
            );
        }
    }
    out
}

/// One table's items as stored, by their (string) hash key `key`: what a test compares before and
/// after a repeated delivery. One consistent scan page (the stand-in's test tables are small).
pub async fn table_items(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &str,
) -> BTreeMap<String, std::collections::HashMap<String, AttributeValue>> {
    let out = ddb
        .scan()
        .table_name(table)
        .consistent_read(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("scanning {table}: {e}"));
    assert!(
        out.last_evaluated_key().is_none(),
        "{table}: more than a page"
    );
    out.items()
        .iter()
        .map(|item| {
            let id = item
                .get(key)
                .and_then(|v| v.as_s().ok())
                .unwrap_or_else(|| panic!("{table}: an item without a string {key}"));
            (id.clone(), item.clone())
        })
        .collect()
}

/// The scheduler's state table, as the template defines it.
pub async fn create_state_table(ddb: &aws_sdk_dynamodb::Client, name: &str) {
    create_table(ddb, name, "Id", ScalarAttributeType::S).await;
}

/// An on-demand table with a hash key.
pub async fn create_table(
    ddb: &aws_sdk_dynamodb::Client,
    name: &str,
    key: &str,
    key_type: ScalarAttributeType,
) {
    ddb.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(key_type)
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("create_table: {e}"));
}

/// An on-demand table with a string hash key and one global secondary index
/// `(index, hash, range)` over string attributes, every attribute projected (the dead-letter
/// archive's `ByWindow`, the calls table's `ByStatus`).
pub async fn create_indexed_table(
    ddb: &aws_sdk_dynamodb::Client,
    name: &str,
    key: &str,
    (index, index_hash, index_range): (&str, &str, &str),
) {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let key_element = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut attributes = vec![key, index_hash, index_range];
    attributes.sort_unstable();
    attributes.dedup();
    ddb.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes.into_iter().map(attribute).collect()))
        .key_schema(key_element(key, KeyType::Hash))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index)
                .key_schema(key_element(index_hash, KeyType::Hash))
                .key_schema(key_element(index_range, KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("create table {name}: {e:?}"));
}

/// The tagging policy's rules table, as the template defines it, holding the seed rows exactly as
/// the README tells users to load them (`crates/tagging-policy/seed-rules.json`).
pub async fn create_rules_table(ddb: &aws_sdk_dynamodb::Client, name: &str) {
    create_table(ddb, name, "RuleId", ScalarAttributeType::N).await;
    let path = crate::workspace_root().join("crates/tagging-policy/seed-rules.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let items: Vec<BTreeMap<String, BTreeMap<String, String>>> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for item in items {
        let item = item
            .into_iter()
            .map(|(name, typed)| {
                let value = match typed.iter().next() {
                    Some((t, v)) if t == "N" => AttributeValue::N(v.clone()),
                    Some((t, v)) if t == "S" => AttributeValue::S(v.clone()),
                    other => panic!("{name}: unexpected {other:?}"),
                };
                (name, value)
            })
            .collect();
        ddb.put_item()
            .table_name(name)
            .set_item(Some(item))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put_item: {e}"));
    }
}

/// A Lambda context with a deadline `seconds` from now, like the real runtime's.
pub fn context_with_deadline(seconds: i64) -> lambda_runtime::Context {
    context_with_deadline_after(chrono::Utc::now(), seconds)
}

/// The same, for a function whose clock stands at `now` (a test or demo run at a chosen instant).
pub fn context_with_deadline_after(
    now: chrono::DateTime<chrono::Utc>,
    seconds: i64,
) -> lambda_runtime::Context {
    let mut context = lambda_runtime::Context::default();
    context.request_id = "local-test".to_owned();
    context.deadline = (now + chrono::Duration::seconds(seconds)).timestamp_millis() as u64;
    context
}

/// Stops or terminates `ids` (`"stopped"` or `"terminated"`), as a harness sets up a case.
pub async fn set_state(ec2: &aws_sdk_ec2::Client, ids: &[String], state: &str) {
    if ids.is_empty() {
        return;
    }
    match state {
        "stopped" => {
            if let Err(e) = ec2
                .stop_instances()
                .set_instance_ids(Some(ids.to_vec()))
                .send()
                .await
            {
                panic!("stop: {}", aws_sdk_ec2::error::DisplayErrorContext(e));
            }
        }
        "terminated" => {
            if let Err(e) = ec2
                .terminate_instances()
                .set_instance_ids(Some(ids.to_vec()))
                .send()
                .await
            {
                panic!("terminate: {}", aws_sdk_ec2::error::DisplayErrorContext(e));
            }
        }
        other => panic!("set_state: {other} is not stopped or terminated"),
    }
}

/// Turns on termination protection (`disableApiTermination`).
pub async fn protect(ec2: &aws_sdk_ec2::Client, id: &str) {
    ec2.modify_instance_attribute()
        .instance_id(id)
        .disable_api_termination(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .unwrap_or_else(|e| panic!("protecting {id}: {e}"));
}

/// An SNS topic; returns its ARN.
pub async fn create_topic(sdk: &aws_config::SdkConfig, name: &str) -> String {
    aws_sdk_sns::Client::new(sdk)
        .create_topic()
        .name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create_topic {name}: {e}"))
        .topic_arn()
        .unwrap_or_default()
        .to_owned()
}
