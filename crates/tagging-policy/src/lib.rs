//! The tagging-policy engine: brings every EC2 instance in scope in line with the rules kept in
//! DynamoDB, finds who launched an instance in CloudTrail, and reports to SNS.

pub mod assess;
pub mod aws;
pub mod config;
pub mod handler;
pub mod identity;
pub mod memory;
pub mod ports;
pub mod rules;
pub mod run;

pub use assess::{assess, Assessment, Problem, UntaggedAction, Violation};
pub use rules::{Policy, Rule, RuleAction, RuleRow};
pub use run::{Engine, Report, Settings, Trigger};
