//! The robot's drive command: a body is refused with a reason or gives a command within the
//! allowed ranges, which, written back as JSON, parses to the same command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use robot_publisher::command::{DriveCommand, DURATION_MS_RANGE, SPEED_RANGE};

fuzz_target!(|data: &[u8]| {
    if let Ok(command) = DriveCommand::parse(data) {
        assert!(
            (SPEED_RANGE.0..=SPEED_RANGE.1).contains(&command.speed),
            "{command:?}"
        );
        assert!(
            (DURATION_MS_RANGE.0..=DURATION_MS_RANGE.1).contains(&command.duration_ms),
            "{command:?}"
        );
        let again = serde_json::to_vec(&command).unwrap_or_default();
        assert_eq!(DriveCommand::parse(&again), Ok(command));
    }
});
