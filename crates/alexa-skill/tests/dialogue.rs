//! Dialogue tests over in-memory EC2, Kinesis, access and OTP adapters with one fixed clock:
//! the seed conversation and every refusal path. (tests/alexa_skill.rs plays the seed against moto.)

use alexa_skill::memory::{FakeStreams, MemoryAccess};
use alexa_skill::ports::{ServiceError, Stream};
use alexa_skill::{App, ResponseEnvelope, Settings};
use chrono::{DateTime, Duration, Utc};
use fleet_core::EventHandler;
use fleet_core::FixedClock;
use fleet_ec2::{FakeInstance, InMemoryEc2, InstanceState};
use fleet_otp::memory::{FakeMfa, MemoryProfiles, MemoryStore, RecordingSms, ScriptedDigits};
use fleet_otp::{HmacKey, Limits, Otp, Profile};
use fleet_testkit::load_event;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Map, Value};

const USER: &str = "amzn1.ask.account.AMAXEXAMPLEUSERIDFORTHEEASYTOCLOUDSKILL";
const SKILL: &str = "amzn1.ask.skill.5d1c3f0e-7a2b-4c9d-8e1f-0a2b3c4d5e6f";

type TestOtp<'a> =
    Otp<MemoryProfiles, MemoryStore, RecordingSms, FakeMfa, ScriptedDigits, &'a FixedClock>;
type TestSkill<'a> = App<InMemoryEc2, FakeStreams, MemoryAccess, TestOtp<'a>, &'a FixedClock>;

fn t0() -> DateTime<Utc> {
    "2026-11-23T09:00:00Z".parse().unwrap()
}

fn named(id: &str, name: &str, state: InstanceState) -> FakeInstance {
    FakeInstance::new(id, state, &[("Name", name)])
}

fn skill<'a>(clock: &'a FixedClock, mfa_serial: Option<&str>) -> TestSkill<'a> {
    let mut instances = vec![
        named("i-0a1b2c3d4e5f60718", "splunk", InstanceState::Stopped),
        named("i-web1", "web-1", InstanceState::Running),
        named("i-web2", "web-2", InstanceState::Running),
        named("i-db-a", "db", InstanceState::Running),
        named("i-db-b", "DB", InstanceState::Stopped),
    ];
    instances.extend((1..=3).map(|n| {
        named(
            &format!("i-w{n}"),
            &format!("worker-{n}"),
            InstanceState::Stopped,
        )
    }));
    App {
        ec2: InMemoryEc2::new(instances, 1000),
        streams: FakeStreams {
            streams: vec![Stream {
                name: "clickstream".into(),
                shards: 4,
            }],
            failure: None,
        },
        access: MemoryAccess::default(),
        presence: Otp {
            profiles: MemoryProfiles::with([Profile {
                user_id: USER.into(),
                display_name: "Erik".into(),
                phone: "+31612345678".into(),
                mfa_serial: mfa_serial.map(str::to_owned),
            }]),
            store: MemoryStore::default(),
            sms: RecordingSms::default(),
            mfa: FakeMfa {
                tokens: [(
                    "arn:aws:iam::123456789012:mfa/erik".to_owned(),
                    "246810".to_owned(),
                )]
                .into(),
                ..FakeMfa::default()
            },
            digits: ScriptedDigits::new(["5143"]),
            clock,
            key: HmacKey::new(*b"0123456789abcdef0123456789abcdef").unwrap(),
            limits: Limits {
                code_length: 4,
                ..Limits::default()
            },
        },
        clock,
        settings: Settings {
            skill_id: SKILL.into(),
            region: "eu-west-1".into(),
            access_ttl: Duration::minutes(10),
        },
    }
}

