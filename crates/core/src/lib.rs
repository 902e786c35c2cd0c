//! Shared by every cloudops-fleet function: typed configuration from the environment, the AWS SDK
//! configuration, tracing, error classification, an injectable clock and the report notifier port.

pub mod aws;
pub mod body;
pub mod clock;
pub mod config;
pub mod error;
pub mod notify;
pub mod telemetry;

pub use clock::{Clock, Deadline, FixedClock, SystemClock};
pub use config::{ConfigError, Vars};
pub use error::{ErrorType, HandlerError};
pub use notify::{deliver, Notifier, NotifyError, RunSummary, SnsNotifier};
