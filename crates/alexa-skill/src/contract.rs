//! Contract suites for the skill's own ports, over the AWS adapters (DynamoDB and Kinesis in the
//! local stand-in) and the in-memory ones.

use chrono::{DateTime, Duration, Utc};
use std::future::Future;

use crate::ports::{AccessStore, Stream, Streams};

/// A grant reads back to the second; a later grant replaces it; grants are per user.
pub async fn access_store<A: AccessStore>(store: &A) {
    let t0: DateTime<Utc> = "2026-11-23T09:10:00Z"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let read = |user: &'static str| async move {
        store
            .granted_until(user)
            .await
            .unwrap_or_else(|e| panic!("read {user}: {e}"))
    };
    assert_eq!(read("alice").await, None);
    store
        .grant("alice", t0)
        .await
        .unwrap_or_else(|e| panic!("grant: {e}"));
    assert_eq!(read("alice").await, Some(t0));
    store
        .grant("alice", t0 + Duration::minutes(10))
        .await
        .unwrap_or_else(|e| panic!("grant: {e}"));
    assert_eq!(read("alice").await, Some(t0 + Duration::minutes(10)));
    assert_eq!(read("bob").await, None);
}

pub trait StreamsHarness {
    type Streams: Streams;
    /// Streams with these names and open shard counts.
    fn with(&self, streams: &[Stream]) -> impl Future<Output = Self::Streams>;
}

/// Every stream is listed (paging through ListStreams) with its open shard count.
pub async fn streams<H: StreamsHarness>(h: &H) {
    let wanted: Vec<Stream> = (1..=12)
        .map(|i| Stream {
            name: format!("stream-{i:02}"),
            shards: 1 + i % 4,
        })
        .collect();
    let listed = h
        .with(&wanted)
        .await
        .streams()
        .await
        .unwrap_or_else(|e| panic!("streams: {e}"));
    let mut listed = listed;
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(listed, wanted);
}
