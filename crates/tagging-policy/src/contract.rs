//! Contract suites for the policy's own ports, run over the AWS adapters and the in-memory ones:
//! the rules table and the policy's state (DynamoDB against the local stand-in) and the creator
//! lookup (CloudTrail, which the stand-in lacks: its harness answers with aws-smithy-mocks).

use std::future::Future;

use crate::ports::{CreatorLookup, PolicyState, RuleSource};
use crate::rules::{seed_rows, Field, RuleRow};

pub trait RulesHarness {
    type Source: RuleSource;
    /// A source holding exactly `rows`.
    fn with_rows(&self, rows: &[RuleRow]) -> impl Future<Output = Self::Source>;
}

fn sorted(mut rows: Vec<RuleRow>) -> Vec<RuleRow> {
    rows.sort_by_key(|r| format!("{:?}", r.rule_id));
    rows
}

/// Every row comes back as stored: text and numbers as text, absent fields absent, values of
/// another type flagged with the type's name (so the engine can report the row, not guess).
pub async fn rule_source<H: RulesHarness>(h: &H) {
    let empty = h.with_rows(&[]).await;
    assert_eq!(
        empty.load().await.unwrap_or_else(|e| panic!("load: {e}")),
        []
    );
    let mut rows = seed_rows();
    rows.push(RuleRow {
        rule_id: Field::text("4"),
        tag_key: Field::text("Team"),
        action: Field::text("Update"),
        required: Field::WrongType("BOOL"),
        default: Field::text("platform"),
    });
    let source = h.with_rows(&rows).await;
    let loaded = source.load().await.unwrap_or_else(|e| panic!("load: {e}"));
    assert_eq!(sorted(loaded), sorted(rows));
}

pub trait LookupHarness {
    type Lookup: CreatorLookup;
    /// A lookup whose history holds a RunInstances by `creator` for each `(instance, creator)`
    /// and nothing for any other instance.
    fn with_history(&self, launches: &[(&str, &str)]) -> Self::Lookup;
}

/// A launch in the history names its creator; an instance with none gives `None`, not an error.
pub async fn creator_lookup<H: LookupHarness>(h: &H) {
    let lookup = h.with_history(&[("i-0a1", "alice"), ("i-0b2", "Deployer/ci-deploy-4711")]);
    let lookup = &lookup;
    let found = |id: &'static str| async move {
        lookup
            .launched_by(id, None)
            .await
            .unwrap_or_else(|e| panic!("lookup {id}: {e}"))
    };
    assert_eq!(found("i-0a1").await.as_deref(), Some("alice"));
    assert_eq!(
        found("i-0b2").await.as_deref(),
        Some("Deployer/ci-deploy-4711")
    );
    assert_eq!(found("i-0c3").await, None);
}

/// First sightings read back exactly (more than one batch call's worth), absent ones missing.
/// The ledger under it has its own suite in fleet-core.
pub async fn policy_state<S: PolicyState>(state: &S) {
    let t: chrono::DateTime<chrono::Utc> = "2026-11-23T09:00:00Z"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let sightings: Vec<(String, chrono::DateTime<chrono::Utc>)> = (0..130)
        .map(|i| (format!("i-{i:017x}"), t + chrono::Duration::seconds(i)))
        .collect();
    state
        .record_first_seen(&sightings)
        .await
        .unwrap_or_else(|e| panic!("record: {e}"));
    let mut ids: Vec<String> = sightings.iter().map(|(id, _)| id.clone()).collect();
    ids.push("i-never-seen".into());
    let read = state
        .first_seen(&ids)
        .await
        .unwrap_or_else(|e| panic!("read: {e}"));
    assert_eq!(read, sightings.into_iter().collect());
}
