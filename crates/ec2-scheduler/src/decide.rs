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
    /// What to do now.
    pub action: Action,
    /// The new `Schedule` value: `#` + the old one, for an invalid value or a consumed one-off.
    pub rewrite_tag: Option<String>,
    /// The `ScheduleError` value for an invalid or dropped value.
    #[serde(skip)]
    pub error_tag: Option<String>,
    pub reason: String,
    /// The action the schedule asks for in this window, whatever the state, and its instant.
    #[serde(skip)]
    pub due: Option<(Action, DateTime<Utc>)>,
    /// The due action waits for the instance to leave `pending`/`stopping`: a pending action.
    #[serde(skip)]
    pub waits: bool,
    /// Recurring hours per day this schedule keeps the instance off.
    #[serde(skip)]
    pub hours_saved_per_day: f64,
    /// The value is a valid one-off (`-HH:MM[T]`).
    #[serde(skip)]
    pub one_off: bool,
}

/// How a due action fits the instance's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    Applies,
    /// The instance is on its way (`pending`, `stopping`): the action waits for it.
    InTransition,
    /// Nothing to do: already there, or gone.
    Moot,
}

pub fn fit(action: Action, state: InstanceState) -> Fit {
    use InstanceState::*;
    match (action, state) {
        (Action::Start, Stopped)
        | (Action::Stop, Running)
        | (Action::Terminate, Running | Stopped) => Fit::Applies,
        (Action::Start, Stopping)
        | (Action::Stop, Pending)
        | (Action::Terminate, Pending | Stopping) => Fit::InTransition,
        _ => Fit::Moot,
    }
}

/// `#` + the value, within EC2's tag length limit.
pub fn commented(value: &str) -> String {
    std::iter::once('#')
        .chain(value.chars())
        .take(MAX_TAG_VALUE_CHARS)
        .collect()
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_TAG_VALUE_CHARS).collect()
}

