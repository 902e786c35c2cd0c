//! The `Schedule` tag grammar: any text either fails with a reason or parses to a schedule whose
//! canonical rendering parses back to the same schedule.
#![no_main]

use ec2_scheduler::schedule::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(tag) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(schedule) = parse(tag) {
        let rendered = schedule.to_string();
        assert_eq!(
            parse(&rendered).as_ref(),
            Ok(&schedule),
            "{tag:?} rendered as {rendered:?}"
        );
    }
});
