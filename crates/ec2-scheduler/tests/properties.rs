//! No input string makes the parser or the decision panic, and the decision's invariants hold.

use chrono::{DateTime, Duration, Utc};
use ec2_scheduler::{evaluate, schedule, Action, InstanceState, Window};
use proptest::prelude::*;

fn window(base_minutes: i64, span_minutes: i64) -> Window {
    let epoch = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let last_run = epoch + Duration::minutes(base_minutes);
    Window {
        last_run,
        now: last_run + Duration::minutes(span_minutes),
    }
}

fn tag_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[#-]?[0-9]{1,3}:[0-9]{1,3}(-[0-9]{1,3}:[0-9]{1,3})?[Tt]?( [A-Za-z_/+-]{1,20})?",
        "((Mon|Tue|Wed|Thu|Fri|Sat|Sun|Xyz)[,-]?){1,4} [0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]( Europe/Amsterdam| America/New_York| Asia/Tokyo)?",
    ]
}

proptest! {
    /// Issue 18: a parsed schedule renders (`Display`) to a value that parses back to it.
    #[test]
    fn a_parsed_schedule_renders_back_to_itself(tag in tag_like()) {
        if let Ok(parsed) = schedule::parse(&tag) {
            let rendered = parsed.to_string();
            prop_assert_eq!(schedule::parse(&rendered), Ok(parsed), "{:?} rendered as {:?}", tag, rendered);
        }
    }

    #[test]
    fn parse_and_evaluate_never_panic(tag in tag_like(), base in 0i64..600_000, span in -60i64..20_000, state in 0usize..7) {
        let _ = schedule::parse(&tag);
        let states = [None, Some(InstanceState::Pending), Some(InstanceState::Running), Some(InstanceState::Stopping),
            Some(InstanceState::Stopped), Some(InstanceState::ShuttingDown), Some(InstanceState::Terminated)];
        let verdict = evaluate(&tag, states[state], window(base, span), None);
        // invalid values are never acted on, always rewritten, and the rewrite fits in a tag
        if !verdict.valid {
            prop_assert_eq!(verdict.action, Action::None);
            prop_assert!(verdict.rewrite_tag.as_ref().is_some_and(|t| t.starts_with('#') && t.chars().count() <= 256));
        }
        // a due instant is inside the window
        if let Some((_, due)) = verdict.due {
            let w = window(base, span);
            prop_assert!(w.last_run < due && due <= w.now);
        }
    }

    #[test]
    fn valid_periods_fire_exactly_once_per_instant(start_h in 0u32..24, start_m in 0u32..60, stop_h in 0u32..24, stop_m in 0u32..60, base in 0i64..500_000) {
        // instants at least one window apart (closer ones share a window, where the latest wins)
        let gap = (i64::from(stop_h * 60 + stop_m) - i64::from(start_h * 60 + start_m)).rem_euclid(1440);
        prop_assume!((10..=1430).contains(&gap));
        let tag = format!("{start_h:02}:{start_m:02}-{stop_h:02}:{stop_m:02}");
        let s = schedule::parse(&tag).unwrap();
        // walking a day in back-to-back 10-minute windows finds each of the two instants exactly once
        let mut fired = 0;
        for step in 0..144 {
            let w = window(base + step * 10, 10);
            if s.latest_due(w.last_run, w.now).is_some() { fired += 1; }
        }
        prop_assert_eq!(fired, 2, "{}", tag);
    }

    /// Whenever a one-off is first seen, it is due in at most one window of the days that
    /// follow, and never after the end of the day of the run that first saw it.
    #[test]
    fn a_one_off_fires_at_most_once_and_never_a_day_late(h in 0u32..24, m in 0u32..60, base in 0i64..500_000, terminate: bool) {
        let tag = format!("-{h:02}:{m:02}{}", if terminate { "T" } else { "" });
        let first = window(base, 10);
        let end_of_first_day = (first.now + Duration::days(1))
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        let mut fired = Vec::new();
        for step in 0..(3 * 144) {
            let w = window(base + step * 10, 10);
            if let Some((_, at)) = evaluate(&tag, None, w, Some(first)).due {
                fired.push(at);
            }
        }
        prop_assert!(fired.len() <= 1, "{} fired at {:?}", tag, fired);
        if let Some(at) = fired.first() {
            prop_assert!(*at <= end_of_first_day, "{} fired a day late at {}", tag, at);
        }
    }
}
