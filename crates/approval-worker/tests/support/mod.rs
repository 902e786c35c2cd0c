//! The service on in-memory adapters at a fixed instant, for the domain, events and browser tests.
#![allow(dead_code)]

use std::sync::Arc;

use approval_worker::approvals::{Approvals, Settings};
use approval_worker::memory::{FakeStepFunctions, FakeStepUp, MemoryStore, RecordingMailer};
use approval_worker::policy::ApproverPolicy;
use approval_worker::sign::SigningKey;
use fleet_core::{Env, FixedClock};

pub const KEY: &[u8] = b"local-test-signing-key-0123456789abcdef";
pub const T0: &str = "2026-11-23T08:00:00Z";

pub type MemoryApprovals = Approvals<MemoryStore, FakeStepFunctions, RecordingMailer, FakeStepUp>;

pub fn settings() -> Settings {
    Settings {
        base_url: Some("https://abc123.execute-api.eu-west-1.amazonaws.com/".to_owned()),
        sender: "approvals@example.com".to_owned(),
        default_workflow: "promotion".to_owned(),
        default_timeout: chrono::Duration::hours(1),
        reminders: true,
        require_step_up: false,
    }
}

pub fn policy() -> ApproverPolicy {
    ApproverPolicy::parse(
        Some(r#"{"promotion": ["manager@example.com", "deputy@example.com"]}"#),
        Some("example.com"),
    )
    .unwrap()
}

/// The service at [`T0`] with sequential ids `id-1`, `id-2`, … and the clock to move.
pub fn approvals() -> (MemoryApprovals, Arc<FixedClock>) {
    let (env, clock) = Env::fixed(T0.parse().unwrap());
    let approvals = Approvals {
        store: MemoryStore::default(),
        tasks: FakeStepFunctions::default(),
        mailer: RecordingMailer::default(),
        step_up: FakeStepUp::default(),
        key: SigningKey::new(KEY).unwrap(),
        policy: policy(),
        settings: settings(),
        env,
    };
    (approvals, clock)
}

/// The `sig` of the link in an email's text part.
pub fn sig_of(text: &str) -> String {
    let start = text.find("?sig=").expect("a link in the email") + 5;
    text[start..start + 64].to_owned()
}

/// The link in an email's text part.
pub fn link_of(text: &str) -> String {
    let start = text
        .find("https://")
        .or_else(|| text.find("http://"))
        .expect("a link");
    text[start..].split_whitespace().next().unwrap().to_owned()
}
