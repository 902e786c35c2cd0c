//! The notifier's contract suite: the same assertions over the SNS adapter (against the local
//! stand-in) and the in-memory one. Other ports' suites follow this pattern: a harness trait
//! that hands out the adapter and reads back what reached the service, and one async function
//! per behaviour the domain relies on.

use crate::notify::{Notifier, MAX_MESSAGE_BYTES, MAX_SUBJECT_CHARS};

/// Gives the suite a notifier and what reached its topic.
pub trait NotifierHarness {
    type Notifier: Notifier;
    fn notifier(&self) -> &Self::Notifier;
    /// (subject, message) of every publish so far, oldest first.
    fn published(&self) -> Vec<(String, String)>;
}

/// Subjects are clipped to SNS's 100 characters, messages cut below 256 KiB at a character
/// boundary with a mark, text arrives unchanged otherwise.
pub async fn notifier<H: NotifierHarness>(harness: &H) {
    let n = harness.notifier();
    n.publish("EC2 scheduler report", "line 1\nline 2 — ünïcode")
        .await
        .unwrap_or_else(|e| panic!("publish: {e}"));
    let long_subject = "s".repeat(150);
    n.publish(&long_subject, "short")
        .await
        .unwrap_or_else(|e| panic!("publish: {e}"));
    let long_message = "é".repeat(MAX_MESSAGE_BYTES);
    n.publish("long", &long_message)
        .await
        .unwrap_or_else(|e| panic!("publish: {e}"));
    let published = harness.published();
    assert_eq!(published.len(), 3, "{published:?}");
    assert_eq!(
        published[0],
        (
            "EC2 scheduler report".to_owned(),
            "line 1\nline 2 — ünïcode".to_owned()
        )
    );
    assert_eq!(published[1].0.chars().count(), MAX_SUBJECT_CHARS);
    let cut = &published[2].1;
    assert!(cut.len() <= MAX_MESSAGE_BYTES, "{} bytes", cut.len());
    assert!(cut.ends_with("(truncated)"));
    assert!(cut.starts_with("éé"));
}
