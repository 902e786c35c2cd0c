//! An in-memory EC2 with EC2's batch semantics (a call fails as a whole), used by domain tests,
//! benchmarks and offline plans.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::model::{
    CallCounts, Ec2Error, Ec2ErrorKind, Ec2Port, Instance, InstancePage, InstanceQuery,
    InstanceState, StateChange,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeInstance {
    pub id: String,
    pub state: InstanceState,
    pub tags: BTreeMap<String, String>,
    pub termination_protected: bool,
    pub vpc_id: Option<String>,
    pub launch_time: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
}

impl FakeInstance {
    pub fn new(id: impl Into<String>, state: InstanceState, tags: &[(&str, &str)]) -> Self {
        Self {
            id: id.into(),
            state,
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            termination_protected: false,
            vpc_id: None,
            launch_time: None,
            created_at: None,
        }
    }

    /// Launched (and created) at `at`.
    pub fn launched(mut self, at: DateTime<Utc>) -> Self {
        self.launch_time = Some(at);
        self.created_at = Some(at);
        self
    }

    pub fn in_vpc(mut self, vpc_id: &str) -> Self {
        self.vpc_id = Some(vpc_id.to_owned());
        self
    }

    fn matches(&self, query: &InstanceQuery) -> bool {
        self.state != InstanceState::Terminated
            && query
                .tag_key
                .as_ref()
                .is_none_or(|k| self.tags.contains_key(k))
            && (query.vpc_ids.is_empty()
                || self
                    .vpc_id
                    .as_ref()
                    .is_some_and(|v| query.vpc_ids.contains(v)))
            && (query.instance_ids.is_empty() || query.instance_ids.contains(&self.id))
    }

