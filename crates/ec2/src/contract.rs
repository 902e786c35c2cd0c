//! The EC2 port's contract: what the scheduler, the tagging policy and the skill rely on, asserted
//! the same way over the SDK adapter (against the local stand-in) and the in-memory fake.
//!
//! Where the stand-in itself differs from EC2, the harness says so with a capability flag and that
//! case is proven against `aws-smithy-mocks` instead (see `tests/aws_adapter.rs`).

use std::collections::BTreeSet;
use std::future::Future;

use crate::batch::describe_all;
use crate::model::{CallCounts, Ec2ErrorKind, Ec2Port, InstanceQuery, InstanceState, StateChange};

/// An instance the harness creates before a case runs.
#[derive(Debug, Clone)]
pub struct Launch {
    pub tags: Vec<(String, String)>,
    /// Running, stopped or terminated.
    pub state: InstanceState,
    pub termination_protected: bool,
}

impl Launch {
    pub fn new(state: InstanceState, tags: &[(&str, &str)]) -> Self {
        Self {
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            state,
            termination_protected: false,
        }
    }

    pub fn protected(mut self) -> Self {
        self.termination_protected = true;
        self
    }
}

pub trait Ec2Harness {
    type Port: Ec2Port;
    /// The adapter under test, listing 5 instances per page.
    fn port(&self) -> &Self::Port;
    /// Creates the instances and returns their ids, in order.
    fn launch(&self, instances: &[Launch]) -> impl Future<Output = Vec<String>>;
    /// EC2 refuses to stop a terminated instance (`IncorrectInstanceState`, the whole call
    /// fails). The stand-in accepts it, so its harness says `false`.
    fn rejects_wrong_state(&self) -> bool;
}

async fn ids_listed<P: Ec2Port>(port: &P, query: &InstanceQuery) -> Vec<String> {
    let (instances, complete) = describe_all(port, query, || false, &mut CallCounts::default())
        .await
        .unwrap_or_else(|e| panic!("describe: {e}"));
    assert!(complete);
    instances.into_iter().map(|i| i.id).collect()
}

async fn state_of<P: Ec2Port>(port: &P, id: &str) -> Option<InstanceState> {
    let query = InstanceQuery {
        instance_ids: vec![id.to_owned()],
        ..InstanceQuery::default()
    };
    port.describe_page(&query, None)
        .await
        .unwrap_or_else(|e| panic!("describe {id}: {e}"))
        .instances
        .first()
        .map(|i| i.state)
}

/// Pages of at most 5 chain through `next_token` and cover every live instance exactly once; the
/// tag-key and instance-id filters select server-side (an unknown id is simply absent);
/// terminated instances are never listed.
pub async fn describe<H: Ec2Harness>(h: &H) {
    let mut launches: Vec<Launch> = (0..9)
        .map(|i| {
            let name = format!("tagged-{i}");
            Launch::new(
                InstanceState::Running,
                &[("Name", name.as_str()), ("Schedule", "08:00-19:15")],
            )
        })
        .collect();
    launches.push(Launch::new(InstanceState::Stopped, &[("Name", "untagged")]));
    launches.push(Launch::new(
        InstanceState::Terminated,
        &[("Schedule", "08:00-19:15")],
    ));
    let ids = h.launch(&launches).await;
    let port = h.port();

    let mut calls = CallCounts::default();
    let (all, complete) = describe_all(port, &InstanceQuery::default(), || false, &mut calls)
        .await
        .unwrap_or_else(|e| panic!("describe: {e}"));
    assert!(complete);
    assert!(
        calls.describe >= 2,
        "10 instances take more than one page of 5"
    );
    let listed: Vec<String> = all.iter().map(|i| i.id.clone()).collect();
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "an instance listed twice");
    assert_eq!(unique, ids[..10].iter().collect(), "every live instance");
    let tagged = all
        .iter()
        .find(|i| i.id == ids[0])
        .unwrap_or_else(|| panic!("{} listed", ids[0]));
    assert_eq!(tagged.tag("Schedule"), Some("08:00-19:15"));
    assert_eq!(tagged.name(), Some("tagged-0"));
    assert_eq!(tagged.state, InstanceState::Running);

    let by_tag = InstanceQuery {
        tag_key: Some("Schedule".into()),
        ..InstanceQuery::default()
    };
    let tagged: BTreeSet<String> = ids_listed(port, &by_tag).await.into_iter().collect();
    assert_eq!(tagged, ids[..9].iter().cloned().collect());

    let by_id = InstanceQuery {
        instance_ids: vec![ids[9].clone(), "i-0123456789abcdef0".into()],
        ..InstanceQuery::default()
    };
    assert_eq!(ids_listed(port, &by_id).await, [ids[9].clone()]);
    assert_eq!(state_of(port, &ids[9]).await, Some(InstanceState::Stopped));
    assert_eq!(
        state_of(port, &ids[10]).await,
        None,
        "terminated: not listed"
    );
}

