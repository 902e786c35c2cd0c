//! The clock is injected so every time rule can be tested at an exact instant.

use chrono::{DateTime, Utc};
use std::sync::Mutex;

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Lambda's context deadline (epoch milliseconds) as an instant; 0, as in a hand-built context,
/// means none.
pub fn lambda_deadline(millis: u64) -> Option<DateTime<Utc>> {
    match millis {
        0 => None,
        ms => i64::try_from(ms)
            .ok()
            .and_then(DateTime::<Utc>::from_timestamp_millis),
    }
}

/// When Lambda would end the invocation, with a margin to finish the report before it.
pub struct Deadline<'a, C> {
    clock: &'a C,
    at: Option<DateTime<Utc>>,
    margin: chrono::Duration,
}

impl<'a, C: Clock> Deadline<'a, C> {
    /// `at` = None: no deadline (a CLI run, a hand-built test context).
    pub fn new(clock: &'a C, at: Option<DateTime<Utc>>, margin: chrono::Duration) -> Self {
        Self { clock, at, margin }
    }

    /// Less than the margin is left: start no more calls.
    pub fn reached(&self) -> bool {
        self.at
            .is_some_and(|at| self.clock.now() + self.margin >= at)
    }
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until moved; for tests and benchmarks.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn at(instant: DateTime<Utc>) -> Self {
        Self(Mutex::new(instant))
    }

    pub fn set(&self, instant: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = instant;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}
