//! One rule, used by the Lambda, `fleet schedule explain` and `fleet schedule plan`: what a
//! `Schedule` tag asks of an instance in a given state within a run's window.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::schedule::{self, Event, Schedule};

/// Tag values are limited to 256 characters by EC2.
pub const MAX_TAG_VALUE_CHARS: usize = 256;

pub use fleet_ec2::InstanceState;

/// What to do to the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    None,
    Start,
    Stop,
    Terminate,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::None => "none",
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Terminate => "terminate",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The run's window: instants `t` with `last_run < t <= now` are due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub last_run: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// The verdict on one tag value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub valid: bool,
    pub action: Action,
    /// The new `Schedule` value: `#` + the old one, for an invalid value or a consumed one-off.
    pub rewrite_tag: Option<String>,
    /// The `ScheduleError` value for an invalid tag.
    #[serde(skip)]
    pub error_tag: Option<String>,
    pub reason: String,
    #[serde(skip)]
    pub due_at: Option<DateTime<Utc>>,
    /// Recurring hours per day this schedule keeps the instance off.
    #[serde(skip)]
    pub hours_saved_per_day: f64,
}

/// `#` + the value, within EC2's tag length limit.
pub fn commented(value: &str) -> String {
    std::iter::once('#')
        .chain(value.chars())
        .take(MAX_TAG_VALUE_CHARS)
        .collect()
}

/// Decides for one tag value. `state = None` means "whatever the state": the due action is given
/// as is (used by `fleet schedule explain` without `--state`).
pub fn evaluate(tag: &str, state: Option<InstanceState>, window: Window) -> Verdict {
    let schedule = match schedule::parse(tag) {
        Ok(s) => s,
        Err(e) => {
            let reason = format!("invalid Schedule tag: {e}");
            return Verdict {
                valid: false,
                action: Action::None,
                rewrite_tag: Some(commented(tag)),
                error_tag: Some(reason.chars().take(MAX_TAG_VALUE_CHARS).collect()),
                reason,
                due_at: None,
                hours_saved_per_day: 0.0,
            };
        }
    };
    let hours_saved_per_day = schedule.hours_saved_per_day();
    let verdict = |action, rewrite_tag, reason: String, due_at| Verdict {
        valid: true,
        action,
        rewrite_tag,
        error_tag: None,
        reason,
        due_at,
        hours_saved_per_day,
    };
    if schedule == Schedule::Ignored {
        return verdict(
            Action::None,
            None,
            "commented out with #: ignored".into(),
            None,
        );
    }
    let Some((event, at)) = schedule.latest_due(window.last_run, window.now) else {
        return verdict(
            Action::None,
            None,
            format!(
                "nothing due between {} and {}",
                window.last_run.to_rfc3339(),
                window.now.to_rfc3339()
            ),
            None,
        );
    };
    // A due one-off is consumed whether or not the instance needed the change, so it never repeats.
    let rewrite = schedule.is_one_off().then(|| commented(tag));
    let due = format!("{event} due at {}", at.to_rfc3339());
    let wanted = match event {
        Event::Start => Action::Start,
        Event::Stop => Action::Stop,
        Event::Terminate => Action::Terminate,
    };
    let Some(state) = state else {
        return verdict(wanted, rewrite, due, Some(at));
    };
    let applies = match wanted {
        Action::Start => state == InstanceState::Stopped,
        Action::Stop => state == InstanceState::Running,
        Action::Terminate => matches!(state, InstanceState::Running | InstanceState::Stopped),
        Action::None => false,
    };
    if applies {
        verdict(
            wanted,
            rewrite,
            format!("{due}; instance is {state}"),
            Some(at),
        )
    } else {
        verdict(
            Action::None,
            rewrite,
            format!("{due}; instance is {state}: left alone"),
            Some(at),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InstanceState::*;

    fn window(last_run: &str, now: &str) -> Window {
        let p = |s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        Window {
            last_run: p(last_run),
            now: p(now),
        }
    }

    #[test]
    fn state_table() {
        let at_start = window("2026-11-23T07:55:00Z", "2026-11-23T08:05:00Z");
        let at_stop = window("2026-11-23T19:10:00Z", "2026-11-23T19:20:00Z");
        let cases = [
            ("08:00-19:15", Some(Stopped), at_start, Action::Start),
            ("08:00-19:15", Some(Running), at_start, Action::None),
            ("08:00-19:15", Some(Pending), at_start, Action::None),
            ("08:00-19:15", Some(Stopping), at_start, Action::None),
            ("08:00-19:15", Some(Running), at_stop, Action::Stop),
            ("08:00-19:15", Some(Stopped), at_stop, Action::None),
            ("08:00-19:15", Some(ShuttingDown), at_stop, Action::None),
            ("08:00-19:15", None, at_stop, Action::Stop),
            ("-19:15T", Some(Running), at_stop, Action::Terminate),
            ("-19:15T", Some(Stopped), at_stop, Action::Terminate),
            ("-19:15T", Some(Terminated), at_stop, Action::None),
            ("-19:15T", Some(Pending), at_stop, Action::None),
        ];
        for (tag, state, w, expected) in cases {
            assert_eq!(evaluate(tag, state, w).action, expected, "{tag} {state:?}");
        }
    }

    #[test]
    fn invalid_values_are_commented_with_a_reason() {
        let v = evaluate(
            "9to5",
            Some(Running),
            window("2026-11-23T07:55:00Z", "2026-11-23T08:05:00Z"),
        );
        assert!(!v.valid);
        assert_eq!(v.action, Action::None);
        assert_eq!(v.rewrite_tag.as_deref(), Some("#9to5"));
        assert_eq!(
            v.error_tag.as_deref(),
            Some("invalid Schedule tag: expected HH:MM-HH:MM, -HH:MM or -HH:MMT, found \"9to5\"")
        );
    }

    #[test]
    fn due_one_offs_are_consumed_even_when_moot() {
        let w = window("2026-11-23T19:10:00Z", "2026-11-23T19:20:00Z");
        let moot = evaluate("-19:15", Some(Stopped), w);
        assert_eq!(
            (moot.action, moot.rewrite_tag.as_deref()),
            (Action::None, Some("#-19:15"))
        );
        let not_yet = evaluate("-20:00", Some(Running), w);
        assert_eq!((not_yet.action, not_yet.rewrite_tag), (Action::None, None));
        let periodic = evaluate("08:00-19:15", Some(Running), w);
        assert_eq!(periodic.rewrite_tag, None);
    }

    #[test]
    fn rewrites_stay_within_the_tag_limit() {
        let long = "x".repeat(MAX_TAG_VALUE_CHARS);
        let v = evaluate(
            &long,
            None,
            window("2026-11-23T19:10:00Z", "2026-11-23T19:20:00Z"),
        );
        assert_eq!(v.rewrite_tag.unwrap().chars().count(), MAX_TAG_VALUE_CHARS);
        assert!(v.error_tag.unwrap().chars().count() <= MAX_TAG_VALUE_CHARS);
    }
}
