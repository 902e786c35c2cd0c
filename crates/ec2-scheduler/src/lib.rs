//! The EC2 Schedule-tag scheduler: starts, stops and terminates instances at the times in their
//! `Schedule` tag. See the README's tag reference for the grammar.

pub mod aws;
pub mod config;
pub mod decide;
pub mod handler;
pub mod memory;
pub mod ports;
pub mod run;
pub mod schedule;

pub use decide::{evaluate, Action, InstanceState, Verdict, Window};
pub use run::{RunReport, Scheduler, Settings};
