//! The publisher's contract, over the IoT adapter (against the local stand-in, read back from its
//! request recorder) and the recording publisher: every payload reaches the topic unchanged, in
//! order, with QoS 1.

use std::future::Future;

use crate::ports::{Publisher, Sequence};

pub trait PublisherHarness {
    type Publisher: Publisher;
    fn publisher(&self) -> &Self::Publisher;
    /// (topic, QoS, payload) of every publish that reached the broker, oldest first.
    fn published(&self) -> impl Future<Output = Vec<(String, u8, Vec<u8>)>>;
}

pub async fn publisher<H: PublisherHarness>(h: &H) {
    let first = br#"{"action":"forward","sequence":1}"#.to_vec();
    let second = br#"{"action":"stop","sequence":2}"#.to_vec();
    for payload in [&first, &second] {
        h.publisher()
            .publish("rover/action", payload.clone())
            .await
            .unwrap_or_else(|e| panic!("publish: {e}"));
    }
    assert_eq!(
        h.published().await,
        [
            ("rover/action".to_owned(), 1, first),
            ("rover/action".to_owned(), 1, second)
        ]
    );
}

/// Two adapters over one counter (two containers): every number is above every number handed
/// out before it, by either.
pub async fn sequence<S: Sequence>(first: &S, second: &S) {
    let mut seen = Vec::new();
    for _ in 0..5 {
        let a = first.next().await.unwrap_or_else(|e| panic!("next: {e}"));
        let b = second.next().await.unwrap_or_else(|e| panic!("next: {e}"));
        assert!(
            seen.iter().all(|s| *s < a) && a < b,
            "{seen:?} then {a}, {b}"
        );
        seen.extend([a, b]);
    }
}