/// Decides for one tag value. `state = None` means "whatever the state": the due action is given
/// as is (used by `fleet schedule explain` without `--state`). `first_seen` is the window of the
/// run that first saw this value (`None`: this run), which fixes a one-off's instant.
pub fn evaluate(
    tag: &str,
    state: Option<InstanceState>,
    window: Window,
    first_seen: Option<Window>,
) -> Verdict {
    let schedule = match schedule::parse(tag) {
        Ok(s) => s,
        Err(e) => {
            let reason = format!("invalid Schedule tag: {e}");
            return Verdict {
                valid: false,
                action: Action::None,
                rewrite_tag: Some(commented(tag)),
                error_tag: Some(clip(&reason)),
                reason,
                due: None,
                waits: false,
                hours_saved_per_day: 0.0,
                one_off: false,
            };
        }
    };
    let mut verdict = Verdict {
        valid: true,
        action: Action::None,
        rewrite_tag: None,
        error_tag: None,
        reason: String::new(),
        due: None,
        waits: false,
        hours_saved_per_day: schedule.hours_saved_per_day(),
        one_off: schedule.is_one_off(),
    };
    let nothing_due = || {
        format!(
            "nothing due between {} and {}",
            window.last_run.to_rfc3339(),
            window.now.to_rfc3339()
        )
    };
    let (event, at) = match &schedule {
        Schedule::Ignored => {
            verdict.reason = "commented out with #: ignored".into();
            return verdict;
        }
        Schedule::Daily(_) => match schedule.latest_due(window.last_run, window.now) {
            Some(due) => due,
            None => {
                verdict.reason = nothing_due();
                return verdict;
            }
        },
        Schedule::Once(once) => {
            let first = first_seen.unwrap_or(window);
            let Some(at) = once.instant(first.last_run, first.now) else {
                let reason = format!(
                    "dropped: its time had passed on its day when the scheduler first saw it \
                     (run at {}, window from {}); nothing was done",
                    first.now.to_rfc3339(),
                    first.last_run.to_rfc3339()
                );
                verdict.rewrite_tag = Some(commented(tag));
                verdict.error_tag = Some(clip(&reason));
                verdict.reason = reason;
                return verdict;
            };
            if at > window.now {
                verdict.reason = format!("{} due at {}", once.event(), at.to_rfc3339());
                return verdict;
            }
            // A one-off is consumed once its instant has passed, whether or not the instance
            // needed the change, so it never repeats.
            verdict.rewrite_tag = Some(commented(tag));
            if at <= window.last_run {
                verdict.reason = format!(
                    "{} was due at {}, before this window: the one-off is over",
                    once.event(),
                    at.to_rfc3339()
                );
                return verdict;
            }
            (once.event(), at)
        }
    };
    let wanted = match event {
        Event::Start => Action::Start,
        Event::Stop => Action::Stop,
        Event::Terminate => Action::Terminate,
    };
    verdict.due = Some((wanted, at));
    let due = format!("{event} due at {}", at.to_rfc3339());
    let Some(state) = state else {
        verdict.action = wanted;
        verdict.reason = due;
        return verdict;
    };
    match fit(wanted, state) {
        Fit::Applies => {
            verdict.action = wanted;
            verdict.reason = format!("{due}; instance is {state}");
        }
        Fit::InTransition => {
            // Not consumed yet: the action is pending until the instance settles.
            verdict.waits = true;
            verdict.rewrite_tag = None;
            verdict.reason = format!("{due}; instance is {state}: waiting for it to settle");
        }
        Fit::Moot => verdict.reason = format!("{due}; instance is {state}: left alone"),
    }
    verdict
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
            assert_eq!(
                evaluate(tag, state, w, None).action,
                expected,
                "{tag} {state:?}"
            );
        }
    }

    #[test]
    fn invalid_values_are_commented_with_a_reason() {
        let v = evaluate(
            "9to5",
            Some(Running),
            window("2026-11-23T07:55:00Z", "2026-11-23T08:05:00Z"),
            None,
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
        let moot = evaluate("-19:15", Some(Stopped), w, None);
        assert_eq!(
            (moot.action, moot.rewrite_tag.as_deref()),
            (Action::None, Some("#-19:15"))
        );
        let not_yet = evaluate("-20:00", Some(Running), w, None);
        assert_eq!((not_yet.action, not_yet.rewrite_tag), (Action::None, None));
        let periodic = evaluate("08:00-19:15", Some(Running), w, None);
        assert_eq!(periodic.rewrite_tag, None);
    }

    /// A one-off's instant is fixed by the run that first saw it: later runs keep it, a past
    /// one is over (consumed, no action), one first seen after its time is dropped with a reason.
    #[test]
    fn one_offs_follow_their_first_sighting() {
        let noon = window("2026-11-23T11:50:00Z", "2026-11-23T12:00:00Z");
        let at_1830 = window("2026-11-23T18:20:00Z", "2026-11-23T18:30:00Z");
        let v = evaluate("-18:30T", Some(Running), at_1830, Some(noon));
        assert_eq!(
            (v.action, v.rewrite_tag.as_deref()),
            (Action::Terminate, Some("#-18:30T"))
        );
        let later = window("2026-11-23T18:30:00Z", "2026-11-23T18:40:00Z");
        let over = evaluate("-18:30T", Some(Running), later, Some(noon));
        assert_eq!((over.action, over.due), (Action::None, None));
        assert_eq!(over.rewrite_tag.as_deref(), Some("#-18:30T"));
        assert_eq!(over.error_tag, None);
        let dropped = evaluate("-18:30T", Some(Running), later, None);
        assert_eq!(dropped.action, Action::None);
        assert_eq!(dropped.rewrite_tag.as_deref(), Some("#-18:30T"));
        assert!(dropped.error_tag.unwrap().starts_with("dropped"));
        // Due while the instance is still booting: it waits, tag kept.
        let waits = evaluate("-18:30T", Some(Pending), at_1830, Some(noon));
        assert!(waits.waits);
        assert_eq!((waits.action, waits.rewrite_tag), (Action::None, None));
    }

    #[test]
    fn rewrites_stay_within_the_tag_limit() {
        let long = "x".repeat(MAX_TAG_VALUE_CHARS);
        let v = evaluate(
            &long,
            None,
            window("2026-11-23T19:10:00Z", "2026-11-23T19:20:00Z"),
            None,
        );
        assert_eq!(v.rewrite_tag.unwrap().chars().count(), MAX_TAG_VALUE_CHARS);
        assert!(v.error_tag.unwrap().chars().count() <= MAX_TAG_VALUE_CHARS);
    }
}
