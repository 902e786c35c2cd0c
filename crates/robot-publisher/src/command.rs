//! A drive command: validated from the request body, turned into the payload the robot reads.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

/// Larger bodies are refused before parsing.
pub const MAX_BODY_BYTES: usize = 1024;
pub const SPEED_RANGE: (f64, f64) = (0.1, 1.0);
pub const DEFAULT_SPEED: f64 = 1.0;
pub const DURATION_MS_RANGE: (u64, u64) = (50, 2000);
pub const DEFAULT_DURATION_MS: u64 = 200;
const FIELDS: [&str; 3] = ["action", "speed", "duration_ms"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Forward,
    Backwards,
    Left,
    Right,
    Stop,
}

impl Direction {
    pub const ALL: [Direction; 5] = [
        Self::Forward,
        Self::Backwards,
        Self::Left,
        Self::Right,
        Self::Stop,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Forward => "forward",
            Self::Backwards => "backwards",
            Self::Left => "left",
            Self::Right => "right",
            Self::Stop => "stop",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == text)
    }

    fn allowed() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DriveCommand {
    pub action: Direction,
    pub speed: f64,
    pub duration_ms: u64,
}

/// Why a body was refused; the message names the field and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidCommand(pub String);

fn invalid(message: impl Into<String>) -> InvalidCommand {
    InvalidCommand(message.into())
}

impl DriveCommand {
    pub fn parse(body: &[u8]) -> Result<Self, InvalidCommand> {
        let fields = fleet_core::body::json_object(
            body,
            MAX_BODY_BYTES,
            &FIELDS,
            Some(r#"{"action":"forward"}"#),
        )
        .map_err(InvalidCommand)?;
        Ok(Self {
            action: action(&fields)?,
            speed: speed(&fields)?,
            duration_ms: duration_ms(&fields)?,
        })
    }
}

fn action(fields: &Map<String, Value>) -> Result<Direction, InvalidCommand> {
    match fields.get("action") {
        None => Err(invalid(format!(
            "missing field \"action\": one of {}",
            Direction::allowed()
        ))),
        Some(Value::String(s)) => Direction::parse(s).ok_or_else(|| {
            invalid(format!(
                "\"action\" must be one of {} (got {s:?})",
                Direction::allowed()
            ))
        }),
        Some(other) => Err(invalid(format!(
            "\"action\" must be one of {} (got {other})",
            Direction::allowed()
        ))),
    }
}

fn speed(fields: &Map<String, Value>) -> Result<f64, InvalidCommand> {
    let (min, max) = SPEED_RANGE;
    match fields.get("speed") {
        None => Ok(DEFAULT_SPEED),
        Some(v) => v
            .as_f64()
            .filter(|s| (min..=max).contains(s))
            .ok_or_else(|| {
                invalid(format!(
                    "\"speed\" must be a number from {min} to {max:.1} (got {v})"
                ))
            }),
    }
}

fn duration_ms(fields: &Map<String, Value>) -> Result<u64, InvalidCommand> {
    let (min, max) = DURATION_MS_RANGE;
    match fields.get("duration_ms") {
        None => Ok(DEFAULT_DURATION_MS),
        Some(v) => v
            .as_u64()
            .filter(|d| (min..=max).contains(d))
            .ok_or_else(|| {
                invalid(format!(
                    "\"duration_ms\" must be a whole number from {min} to {max} (got {v})"
                ))
            }),
    }
}

/// The rule the robot applies, stated in every payload.
pub const ROBOT_RULE: &str = "drop a command past expires_at; drop a motion command whose sequence is not above the last executed; stop always executes";

/// What the robot receives on `{RobotName}/action`. `sequence` comes from one counter shared by
/// every container, so a later command always has a higher number; IoT Core may still deliver
/// out of order (and QoS 1 may deliver twice), so the robot applies `rule` ([`RobotRule`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrivePayload {
    pub action: Direction,
    pub speed: f64,
    pub duration_ms: u64,
    pub sequence: u64,
    pub issued_at: String,
    pub expires_at: String,
    pub rule: &'static str,
}

/// What the robot does with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Execute,
    /// Past its `expires_at`.
    Expired,
    /// A motion command not newer than the last one executed (late, or delivered twice).
    Stale,
}

/// The robot's side of [`ROBOT_RULE`], as a reference for its firmware and for tests: the last
/// sequence it executed, and the rule applied to every delivery.
#[derive(Debug, Clone, Default)]
pub struct RobotRule {
    pub last_executed: Option<u64>,
}

impl RobotRule {
    pub fn accept(
        &mut self,
        action: Direction,
        sequence: u64,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Verdict {
        if now > expires_at {
            return Verdict::Expired;
        }
        let newer = self.last_executed.is_none_or(|last| sequence > last);
        // A stop is always safe to execute, even late; it never lowers the mark.
        if action != Direction::Stop && !newer {
            return Verdict::Stale;
        }
        self.last_executed = Some(self.last_executed.map_or(sequence, |l| l.max(sequence)));
        Verdict::Execute
    }
}

impl DrivePayload {
    pub fn new(command: DriveCommand, sequence: u64, now: DateTime<Utc>, ttl: Duration) -> Self {
        let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
        Self {
            action: command.action,
            speed: command.speed,
            duration_ms: command.duration_ms,
            sequence,
            issued_at: ts(now),
            expires_at: ts(now + ttl),
            rule: ROBOT_RULE,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        // A struct of strings and numbers always serialises.
        serde_json::to_vec(self).unwrap_or_default()
    }
}
