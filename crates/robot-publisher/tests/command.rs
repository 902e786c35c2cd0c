//! Validation and payload building: table tests, and properties over arbitrary bodies.

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use robot_publisher::{Direction, DriveCommand, DrivePayload, RobotRule, Verdict, ROBOT_RULE};

fn parse(body: &str) -> Result<DriveCommand, String> {
    DriveCommand::parse(body.as_bytes()).map_err(|e| e.0)
}

#[test]
fn good_commands_with_defaults() {
    let cases = [
        (r#"{"action":"forward"}"#, (Direction::Forward, 1.0, 200)),
        (
            r#"{"action":"backwards","speed":0.1,"duration_ms":50}"#,
            (Direction::Backwards, 0.1, 50),
        ),
        (
            r#"{"action":"left","speed":1,"duration_ms":2000}"#,
            (Direction::Left, 1.0, 2000),
        ),
        (
            r#" {"duration_ms": 300, "action": "right", "speed": 0.55} "#,
            (Direction::Right, 0.55, 300),
        ),
        (r#"{"action":"stop"}"#, (Direction::Stop, 1.0, 200)),
    ];
    for (body, (action, speed, duration_ms)) in cases {
        assert_eq!(
            parse(body),
            Ok(DriveCommand {
                action,
                speed,
                duration_ms
            }),
            "{body}"
        );
    }
}

#[test]
fn bad_bodies_get_a_message_naming_the_field() {
    let allowed = "forward, backwards, left, right, stop";
    let cases = [
        (
            "",
            r#"the body is empty: send JSON such as {"action":"forward"}"#.to_owned(),
        ),
        (
            "  \n",
            r#"the body is empty: send JSON such as {"action":"forward"}"#.to_owned(),
        ),
        (
            r#"{"action":"forward""#,
            "the body is not valid JSON: EOF while parsing an object at line 1 column 19"
                .to_owned(),
        ),
        (
            r#"["forward"]"#,
            r#"the body must be a JSON object such as {"action":"forward"}"#.to_owned(),
        ),
        ("{}", format!("missing field \"action\": one of {allowed}")),
        (
            r#"{"action":"up"}"#,
            format!("\"action\" must be one of {allowed} (got \"up\")"),
        ),
        (
            r#"{"action":"Forward"}"#,
            format!("\"action\" must be one of {allowed} (got \"Forward\")"),
        ),
        (
            r#"{"action":7}"#,
            format!("\"action\" must be one of {allowed} (got 7)"),
        ),
        (
            r#"{"action":"forward","speed":0}"#,
            "\"speed\" must be a number from 0.1 to 1.0 (got 0)".to_owned(),
        ),
        (
            r#"{"action":"forward","speed":1.01}"#,
            "\"speed\" must be a number from 0.1 to 1.0 (got 1.01)".to_owned(),
        ),
        (
            r#"{"action":"forward","speed":"fast"}"#,
            "\"speed\" must be a number from 0.1 to 1.0 (got \"fast\")".to_owned(),
        ),
        (
            r#"{"action":"forward","duration_ms":49}"#,
            "\"duration_ms\" must be a whole number from 50 to 2000 (got 49)".to_owned(),
        ),
        (
            r#"{"action":"forward","duration_ms":2001}"#,
            "\"duration_ms\" must be a whole number from 50 to 2000 (got 2001)".to_owned(),
        ),
        (
            r#"{"action":"forward","duration_ms":100.5}"#,
            "\"duration_ms\" must be a whole number from 50 to 2000 (got 100.5)".to_owned(),
        ),
        (
            r#"{"action":"forward","duration_ms":-5}"#,
            "\"duration_ms\" must be a whole number from 50 to 2000 (got -5)".to_owned(),
        ),
        (
            r#"{"action":"forward","turbo":true}"#,
            "unknown field \"turbo\": the allowed fields are action, speed, duration_ms".to_owned(),
        ),
        (
            r#"{"action":"forward","ac":1}"#,
            "unknown field \"ac\": the allowed fields are action, speed, duration_ms".to_owned(),
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(parse(body), Err(expected), "{body:?}");
    }
    let oversized = format!(r#"{{"action":"forward","pad":"{}"}}"#, "x".repeat(1100));
    assert_eq!(
        parse(&oversized),
        Err(format!(
            "the body is {} bytes; the limit is 1024",
            oversized.len()
        ))
    );
}

#[test]
fn the_payload_carries_the_command_its_sequence_and_its_expiry() {
    let now: DateTime<Utc> = "2026-11-23T09:00:00.250Z".parse().unwrap();
    let command = DriveCommand {
        action: Direction::Left,
        speed: 0.5,
        duration_ms: 500,
    };
    let payload = DrivePayload::new(command, 42, now, Duration::seconds(3));
    let json: serde_json::Value = serde_json::from_slice(&payload.to_bytes()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "action": "left",
            "speed": 0.5,
            "duration_ms": 500,
            "sequence": 42,
            "issued_at": "2026-11-23T09:00:00.250Z",
            "expires_at": "2026-11-23T09:00:03.250Z",
            "rule": ROBOT_RULE,
        })
    );
}

fn t0() -> DateTime<Utc> {
    "2026-11-23T09:00:00Z".parse().unwrap()
}

/// The robot's rule, delivery by delivery: expired commands and late or repeated motion commands
/// are dropped; a stop always executes and never lowers the mark.
#[test]
fn the_robot_rule_table() {
    use Direction::{Forward, Left, Stop};
    use Verdict::{Execute, Expired, Stale};
    let later = t0() + Duration::seconds(3);
    let mut robot = RobotRule::default();
    let deliveries = [
        (Forward, 5, later, Execute),
        (Forward, 5, later, Stale), // QoS 1 delivered it twice
        (Left, 4, later, Stale),    // issued before the forward, arrived after
        (Stop, 3, later, Execute),  // a late stop still stops
        (Forward, 6, t0() - Duration::seconds(1), Expired),
        (Left, 7, later, Execute),
    ];
    for (i, (action, sequence, expires_at, verdict)) in deliveries.into_iter().enumerate() {
        assert_eq!(
            robot.accept(action, sequence, expires_at, t0()),
            verdict,
            "delivery {i}"
        );
    }
    assert_eq!(robot.last_executed, Some(7));
}

/// A stream of commands in the order they were issued (sequence = position + 1).
fn commands() -> impl Strategy<Value = Vec<Direction>> {
    prop::collection::vec(prop::sample::select(Direction::ALL.to_vec()), 1..12)
}

proptest! {
    /// Any delivery order, with any duplicates (QoS 1): every stop executes; a motion command
    /// never executes after a later command did (so a stop is never overridden by a forward
    /// issued before it); and the last command issued, if delivered, is never dropped as stale.
    #[test]
    fn out_of_order_deliveries_never_undo_a_later_command(
        issued in commands(),
        order in prop::collection::vec(any::<prop::sample::Index>(), 1..30),
    ) {
        let deliveries: Vec<(Direction, u64)> = order
            .iter()
            .map(|i| {
                let at = i.index(issued.len());
                (issued[at], at as u64 + 1)
            })
            .collect();
        let mut robot = RobotRule::default();
        let mut executed: Vec<(Direction, u64)> = Vec::new();
        for (action, sequence) in &deliveries {
            let verdict = robot.accept(*action, *sequence, t0() + Duration::seconds(3), t0());
            if *action == Direction::Stop {
                prop_assert_eq!(verdict, Verdict::Execute);
            }
            if verdict == Verdict::Execute {
                if *action != Direction::Stop {
                    prop_assert!(executed.iter().all(|(_, s)| s < sequence), "{:?} after {:?}", (action, sequence), executed);
                }
                executed.push((*action, *sequence));
            }
        }
        let last = issued.len() as u64;
        if deliveries.iter().any(|(_, s)| *s == last) {
            prop_assert!(executed.iter().any(|(_, s)| *s == last), "the newest command was dropped: {:?}", executed);
        }
    }

    #[test]
    fn any_body_is_either_a_command_in_range_or_a_message(body in prop::collection::vec(any::<u8>(), 0..1200)) {
        match DriveCommand::parse(&body) {
            Ok(c) => {
                prop_assert!((0.1..=1.0).contains(&c.speed));
                prop_assert!((50..=2000).contains(&c.duration_ms));
            }
            Err(e) => prop_assert!(!e.0.is_empty()),
        }
    }

    #[test]
    fn any_json_object_of_the_known_fields_parses_or_names_a_field(
        action in prop::sample::select(vec!["forward", "backwards", "left", "right", "stop", "up", ""]),
        speed in prop::option::of(-1.0f64..2.0),
        duration in prop::option::of(-10i64..3000),
    ) {
        let mut body = serde_json::json!({ "action": action });
        if let Some(s) = speed { body["speed"] = s.into(); }
        if let Some(d) = duration { body["duration_ms"] = d.into(); }
        match DriveCommand::parse(body.to_string().as_bytes()) {
            Ok(c) => {
                prop_assert_eq!(c.action.as_str(), action);
                // serde_json parses decimals to within an ulp.
                prop_assert!((c.speed - speed.unwrap_or(1.0)).abs() < 1e-12);
                prop_assert_eq!(c.duration_ms as i64, duration.unwrap_or(200));
            }
            Err(e) => prop_assert!(e.0.contains("\"action\"") || e.0.contains("\"speed\"") || e.0.contains("\"duration_ms\""), "{}", e.0),
        }
    }
}