/// Start, stop and terminate take many ids per call; a protected instance refuses termination
/// and stays; an unknown id fails the whole call and changes nothing.
pub async fn state_changes<H: Ec2Harness>(h: &H) {
    let ids = h
        .launch(&[
            Launch::new(InstanceState::Running, &[("Name", "a")]),
            Launch::new(InstanceState::Running, &[("Name", "b")]),
            Launch::new(InstanceState::Stopped, &[("Name", "c")]),
            Launch::new(InstanceState::Running, &[("Name", "d")]).protected(),
            Launch::new(InstanceState::Running, &[("Name", "e")]),
        ])
        .await;
    let port = h.port();
    port.change_state(StateChange::Stop, &ids[..2])
        .await
        .unwrap_or_else(|e| panic!("stop: {e}"));
    assert_eq!(state_of(port, &ids[0]).await, Some(InstanceState::Stopped));
    assert_eq!(state_of(port, &ids[1]).await, Some(InstanceState::Stopped));
    port.change_state(StateChange::Start, &ids[2..3])
        .await
        .unwrap_or_else(|e| panic!("start: {e}"));
    assert_eq!(state_of(port, &ids[2]).await, Some(InstanceState::Running));

    let refused = port
        .change_state(StateChange::Terminate, &ids[3..4])
        .await
        .expect_err("termination protection refuses");
    assert_eq!(refused.kind, Ec2ErrorKind::Protected, "{refused}");
    assert_eq!(state_of(port, &ids[3]).await, Some(InstanceState::Running));

    let unknown = "i-0123456789abcdef0".to_owned();
    let missing = port
        .change_state(StateChange::Stop, &[ids[4].clone(), unknown])
        .await
        .expect_err("an unknown id fails the call");
    assert_eq!(missing.kind, Ec2ErrorKind::NotFound, "{missing}");
    assert_eq!(
        state_of(port, &ids[4]).await,
        Some(InstanceState::Running),
        "the whole call failed: nothing changed"
    );

    port.change_state(StateChange::Terminate, &ids[4..5])
        .await
        .unwrap_or_else(|e| panic!("terminate: {e}"));
    assert_eq!(state_of(port, &ids[4]).await, None, "terminated: gone");

    if h.rejects_wrong_state() {
        let wrong = port
            .change_state(StateChange::Stop, &[ids[0].clone(), ids[4].clone()])
            .await
            .expect_err("stopping a terminated instance fails the call");
        assert_eq!(wrong.kind, Ec2ErrorKind::IncorrectState, "{wrong}");
    }
}

/// CreateTags sets the same tags on many instances, overwriting values of keys they have.
pub async fn tags<H: Ec2Harness>(h: &H) {
    let ids = h
        .launch(&[
            Launch::new(InstanceState::Running, &[("Schedule", "9to5")]),
            Launch::new(InstanceState::Stopped, &[("Name", "b")]),
        ])
        .await;
    let port = h.port();
    let tags = vec![
        ("Schedule".to_owned(), "#9to5".to_owned()),
        ("ScheduleError".to_owned(), "invalid".to_owned()),
    ];
    port.create_tags(&ids, &tags)
        .await
        .unwrap_or_else(|e| panic!("create_tags: {e}"));
    let query = InstanceQuery {
        instance_ids: ids.clone(),
        ..InstanceQuery::default()
    };
    let page = port
        .describe_page(&query, None)
        .await
        .unwrap_or_else(|e| panic!("describe: {e}"));
    assert_eq!(page.instances.len(), 2);
    for instance in &page.instances {
        assert_eq!(instance.tag("Schedule"), Some("#9to5"), "{}", instance.id);
        assert_eq!(instance.tag("ScheduleError"), Some("invalid"));
    }
    assert_eq!(
        page.instances
            .iter()
            .find(|i| i.id == ids[1])
            .and_then(|i| i.name()),
        Some("b"),
        "other tags are kept"
    );

    // DeleteTags by key removes the tag whatever its value, and a key an instance lacks is fine.
    port.delete_tags(&ids, &["ScheduleError".to_owned(), "Absent".to_owned()])
        .await
        .unwrap_or_else(|e| panic!("delete_tags: {e}"));
    let page = port
        .describe_page(&query, None)
        .await
        .unwrap_or_else(|e| panic!("describe: {e}"));
    for instance in &page.instances {
        assert_eq!(instance.tag("ScheduleError"), None, "{}", instance.id);
        assert_eq!(
            instance.tag("Schedule"),
            Some("#9to5"),
            "other keys are kept"
        );
    }
}
