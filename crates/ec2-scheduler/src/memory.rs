//! In-memory adapters: a state store, and the fleet's shared EC2 fake.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use crate::ports::{InstanceNote, StateStore};
use fleet_core::ledger::MemoryLedger;
use fleet_core::ServiceError;

pub use fleet_ec2::{FakeInstance, InMemoryEc2};

/// A state store in memory.
#[derive(Debug, Default)]
pub struct MemoryState {
    inner: Mutex<Inner>,
    pub ledger: MemoryLedger,
}

#[derive(Debug, Default)]
struct Inner {
    last_run: Option<DateTime<Utc>>,
    notes: BTreeMap<String, InstanceNote>,
}

impl MemoryState {
    pub fn with_last_run(at: Option<DateTime<Utc>>) -> Self {
        let state = Self::default();
        state.lock().last_run = at;
        state
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self) -> Option<DateTime<Utc>> {
        self.lock().last_run
    }

    /// Every note, by instance id.
    pub fn all_notes(&self) -> BTreeMap<String, InstanceNote> {
        self.lock().notes.clone()
    }
}

impl StateStore for MemoryState {
    type Ledger = MemoryLedger;

    async fn last_successful_run(&self) -> Result<Option<DateTime<Utc>>, ServiceError> {
        Ok(self.get())
    }

    async fn record_successful_run(&self, at: DateTime<Utc>) -> Result<(), ServiceError> {
        let mut inner = self.lock();
        if inner.last_run.is_none_or(|l| l < at) {
            inner.last_run = Some(at);
        }
        Ok(())
    }

    async fn notes(&self, instance_ids: &[String]) -> Result<Vec<InstanceNote>, ServiceError> {
        let inner = self.lock();
        Ok(instance_ids
            .iter()
            .filter_map(|id| inner.notes.get(id).cloned())
            .collect())
    }

    async fn save_notes(&self, notes: &[InstanceNote]) -> Result<(), ServiceError> {
        let mut inner = self.lock();
        for note in notes {
            inner.notes.insert(note.instance_id.clone(), note.clone());
        }
        Ok(())
    }

    async fn forget_notes(&self, instance_ids: &[String]) -> Result<(), ServiceError> {
        let mut inner = self.lock();
        for id in instance_ids {
            inner.notes.remove(id);
        }
        Ok(())
    }

    fn ledger(&self) -> &MemoryLedger {
        &self.ledger
    }
}
