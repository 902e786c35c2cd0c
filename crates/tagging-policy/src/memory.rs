//! In-memory adapters for domain tests and offline plans.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::ports::{CreatorLookup, LookupError, PolicyState, RuleSource};
use crate::rules::RuleRow;
use fleet_core::ledger::MemoryLedger;
use fleet_core::ServiceError;

pub use fleet_ec2::{FakeInstance, InMemoryEc2};

#[derive(Debug, Clone, Default)]
pub struct MemoryRules(pub Vec<RuleRow>);

impl RuleSource for MemoryRules {
    async fn load(&self) -> Result<Vec<RuleRow>, ServiceError> {
        Ok(self.0.clone())
    }
}

/// CloudTrail's event history as a map from instance id to creator; records every lookup.
#[derive(Debug, Default)]
pub struct FakeLookup {
    creators: BTreeMap<String, String>,
    failure: Option<LookupError>,
    calls: Mutex<Vec<(String, Option<DateTime<Utc>>)>>,
}

impl FakeLookup {
    pub fn new<'a>(creators: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            creators: creators
                .into_iter()
                .map(|(id, who)| (id.to_owned(), who.to_owned()))
                .collect(),
            ..Self::default()
        }
    }

    /// Every lookup fails with `error`.
    pub fn failing(error: LookupError) -> Self {
        Self {
            failure: Some(error),
            ..Self::default()
        }
    }

    /// (instance id, launched_at) per lookup made.
    pub fn calls(&self) -> Vec<(String, Option<DateTime<Utc>>)> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl CreatorLookup for FakeLookup {
    async fn launched_by(
        &self,
        instance_id: &str,
        launched_at: Option<DateTime<Utc>>,
    ) -> Result<Option<String>, LookupError> {
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((instance_id.to_owned(), launched_at));
        match &self.failure {
            Some(e) => Err(e.clone()),
            None => Ok(self.creators.get(instance_id).cloned()),
        }
    }
}

/// The policy's state in memory.
#[derive(Debug, Default)]
pub struct MemoryPolicyState {
    pub ledger: MemoryLedger,
    seen: Mutex<BTreeMap<String, DateTime<Utc>>>,
}

impl MemoryPolicyState {
    pub fn sightings(&self) -> BTreeMap<String, DateTime<Utc>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl PolicyState for MemoryPolicyState {
    type Ledger = MemoryLedger;

    fn ledger(&self) -> &MemoryLedger {
        &self.ledger
    }

    async fn first_seen(
        &self,
        instance_ids: &[String],
    ) -> Result<BTreeMap<String, DateTime<Utc>>, ServiceError> {
        let seen = self.sightings();
        Ok(instance_ids
            .iter()
            .filter_map(|id| seen.get(id).map(|t| (id.clone(), *t)))
            .collect())
    }

    async fn record_first_seen(
        &self,
        sightings: &[(String, DateTime<Utc>)],
    ) -> Result<(), ServiceError> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.extend(sightings.iter().cloned());
        Ok(())
    }
}