    fn view(&self) -> Instance {
        Instance {
            id: self.id.clone(),
            state: self.state,
            tags: self.tags.clone(),
            vpc_id: self.vpc_id.clone(),
            launch_time: self.launch_time,
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    instances: BTreeMap<String, FakeInstance>,
    calls: CallCounts,
    /// Fail this many upcoming write calls with throttling.
    throttle_writes: usize,
}

#[derive(Debug)]
pub struct InMemoryEc2 {
    inner: Mutex<Inner>,
    page_size: usize,
}

impl InMemoryEc2 {
    /// `page_size` plays DescribeInstances' MaxResults.
    pub fn new(instances: impl IntoIterator<Item = FakeInstance>, page_size: usize) -> Self {
        let instances = instances.into_iter().map(|i| (i.id.clone(), i)).collect();
        Self {
            inner: Mutex::new(Inner {
                instances,
                ..Inner::default()
            }),
            page_size: page_size.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds (or replaces) an instance, as a launch would.
    pub fn insert(&self, instance: FakeInstance) {
        self.lock().instances.insert(instance.id.clone(), instance);
    }

    pub fn instance(&self, id: &str) -> Option<FakeInstance> {
        self.lock().instances.get(id).cloned()
    }

    pub fn calls(&self) -> CallCounts {
        self.lock().calls
    }

    pub fn throttle_next_writes(&self, count: usize) {
        self.lock().throttle_writes = count;
    }

    fn take_throttle(inner: &mut Inner) -> Result<(), Ec2Error> {
        if inner.throttle_writes > 0 {
            inner.throttle_writes -= 1;
            return Err(Ec2Error::new(
                Ec2ErrorKind::Throttled,
                "RequestLimitExceeded",
                "Request limit exceeded.",
            ));
        }
        Ok(())
    }

    fn not_found(id: &str) -> Ec2Error {
        Ec2Error::new(
            Ec2ErrorKind::NotFound,
            "InvalidInstanceID.NotFound",
            format!("The instance ID '{id}' does not exist"),
        )
    }
}

impl Ec2Port for InMemoryEc2 {
    async fn describe_page(
        &self,
        query: &InstanceQuery,
        next_token: Option<String>,
    ) -> Result<InstancePage, Ec2Error> {
        let mut inner = self.lock();
        inner.calls.describe += 1;
        let skip = match next_token {
            None => 0,
            Some(t) => t.parse::<usize>().map_err(|_| {
                Ec2Error::new(
                    Ec2ErrorKind::Other,
                    "InvalidParameterValue",
                    "bad NextToken",
                )
            })?,
        };
        let matching: Vec<&FakeInstance> = inner
            .instances
            .values()
            .filter(|i| i.matches(query))
            .collect();
        let instances = matching
            .iter()
            .skip(skip)
            .take(self.page_size)
            .map(|i| i.view())
            .collect();
        let next = skip + self.page_size;
        Ok(InstancePage {
            instances,
            next_token: (next < matching.len()).then(|| next.to_string()),
        })
    }

    async fn change_state(&self, change: StateChange, ids: &[String]) -> Result<(), Ec2Error> {
        use InstanceState::*;
        let mut inner = self.lock();
        inner.calls.change_state += 1;
        Self::take_throttle(&mut inner)?;
        // Validate every id first: EC2 fails the whole call and changes nothing.
        let mut next_states = Vec::with_capacity(ids.len());
        for id in ids {
            let instance = inner.instances.get(id).ok_or_else(|| Self::not_found(id))?;
            let next = match (change, instance.state) {
                (StateChange::Start, Stopped | Running) => Running,
                (StateChange::Stop, Running | Stopped) => Stopped,
                (StateChange::Terminate, _) if instance.termination_protected => {
                    return Err(Ec2Error::new(
                        Ec2ErrorKind::Protected,
                        "OperationNotPermitted",
                        format!("The instance '{id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again."),
                    ));
                }
                (StateChange::Terminate, _) => Terminated,
                _ => {
                    return Err(Ec2Error::new(
                        Ec2ErrorKind::IncorrectState,
                        "IncorrectInstanceState",
                        format!(
                        "The instance '{id}' is not in a state from which it can be {change}ed."
                    ),
                    ))
                }
            };
            next_states.push(next);
        }
        for (id, state) in ids.iter().zip(next_states) {
            if let Some(i) = inner.instances.get_mut(id) {
                i.state = state;
            }
        }
        Ok(())
    }

    async fn create_tags(&self, ids: &[String], tags: &[(String, String)]) -> Result<(), Ec2Error> {
        let mut inner = self.lock();
        inner.calls.create_tags += 1;
        Self::take_throttle(&mut inner)?;
        if let Some(missing) = ids.iter().find(|id| !inner.instances.contains_key(*id)) {
            return Err(Self::not_found(missing));
        }
        for id in ids {
            if let Some(i) = inner.instances.get_mut(id) {
                i.tags.extend(tags.iter().cloned());
            }
        }
        Ok(())
    }

    async fn delete_tags(&self, ids: &[String], keys: &[String]) -> Result<(), Ec2Error> {
        let mut inner = self.lock();
        inner.calls.delete_tags += 1;
        Self::take_throttle(&mut inner)?;
        if let Some(missing) = ids.iter().find(|id| !inner.instances.contains_key(*id)) {
            return Err(Self::not_found(missing));
        }
        for id in ids {
            if let Some(i) = inner.instances.get_mut(id) {
                i.tags.retain(|k, _| !keys.contains(k));
            }
        }
        Ok(())
    }
}

/// EC2 as two ports: the listing from one, the writes from the other, so that a test can fail
/// one side only (a client that never answers answers none of its calls).
#[derive(Debug)]
pub struct SplitEc2<L, W> {
    pub listing: L,
    pub writes: W,
}

impl<L: Ec2Port, W: Ec2Port> Ec2Port for SplitEc2<L, W> {
    async fn describe_page(
        &self,
        query: &InstanceQuery,
        next_token: Option<String>,
    ) -> Result<InstancePage, Ec2Error> {
        self.listing.describe_page(query, next_token).await
    }

    async fn change_state(&self, change: StateChange, ids: &[String]) -> Result<(), Ec2Error> {
        self.writes.change_state(change, ids).await
    }

    async fn create_tags(&self, ids: &[String], tags: &[(String, String)]) -> Result<(), Ec2Error> {
        self.writes.create_tags(ids, tags).await
    }

    async fn delete_tags(&self, ids: &[String], keys: &[String]) -> Result<(), Ec2Error> {
        self.writes.delete_tags(ids, keys).await
    }
}