/// Plays one sample request with the attributes Alexa would send back.
async fn say(
    skill: &TestSkill<'_>,
    file: &str,
    attributes: &Map<String, Value>,
    slot: Option<(&str, &str)>,
) -> ResponseEnvelope {
    let mut event = load_event(&format!("alexa-skill/{file}"));
    event["session"]["attributes"] = Value::Object(attributes.clone());
    if let Some((name, value)) = slot {
        event["request"]["intent"]["slots"][name] = json!({"name": name, "value": value});
    }
    skill
        .handle(event_of(event))
        .await
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// A request as the Lambda runtime hands it over.
fn event_of(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

fn text(r: &ResponseEnvelope) -> String {
    r.response
        .card
        .as_ref()
        .map(|c| c.content.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_seed_conversation() {
    let clock = FixedClock::at(t0());
    let s = skill(&clock, None);
    let none = Map::new();
    let r = say(&s, "01-launch.json", &none, None).await;
    assert!(text(&r).starts_with("Welcome to easy to cloud."));
    assert!(!r.response.should_end_session);
    assert!(r
        .response
        .output_speech
        .as_ref()
        .unwrap()
        .ssml
        .starts_with("<speak>Welcome"));
    let r = say(&s, "02-list-instances.json", &none, None).await;
    assert_eq!(text(&r), "You have the following 8 instances: db is running, DB is stopped, splunk is stopped, web-1 is running, web-2 is running. Say more for the next three.");
    let r = say(&s, "04-describe-kinesis-shards.json", &none, None).await;
    assert_eq!(
        text(&r),
        "You have a four shard Kinesis stream in Ireland, called clickstream."
    );
    let r = say(&s, "05-start-splunk.json", &none, None).await;
    assert!(
        text(&r).starts_with("You need to authenticate"),
        "{}",
        text(&r)
    );
    let attributes = r.session_attributes.clone();
    assert_eq!(attributes["pending"]["name"], "splunk");
    let r = say(&s, "06-authenticate-text.json", &attributes, None).await;
    assert!(text(&r).starts_with("I've sent the code to your phone"));
    assert_eq!(
        s.presence.sms.sent(),
        [(
            "+31612345678".to_owned(),
            "Your easytocloud code is 5143".to_owned()
        )]
    );
    let r = say(
        &s,
        "07-authenticate-code.json",
        &r.session_attributes,
        Some(("Code", "5143")),
    )
    .await;
    assert_eq!(text(&r), "Access granted. Shall I start splunk now?");
    let r = say(&s, "05-start-splunk.json", &r.session_attributes, None).await;
    assert_eq!(text(&r), "I have started splunk. It is now running.");
    assert_eq!(
        s.ec2.instance("i-0a1b2c3d4e5f60718").unwrap().state,
        InstanceState::Running
    );
    assert!(
        !r.session_attributes.contains_key("pending"),
        "carried out: nothing pending"
    );
}

#[tokio::test]
async fn yes_carries_out_the_pending_action_and_no_drops_it() {
    let clock = FixedClock::at(t0());
    let s = skill(&clock, None);
    let r = say(
        &s,
        "09-stop-splunk.json",
        &Map::new(),
        Some(("InstanceName", "web-1")),
    )
    .await;
    let pending = r.session_attributes.clone();
    let r = say(&s, "10-no.json", &pending, None).await;
    assert_eq!(text(&r), "OK, I won't stop web-1.");
    assert!(!r.session_attributes.contains_key("pending"));
    let r = say(&s, "08-yes.json", &pending, None).await;
    assert!(
        text(&r).starts_with("You need to authenticate first"),
        "not authenticated yet"
    );
    say(&s, "06-authenticate-text.json", &pending, None).await;
    say(
        &s,
        "07-authenticate-code.json",
        &pending,
        Some(("Code", "5143")),
    )
    .await;
    let r = say(&s, "08-yes.json", &pending, None).await;
    assert_eq!(text(&r), "I have stopped web-1. It is now stopped.");
    let r = say(&s, "08-yes.json", &Map::new(), None).await;
    assert_eq!(text(&r), "There's nothing waiting for a yes.");
}

#[tokio::test]
async fn access_expires_after_ten_minutes() {
    let clock = FixedClock::at(t0());
    let s = skill(&clock, None);
    say(&s, "06-authenticate-text.json", &Map::new(), None).await;
    say(
        &s,
        "07-authenticate-code.json",
        &Map::new(),
        Some(("Code", "5143")),
    )
    .await;
    clock.advance(Duration::minutes(9));
    let r = say(
        &s,
        "09-stop-splunk.json",
        &Map::new(),
        Some(("InstanceName", "web-2")),
    )
    .await;
    assert_eq!(text(&r), "I have stopped web-2. It is now stopped.");
    clock.advance(Duration::minutes(2));
    let r = say(
        &s,
        "09-stop-splunk.json",
        &Map::new(),
        Some(("InstanceName", "web-1")),
    )
    .await;
    assert!(
        text(&r).starts_with("You need to authenticate"),
        "{}",
        text(&r)
    );
    assert_eq!(
        s.ec2.instance("i-web1").unwrap().state,
        InstanceState::Running
    );
}

#[tokio::test]
async fn wrong_codes_are_refused_and_then_locked() {
    let clock = FixedClock::at(t0());
    let s = skill(&clock, None);
    say(&s, "06-authenticate-text.json", &Map::new(), None).await;
    let r = say(
        &s,
        "07-authenticate-code.json",
        &Map::new(),
        Some(("Code", "1111")),
    )
    .await;
    assert!(text(&r).starts_with("That code is not right."));
    // Five wrong tries burn the code; a new one and five more spend the day's ten failures.
    for round in 0..2 {
        if round == 1 {
            say(&s, "06-authenticate-text.json", &Map::new(), None).await;
        }
        for _ in 0..(4 + round) {
            say(
                &s,
                "07-authenticate-code.json",
                &Map::new(),
                Some(("Code", "1111")),
            )
            .await;
        }
    }
    let r = say(
        &s,
        "07-authenticate-code.json",
        &Map::new(),
        Some(("Code", "5143")),
    )
    .await;
    assert_eq!(
        text(&r),
        "There have been too many wrong codes. Try again in about 24 hours."
    );
}

#[tokio::test]
async fn a_six_digit_number_is_an_mfa_token_when_the_profile_has_a_device() {
    let clock = FixedClock::at(t0());
    let s = skill(&clock, Some("arn:aws:iam::123456789012:mfa/erik"));
    let r = say(
        &s,
        "07-authenticate-code.json",
        &Map::new(),
        Some(("Code", "246810")),
    )
    .await;
    assert_eq!(text(&r), "Access granted.");
    let r = say(
        &s,
        "07-authenticate-code.json",
        &Map::new(),
        Some(("Code", "246810")),
    )
    .await;
    assert!(
        text(&r).starts_with("That code is not right."),
        "a replayed token"
    );
}

#[tokio::test]
async fn names_unknown_ambiguous_missing_and_paging() {
    let clock = FixedClock::at(t0());
    let s = skill(&clock, None);
    let none = Map::new();
    let r = say(
        &s,
        "05-start-splunk.json",
        &none,
        Some(("InstanceName", "jenkins")),
    )
    .await;
    assert_eq!(text(&r), "I can't find an instance called jenkins.");
    let r = say(
        &s,
        "05-start-splunk.json",
        &none,
        Some(("InstanceName", "web")),
    )
    .await;
    assert_eq!(text(&r), "Which one: web-1, or web-2?");
    assert!(!r.response.should_end_session);
    let r = say(
        &s,
        "05-start-splunk.json",
        &none,
        Some(("InstanceName", "Db")),
    )
    .await;
    assert_eq!(text(&r), "There are two instances called db. Give them different Name tags so I can tell them apart.");
    let r = say(&s, "15-start-without-a-name.json", &none, None).await;
    assert_eq!(text(&r), "Which instance should I start?");
    assert!(r.response.reprompt.is_some());

    let r = say(&s, "02-list-instances.json", &none, None).await;
    let r = say(&s, "03-more.json", &r.session_attributes, None).await;
    assert_eq!(
        text(&r),
        "Next: worker-1 is stopped, worker-2 is stopped, worker-3 is stopped."
    );
    assert!(!text(&r).contains("Say more"), "nothing remains");
    assert!(!r.response.should_end_session);
    // Issue 13, point 9: "more" after the last page says that was all.
    let r = say(&s, "03-more.json", &r.session_attributes, None).await;
    assert_eq!(text(&r), "That was all of them.");
    let r = say(&s, "03-more.json", &none, None).await;
    assert_eq!(text(&r), "Say list instances first.");
}

#[tokio::test]
async fn built_in_intents_and_session_end() {
    let clock = FixedClock::at(t0());
    let s = skill(&clock, None);
    let none = Map::new();
    assert!(text(&say(&s, "11-help.json", &none, None).await)
        .starts_with("You can say: list instances"));
    for file in ["12-stop.json", "13-cancel.json"] {
        let r = say(&s, file, &none, None).await;
        assert_eq!(text(&r), "Goodbye.");
        assert!(r.response.should_end_session);
    }
    let r = say(&s, "14-fallback.json", &none, None).await;
    assert!(text(&r).starts_with("Sorry, I can't help with that."));
    assert!(
        !r.response.should_end_session,
        "a reprompt, never an error sound"
    );
    let r = say(&s, "16-session-ended.json", &none, None).await;
    assert!(r.response.output_speech.is_none() && r.response.should_end_session);
}

#[tokio::test]
async fn another_skill_and_malformed_requests_are_errors() {
    let clock = FixedClock::at(t0());
    let s = skill(&clock, None);
    let err = s
        .handle(event_of(load_event("alexa-skill/17-another-skill.json")))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "InvalidEvent");
    assert_eq!(err.message, "the request is not for this skill");
    let err = s
        .handle(event_of(
            json!({"version": "1.0", "request": {"type": "Nonsense"}}),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "InvalidEvent");
    let err = s
        .handle(event_of(json!("not even an object")))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "InvalidEvent");
    assert!(
        err.message.starts_with("not an Alexa request"),
        "{}",
        err.message
    );
    assert!(s.ec2.calls().describe == 0, "nothing was looked up");
}

#[tokio::test]
async fn aws_errors_become_a_spoken_apology() {
    let clock = FixedClock::at(t0());
    let mut s = skill(&clock, None);
    s.streams.failure = Some(ServiceError::new(
        "Kinesis",
        fleet_core::ErrorClass::Throttled,
        "ThrottlingException: Rate exceeded",
    ));
    let r = say(&s, "04-describe-kinesis-shards.json", &Map::new(), None).await;
    assert_eq!(
        text(&r),
        "Sorry, I couldn't reach AWS just now. Please try again in a moment."
    );
    assert!(!r.response.should_end_session);
}

#[test]
fn speech_is_ssml_and_cards_carry_the_same_text() {
    let r = ResponseEnvelope::say("R&D <ops>", None, false, Map::new());
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json["response"]["outputSpeech"],
        json!({"type": "SSML", "ssml": "<speak>R&amp;D &lt;ops&gt;</speak>"})
    );
    assert_eq!(
        json["response"]["card"],
        json!({"type": "Simple", "title": "easy to cloud", "content": "R&D <ops>"})
    );
    assert_eq!(json["response"]["shouldEndSession"], false);
    assert_eq!(json["version"], "1.0");
}

/// Stop web-1, get and give a code: the skill asks "Shall I stop web-1 now?". Returns the
/// attributes of that answer.
async fn asked_to_stop_web_1(s: &TestSkill<'_>) -> Map<String, Value> {
    let none = Map::new();
    let r = say(
        s,
        "09-stop-splunk.json",
        &none,
        Some(("InstanceName", "web-1")),
    )
    .await;
    let r = say(s, "06-authenticate-text.json", &r.session_attributes, None).await;
    let code = Some(("Code", "5143"));
    let r = say(s, "07-authenticate-code.json", &r.session_attributes, code).await;
    assert_eq!(text(&r), "Access granted. Shall I stop web-1 now?");
    r.session_attributes
}

/// Issue 13, point 1: "no" answers with `"sessionAttributes": {}` (not a missing field, which a
/// client answers by keeping the old ones), so a later "yes" finds nothing to carry out.
#[tokio::test]
async fn a_declined_action_stays_declined() {
    let clock = FixedClock::at(t0());
    let s = skill(&clock, None);
    let asked = asked_to_stop_web_1(&s).await;
    let declined = say(&s, "10-no.json", &asked, None).await;
    assert_eq!(text(&declined), "OK, I won't stop web-1.");
    let sent = serde_json::to_value(&declined).unwrap();
    assert_eq!(sent["sessionAttributes"], json!({}), "{sent}");
    // The client keeps exactly what it was sent.
    let kept = sent["sessionAttributes"].as_object().cloned().unwrap();
    let r = say(&s, "08-yes.json", &kept, None).await;
    assert_eq!(text(&r), "There's nothing waiting for a yes.");
    assert_eq!(
        s.ec2.instance("i-web1").unwrap().state,
        InstanceState::Running
    );
}

/// A pending action belongs to one question: another request drops it, and it expires after
/// five minutes even when a client replays it.
#[tokio::test]
async fn a_pending_action_belongs_to_one_question() {
    let clock = FixedClock::at(t0());
    let s = skill(&clock, None);
    let asked = asked_to_stop_web_1(&s).await;
    let r = say(&s, "02-list-instances.json", &asked, None).await;
    assert!(
        !r.session_attributes.contains_key("pending"),
        "another question"
    );
    let r = say(&s, "08-yes.json", &r.session_attributes, None).await;
    assert_eq!(text(&r), "There's nothing waiting for a yes.");

    clock.advance(Duration::minutes(5) + Duration::seconds(1));
    let r = say(&s, "08-yes.json", &asked, None).await;
    assert_eq!(text(&r), "There's nothing waiting for a yes.", "expired");
    assert_eq!(
        s.ec2.instance("i-web1").unwrap().state,
        InstanceState::Running
    );

    // Within the five minutes the same answer carries it out (once the earlier access expired,
    // so the skill asks again).
    clock.advance(Duration::minutes(10));
    let fresh = asked_to_stop_web_1(&s).await;
    clock.advance(Duration::minutes(4));
    let r = say(&s, "08-yes.json", &fresh, None).await;
    assert_eq!(text(&r), "I have stopped web-1. It is now stopped.");
}

/// Issue 13, point 5: AMAZON.NUMBER drops leading zeros. The number is padded to the length of
/// what is outstanding: the 4-digit code ("zero one four three" arrives as 143), or the 6-digit
/// MFA token of a profile with a device ("zero one two three four five" arrives as 12345; with
/// no code outstanding, 123 is the token 000123).
#[tokio::test]
async fn spoken_numbers_get_their_leading_zeros_back() {
    let clock = FixedClock::at(t0());
    let mut s = skill(&clock, None);
    s.presence.digits = ScriptedDigits::new(["0143"]);
    say(&s, "06-authenticate-text.json", &Map::new(), None).await;
    let r = say(
        &s,
        "07-authenticate-code.json",
        &Map::new(),
        Some(("Code", "143")),
    )
    .await;
    assert_eq!(text(&r), "Access granted.");

    let serial = "arn:aws:iam::123456789012:mfa/erik";
    for (token, spoken) in [("012345", "12345"), ("000123", "123")] {
        let clock = FixedClock::at(t0());
        let mut s = skill(&clock, Some(serial));
        s.presence
            .mfa
            .tokens
            .insert(serial.to_owned(), token.to_owned());
        let r = say(
            &s,
            "07-authenticate-code.json",
            &Map::new(),
            Some(("Code", spoken)),
        )
        .await;
        assert_eq!(text(&r), "Access granted.", "{spoken} for {token}");
    }

    // With a device and a code outstanding, a short number is the code.
    let clock = FixedClock::at(t0());
    let mut s = skill(&clock, Some(serial));
    s.presence.digits = ScriptedDigits::new(["0143"]);
    say(&s, "06-authenticate-text.json", &Map::new(), None).await;
    let r = say(
        &s,
        "07-authenticate-code.json",
        &Map::new(),
        Some(("Code", "143")),
    )
    .await;
    assert_eq!(text(&r), "Access granted.");
    assert!(
        s.presence.mfa.checks.lock().unwrap().is_empty(),
        "no STS call for a code"
    );
}

/// Issue 13, point 10: help names an instance the account really has, not always "splunk".
#[tokio::test]
async fn help_names_an_instance_the_account_has() {
    let clock = FixedClock::at(t0());
    let mut s = skill(&clock, None);
    let none = Map::new();
    let r = say(&s, "11-help.json", &none, None).await;
    assert!(
        text(&r).starts_with(
            "You can say: list instances, describe kinesis shards, start db, or stop db."
        ),
        "{}",
        text(&r)
    );
    s.ec2 = InMemoryEc2::new([named("i-x", "build-box", InstanceState::Stopped)], 1000);
    let r = say(&s, "14-fallback.json", &none, None).await;
    assert!(
        text(&r).contains("start build-box, or stop build-box."),
        "{}",
        text(&r)
    );
    s.ec2 = InMemoryEc2::new([], 1000);
    let r = say(&s, "11-help.json", &none, None).await;
    assert!(
        text(&r).contains("start or stop followed by an instance's name."),
        "{}",
        text(&r)
    );
    assert!(!text(&r).contains("splunk"));
}
