//! One rule for a `Schedule` tag in a run's window (the Lambda's and `fleet schedule explain`'s):
//! whatever the tag, state and window, the verdict is safe. An invalid tag does nothing and is
//! commented out; an action always fits the state; only a one-off with `T` terminates; what is
//! due lies inside the window; tags written back stay within EC2's limit; and a consumed or
//! commented-out value does nothing on the next run.
#![no_main]

use chrono::{DateTime, Duration, Utc};
use ec2_scheduler::decide::{evaluate, fit, Action, Fit, Window, MAX_TAG_VALUE_CHARS};
use ec2_scheduler::InstanceState;
use libfuzzer_sys::fuzz_target;

const STATES: [InstanceState; 6] = [
    InstanceState::Pending,
    InstanceState::Running,
    InstanceState::Stopping,
    InstanceState::Stopped,
    InstanceState::ShuttingDown,
    InstanceState::Terminated,
];

fuzz_target!(|data: &[u8]| {
    // 4 bytes: minutes since 2026-01-01 (about eight years), 2: window length in minutes,
    // 1: the state (or none); the rest is the tag.
    let Some((head, tag)) = data.split_first_chunk::<7>() else {
        return;
    };
    let Ok(tag) = std::str::from_utf8(tag) else {
        return;
    };
    let minutes = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) % (8 * 366 * 24 * 60);
    let length = u16::from_le_bytes([head[4], head[5]]) % (3 * 24 * 60);
    let state = STATES.get(usize::from(head[6]) % 8).copied();
    let Some(epoch) = DateTime::<Utc>::from_timestamp(1_767_225_600, 0) else {
        return;
    };
    let now = epoch + Duration::minutes(i64::from(minutes));
    let window = Window {
        last_run: now - Duration::minutes(i64::from(length)),
        now,
    };
    let verdict = evaluate(tag, state, window, None);
    assert_eq!(evaluate(tag, state, window, None), verdict, "deterministic");

    for written in [&verdict.rewrite_tag, &verdict.error_tag]
        .into_iter()
        .flatten()
    {
        assert!(
            written.chars().count() <= MAX_TAG_VALUE_CHARS,
            "{written:?}"
        );
    }
    if !verdict.valid {
        assert_eq!(
            verdict.action,
            Action::None,
            "an invalid tag does nothing: {tag:?}"
        );
        assert!(verdict
            .rewrite_tag
            .as_deref()
            .is_some_and(|t| t.starts_with('#')));
    }
    if verdict.action == Action::Terminate {
        assert!(verdict.one_off, "only a one-off terminates: {tag:?}");
    }
    if let Some(state) = state {
        if verdict.action != Action::None {
            assert_eq!(
                fit(verdict.action, state),
                Fit::Applies,
                "{tag:?} {state:?}"
            );
        }
    }
    if let Some((_, at)) = verdict.due {
        assert!(
            window.last_run < at && at <= window.now,
            "{tag:?} due at {at}"
        );
    }
    // The value written back is what the next run reads: it never acts again.
    if let Some(rewritten) = &verdict.rewrite_tag {
        let next = Window {
            last_run: now,
            now: now + Duration::minutes(10),
        };
        let again = evaluate(rewritten, state, next, None);
        assert_eq!(
            again.action,
            Action::None,
            "{tag:?} rewritten as {rewritten:?}"
        );
        assert_eq!(again.rewrite_tag, None, "a comment is left as it is");
    }
});
