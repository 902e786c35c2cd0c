//! What a function takes from its surroundings besides configuration: the clock and a source of
//! ids. Injected, so tests, the demo and local invokes run at a chosen instant with known ids.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::clock::{Clock, FixedClock, SystemClock};
use crate::error::{ErrorClass, ServiceError};

/// Unique, unguessable ids (approval request ids, idempotency keys).
pub trait Ids: Send + Sync {
    /// At least 128 random bits, as 32 lower-case hex characters.
    fn next_id(&self) -> Result<String, ServiceError>;
}

/// 128 bits from the operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl Ids for RandomIds {
    fn next_id(&self) -> Result<String, ServiceError> {
        let mut bytes = [0u8; 16];
        // Only a broken system fails here; an id from the clock would be guessable, so the
        // failure goes up instead.
        getrandom::fill(&mut bytes)
            .map(|()| hex::encode(bytes))
            .map_err(|e| ServiceError::new("random source", ErrorClass::Internal, e.to_string()))
    }
}

/// `prefix-1`, `prefix-2`, …: predictable ids for tests and the demo.
#[derive(Debug, Default)]
pub struct SequentialIds {
    prefix: String,
    next: AtomicU64,
}

impl SequentialIds {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            next: AtomicU64::new(1),
        }
    }
}

impl Ids for SequentialIds {
    fn next_id(&self) -> Result<String, ServiceError> {
        Ok(format!(
            "{}-{}",
            self.prefix,
            self.next.fetch_add(1, Ordering::Relaxed)
        ))
    }
}

impl<I: Ids + ?Sized> Ids for Arc<I> {
    fn next_id(&self) -> Result<String, ServiceError> {
        (**self).next_id()
    }
}

/// The clock and the id source a function runs with.
#[derive(Clone)]
pub struct Env {
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn Ids>,
}

impl Env {
    /// The wall clock and random ids: what Lambda runs with.
    pub fn system() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds),
        }
    }

    /// A clock that stands at `instant` (move it through the returned handle) and sequential ids.
    pub fn fixed(instant: chrono::DateTime<chrono::Utc>) -> (Self, Arc<FixedClock>) {
        let clock = Arc::new(FixedClock::at(instant));
        let env = Self {
            clock: clock.clone(),
            ids: Arc::new(SequentialIds::new("id")),
        };
        (env, clock)
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("now", &self.clock.now())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_128_bits_and_distinct() {
        let a = RandomIds.next_id().unwrap();
        let b = RandomIds.next_id().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn fixed_env_stands_still_until_moved() {
        let t0 = "2026-11-23T08:00:00Z".parse().unwrap();
        let (env, clock) = Env::fixed(t0);
        assert_eq!(env.clock.now(), t0);
        clock.advance(chrono::Duration::minutes(5));
        assert_eq!(env.clock.now(), t0 + chrono::Duration::minutes(5));
        assert_eq!(env.ids.next_id().unwrap(), "id-1");
        assert_eq!(env.ids.next_id().unwrap(), "id-2");
    }
}
