//! Shared by every cloudops-fleet function: the closed vocabulary of error classes, the typed
//! event boundary, configuration from the environment, the injected clock and ids, the HTTP
//! functions' shared pieces, and the report notifier port.
//!
//! With the default `aws` feature it also holds what touches the SDK: the SDK configuration, the
//! classification of SDK errors, the SNS notifier and the Lambda runner every `main.rs` calls.

#[cfg(feature = "aws")]
pub mod aws;
pub mod body;
pub mod clock;
pub mod config;
#[cfg(feature = "contract")]
pub mod contract;
#[cfg(feature = "dynamodb")]
pub mod dynamo;
pub mod env;
pub mod error;
pub mod event;
pub mod handler;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "aws")]
pub mod lambda;
pub mod ledger;
pub mod notify;
pub mod telemetry;

#[cfg(feature = "aws")]
pub use aws::SnsNotifier;
pub use clock::{Clock, Deadline, FixedClock, SystemClock};
pub use config::{ConfigError, FromVars, Vars};
pub use env::{Env, Ids, RandomIds, SequentialIds};
pub use error::{Classified, ErrorClass, HandlerError, ServiceError};
pub use handler::EventHandler;
#[cfg(feature = "http")]
pub use handler::HttpHandler;
pub use notify::{Notifier, Outage, RecordingNotifier, RunSummary};
