//! The call-center pipeline: call recordings dropped into S3 under `recordings/` are transcribed
//! by Amazon Transcribe (the starter), and each transcript it writes under `transcripts/` is
//! scored by Amazon Comprehend and stored in DynamoDB with per-speaker sentiment and the trend
//! of the call (the analyser). Negative calls are announced on EventBridge and, optionally, to a
//! manager's email topic.
//!
//! Domain modules are pure (`keys`, `jobname`, `audio`, `language`, `transcript`, `chunk`,
//! `sentiment`); `ports` are the traits the two functions run on, with AWS adapters in `aws`
//! (feature `aws`) and in-memory ones in `memory`.

pub mod analyser;
pub mod audio;
#[cfg(feature = "aws")]
pub mod aws;
pub mod call;
pub mod chunk;
#[cfg(feature = "aws")]
pub mod cli;
pub mod config;
#[cfg(feature = "contract")]
pub mod contract;
pub mod error;
pub mod jobname;
pub mod keys;
pub mod language;
pub mod memory;
pub mod ports;
pub mod sentiment;
pub mod starter;
pub mod transcript;
pub mod trigger;

pub use analyser::Analyser;
pub use error::CallError;
pub use starter::Starter;
