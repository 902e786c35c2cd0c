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
use fleet_testkit::alexa_model::LanguageModel;
use fleet_testkit::{load_event, workspace_root};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const USER: &str = "amzn1.ask.account.AMAXEXAMPLEUSERIDFORTHEEASYTOCLOUDSKILL";
const SKILL: &str = "amzn1.ask.skill.5d1c3f0e-7a2b-4c9d-8e1f-0a2b3c4d5e6f";

type TestOtp<'a> =
    Otp<MemoryProfiles, MemoryStore, RecordingSms, FakeMfa, ScriptedDigits, &'a FixedClock>;
type TestSkill<'a> = App<InMemoryEc2, FakeStreams, MemoryAccess, TestOtp<'a>, &'a FixedClock>;

fn t0() -> DateTime<Utc> {
    "2026-11-23T09:00:00Z".parse().unwrap()
}

/// An instance the skill may start and stop (`AlexaControl=true`).
fn named(id: &str, name: &str, state: InstanceState) -> FakeInstance {
    FakeInstance::new(id, state, &[("Name", name), ("AlexaControl", "true")])
}

/// An instance without the opt-in tag: listed, never changed.
fn not_opted_in(id: &str, name: &str, state: InstanceState) -> FakeInstance {
    FakeInstance::new(id, state, &[("Name", name)])
}

fn skill<'a>(clock: &'a FixedClock, mfa_serial: Option<&str>) -> TestSkill<'a> {
    let mut instances = vec![
        named("i-0a1b2c3d4e5f60718", "splunk", InstanceState::Stopped),
        named("i-web1", "web-1", InstanceState::Running),
        named("i-web2", "web-2", InstanceState::Running),
        named("i-db-a", "db", InstanceState::Running),
        not_opted_in("i-db-b", "DB", InstanceState::Stopped),
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
            control_value: "true".into(),
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
    assert!(text(&r).starts_with("Welcome to easy cloud."));
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
    assert_eq!(text(&r), "Which one: web-1 or web-2?");
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
        json!({"type": "Simple", "title": "easy cloud", "content": "R&D <ops>"})
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

/// Gets and gives a code, so the user (or the person in `person`) may change instances.
async fn authenticate(s: &TestSkill<'_>, person: Option<&str>) {
    let none = Map::new();
    say(s, "06-authenticate-text.json", &none, None).await;
    let mut event = load_event("alexa-skill/07-authenticate-code.json");
    event["request"]["intent"]["slots"]["Code"] = json!({"name": "Code", "value": "5143"});
    if let Some(person) = person {
        event["context"]["System"]["person"] = json!({"personId": person});
    }
    let r = s.handle(event_of(event)).await.unwrap();
    assert_eq!(text(&r), "Access granted.");
}

/// An intent request as Alexa sends it, with `slots` filled and `attributes` round-tripped.
fn intent_request(
    intent: &str,
    slots: &BTreeMap<String, String>,
    attributes: &Map<String, Value>,
) -> Value {
    let mut event = load_event("alexa-skill/05-start-splunk.json");
    event["session"]["attributes"] = Value::Object(attributes.clone());
    let slots: Map<String, Value> = slots
        .iter()
        .map(|(name, value)| {
            (
                name.clone(),
                json!({"name": name, "value": value, "confirmationStatus": "NONE", "source": "USER"}),
            )
        })
        .collect();
    event["request"]["intent"] =
        json!({"name": intent, "confirmationStatus": "NONE", "slots": slots});
    event
}

async fn answer(s: &TestSkill<'_>, event: Value) -> ResponseEnvelope {
    s.handle(event_of(event)).await.unwrap()
}

fn directives(r: &ResponseEnvelope) -> Vec<Value> {
    serde_json::to_value(r).unwrap()["response"]["directives"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The `Dialog.ElicitSlot` directive of an answer: (intent, slot).
fn elicits(r: &ResponseEnvelope) -> Option<(String, String)> {
    directives(r)
        .iter()
        .find(|d| d["type"] == "Dialog.ElicitSlot")
        .map(|d| {
            (
                d["updatedIntent"]["name"].as_str().unwrap().to_owned(),
                d["slotToElicit"].as_str().unwrap().to_owned(),
            )
        })
}

fn model() -> LanguageModel {
    LanguageModel::load(&workspace_root().join("skill-package/interactionModels/custom/en-US.json"))
}

/// Issue 13, point 2: only instances tagged `AlexaControl=true` are started or stopped; the
/// others are listed, and the skill says why it won't touch them, also when the tag goes
/// between the question and the yes.
#[tokio::test]
async fn only_opted_in_instances_are_started_or_stopped() {
    let clock = FixedClock::at(t0());
    let s = skill(&clock, None);
    s.ec2
        .insert(not_opted_in("i-bastion", "bastion", InstanceState::Running));
    authenticate(&s, None).await;
    let none = Map::new();
    let r = say(&s, "02-list-instances.json", &none, None).await;
    assert!(text(&r).contains("bastion is running"), "{}", text(&r));
    let r = say(
        &s,
        "09-stop-splunk.json",
        &none,
        Some(("InstanceName", "bastion")),
    )
    .await;
    assert_eq!(
        text(&r),
        "I may only start and stop instances tagged AlexaControl with the value true, and bastion is not, so I won't stop it."
    );
    assert!(!r.session_attributes.contains_key("pending"));
    assert_eq!(s.ec2.calls().change_state, 0);

    // The tag is taken away after the question: the yes re-reads the instance and refuses.
    let r = say(
        &s,
        "18-answer-by-a-recognised-person.json",
        &none,
        Some(("InstanceName", "web")),
    )
    .await;
    assert_eq!(text(&r), "Which one: web-1 or web-2?");
    let mut event = intent_request(
        "StopInstanceIntent",
        &[("InstanceName".to_owned(), "web one".to_owned())].into(),
        &r.session_attributes,
    );
    event["context"]["System"]["person"] = json!({"personId": "amzn1.ask.person.SOMEONE"});
    let asked = answer(&s, event).await;
    assert!(
        text(&asked).starts_with("You need to authenticate"),
        "{}",
        text(&asked)
    );
    s.ec2
        .insert(not_opted_in("i-web1", "web-1", InstanceState::Running));
    authenticate(&s, None).await;
    let r = say(&s, "08-yes.json", &asked.session_attributes, None).await;
    assert!(
        text(&r).contains("web-1 is not, so I won't stop it."),
        "{}",
        text(&r)
    );
    assert_eq!(
        s.ec2.instance("i-web1").unwrap().state,
        InstanceState::Running
    );
    assert_eq!(s.ec2.calls().change_state, 0);
}

/// Issue 13, point 3: "stop db" with only `prod-db-primary` is asked about, never acted on
/// directly; yes acts, no doesn't.
#[tokio::test]
async fn a_partial_name_is_confirmed_before_anything_happens() {
    let clock = FixedClock::at(t0());
    let mut s = skill(&clock, None);
    s.ec2 = InMemoryEc2::new(
        [
            named("i-prod", "prod-db-primary", InstanceState::Running),
            named("i-web", "web", InstanceState::Running),
        ],
        1000,
    );
    authenticate(&s, None).await;
    let none = Map::new();
    let r = say(
        &s,
        "09-stop-splunk.json",
        &none,
        Some(("InstanceName", "db")),
    )
    .await;
    assert_eq!(text(&r), "Did you mean prod-db-primary?");
    assert_eq!(s.ec2.calls().change_state, 0, "not acted on");
    let declined = say(&s, "10-no.json", &r.session_attributes, None).await;
    assert_eq!(text(&declined), "OK, I won't stop prod-db-primary.");
    let r = say(&s, "08-yes.json", &declined.session_attributes, None).await;
    assert_eq!(text(&r), "There's nothing waiting for a yes.");
    assert_eq!(
        s.ec2.instance("i-prod").unwrap().state,
        InstanceState::Running
    );

    let r = say(
        &s,
        "09-stop-splunk.json",
        &none,
        Some(("InstanceName", "db primary")),
    )
    .await;
    assert_eq!(text(&r), "Did you mean prod-db-primary?");
    let r = say(&s, "08-yes.json", &r.session_attributes, None).await;
    assert_eq!(
        text(&r),
        "I have stopped prod-db-primary. It is now stopped."
    );
    // An exact name (as spoken) is acted on at once.
    let r = say(
        &s,
        "09-stop-splunk.json",
        &none,
        Some(("InstanceName", "Web")),
    )
    .await;
    assert_eq!(text(&r), "I have stopped web. It is now stopped.");
}

/// Issue 13, point 4: with a voice profile, access is the person's: another person on the same
/// Amazon account, or an unrecognised voice, must authenticate themselves.
#[tokio::test]
async fn access_belongs_to_the_recognised_person() {
    let clock = FixedClock::at(t0());
    let s = skill(&clock, None);
    s.ec2
        .insert(named("i-w2", "worker-2", InstanceState::Running));
    let erik = "amzn1.ask.person.AEXAMPLEPERSONIDFORERIK";
    authenticate(&s, Some(erik)).await;
    let request = load_event("alexa-skill/18-answer-by-a-recognised-person.json");
    assert_eq!(request["context"]["System"]["person"]["personId"], erik);

    let mut someone_else = request.clone();
    someone_else["context"]["System"]["person"]["personId"] = json!("amzn1.ask.person.OTHER");
    let r = answer(&s, someone_else).await;
    assert!(
        text(&r).starts_with("You need to authenticate"),
        "{}",
        text(&r)
    );
    let mut unrecognised = request.clone();
    unrecognised["context"]["System"]
        .as_object_mut()
        .unwrap()
        .remove("person");
    let r = answer(&s, unrecognised).await;
    assert!(
        text(&r).starts_with("You need to authenticate"),
        "{}",
        text(&r)
    );
    assert_eq!(
        s.ec2.instance("i-w2").unwrap().state,
        InstanceState::Running
    );

    let r = answer(&s, request).await;
    assert_eq!(text(&r), "I have stopped worker-2. It is now stopped.");

    // Without voice profiles, access is the Amazon account user's, as before.
    let clock = FixedClock::at(t0());
    let s = skill(&clock, None);
    authenticate(&s, None).await;
    let r = say(
        &s,
        "09-stop-splunk.json",
        &Map::new(),
        Some(("InstanceName", "web-2")),
    )
    .await;
    assert_eq!(text(&r), "I have stopped web-2. It is now stopped.");
}

/// Issue 13, point 6: the skill's own questions are slot elicitations, so a bare name answers
/// them (resolved by the model's slot samples), and every answer that listed the account
/// teaches Alexa its instance names (dynamic entities, spoken forms as synonyms).
#[tokio::test]
async fn a_bare_name_answers_the_skills_own_questions() {
    let clock = FixedClock::at(t0());
    let s = skill(&clock, None);
    let model = model();
    authenticate(&s, None).await;
    let r = say(&s, "15-start-without-a-name.json", &Map::new(), None).await;
    assert_eq!(text(&r), "Which instance should I start?");
    let (intent, slot) = elicits(&r).expect("elicits the name");
    assert_eq!(
        (intent.as_str(), slot.as_str()),
        ("StartInstanceIntent", "InstanceName")
    );
    let heard = model.resolve_answer("worker two", &intent, &slot).unwrap();
    let r = answer(
        &s,
        intent_request(&heard.intent, &heard.slots, &r.session_attributes),
    )
    .await;
    assert_eq!(text(&r), "I have started worker-2. It is now running.");

    let r = say(
        &s,
        "09-stop-splunk.json",
        &Map::new(),
        Some(("InstanceName", "web")),
    )
    .await;
    assert_eq!(text(&r), "Which one: web-1 or web-2?");
    let (intent, slot) = elicits(&r).expect("elicits the name");
    let heard = model.resolve_answer("the web two", &intent, &slot).unwrap();
    assert_eq!(heard.intent, "StopInstanceIntent");
    let r = answer(
        &s,
        intent_request(&heard.intent, &heard.slots, &r.session_attributes),
    )
    .await;
    assert_eq!(text(&r), "I have stopped web-2. It is now stopped.");

    for file in ["01-launch.json", "02-list-instances.json", "11-help.json"] {
        let r = say(&s, file, &Map::new(), None).await;
        let update = directives(&r)
            .into_iter()
            .find(|d| d["type"] == "Dialog.UpdateDynamicEntities")
            .unwrap_or_else(|| panic!("{file}: no dynamic entities"));
        assert_eq!(update["updateBehavior"], "REPLACE");
        assert_eq!(
            update["types"][0]["name"],
            model
                .slot_type("StartInstanceIntent", "InstanceName")
                .unwrap()
        );
        let values = update["types"][0]["values"].as_array().unwrap();
        assert_eq!(values.len(), 8, "{file}");
        assert!(
            values.contains(
                &json!({"id": "i-w2", "name": {"value": "worker-2", "synonyms": ["worker two"]}})
            ),
            "{file}: {values:?}"
        );
        assert!(
            values.contains(&json!({"id": "i-0a1b2c3d4e5f60718", "name": {"value": "splunk"}})),
            "{file}"
        );
    }
}

/// Issue 13, point 7: names as spoken ("worker two" is `worker-2`), and a choice between many
/// read three at a time with "or say more", whichever way "more" arrives.
#[tokio::test]
async fn names_as_spoken_and_choices_three_at_a_time() {
    let clock = FixedClock::at(t0());
    let s = skill(&clock, None);
    authenticate(&s, None).await;
    let none = Map::new();
    for (spoken, id) in [
        ("worker two", "i-w2"),
        ("Worker 3", "i-w3"),
        ("worker_one", "i-w1"),
    ] {
        let r = say(
            &s,
            "05-start-splunk.json",
            &none,
            Some(("InstanceName", spoken)),
        )
        .await;
        assert!(
            text(&r).starts_with("I have started worker-"),
            "{spoken}: {}",
            text(&r)
        );
        assert_eq!(
            s.ec2.instance(id).unwrap().state,
            InstanceState::Running,
            "{spoken}"
        );
    }
    let r = say(
        &s,
        "09-stop-splunk.json",
        &none,
        Some(("InstanceName", "worker")),
    )
    .await;
    assert_eq!(text(&r), "Which one: worker-1, worker-2, or worker-3?");

    for n in 4..=5 {
        s.ec2.insert(named(
            &format!("i-w{n}"),
            &format!("worker-{n}"),
            InstanceState::Running,
        ));
    }
    let r = say(
        &s,
        "09-stop-splunk.json",
        &none,
        Some(("InstanceName", "worker")),
    )
    .await;
    assert_eq!(
        text(&r),
        "Which one: worker-1, worker-2, worker-3, or say more?"
    );
    let r = say(&s, "03-more.json", &r.session_attributes, None).await;
    assert_eq!(text(&r), "Which one: worker-4 or worker-5?");
    assert_eq!(
        elicits(&r),
        Some(("StopInstanceIntent".to_owned(), "InstanceName".to_owned()))
    );
    // "more" heard as the answer to the elicitation.
    let r = say(
        &s,
        "09-stop-splunk.json",
        &r.session_attributes,
        Some(("InstanceName", "more")),
    )
    .await;
    assert_eq!(
        text(&r),
        "That was all of them. Which one: worker-1, worker-2, worker-3, or say more?"
    );
    let chosen = say(
        &s,
        "09-stop-splunk.json",
        &r.session_attributes,
        Some(("InstanceName", "worker five")),
    )
    .await;
    assert_eq!(text(&chosen), "I have stopped worker-5. It is now stopped.");
    assert!(!chosen.session_attributes.contains_key("choice"));
    // Another question drops the choice: "more" then pages nothing.
    let r = say(&s, "11-help.json", &r.session_attributes, None).await;
    assert!(!r.session_attributes.contains_key("choice"));
    let r = say(&s, "03-more.json", &r.session_attributes, None).await;
    assert_eq!(text(&r), "Say list instances first.");
}

/// The model-driven test: every sample utterance of the interaction model, with its slots
/// filled, resolves to its own intent and slot values; each resolved request, sent to the
/// skill, gets a real answer (no fallback).
#[tokio::test]
async fn every_sample_utterance_resolves_to_its_intent_and_slot() {
    let model = model();
    let values: BTreeMap<&str, (&str, &str)> = [
        ("INSTANCE_NAME", ("worker two", "worker two")),
        ("AMAZON.NUMBER", ("five one four three", "5143")),
    ]
    .into();
    let samples = model.samples();
    assert!(samples.len() > 60, "{}", samples.len());
    for (intent, sample, elicits) in samples {
        let (utterance, slots) = model.fill(&intent, &sample, &values);
        let heard = match &elicits {
            Some(slot) => model.resolve_answer(&utterance, &intent, slot),
            None => model.resolve(&utterance),
        }
        .unwrap_or_else(|e| panic!("{intent}: {sample:?}: {e}"));
        assert_eq!(
            (heard.intent.as_str(), &heard.slots),
            (intent.as_str(), &slots),
            "{sample:?}"
        );

        let clock = FixedClock::at(t0());
        let s = skill(&clock, None);
        let r = answer(&s, intent_request(&heard.intent, &heard.slots, &Map::new())).await;
        assert!(
            !text(&r).starts_with("Sorry, I can't help"),
            "{intent}: {sample:?}: {}",
            text(&r)
        );
    }
}

/// Issue 13, point 8: the everyday ways to ask resolve, with slots that hold only the name.
#[test]
fn everyday_phrases_resolve() {
    let model = model();
    let slot = |intent: &str, name: &str| (intent.to_owned(), Some(name.to_owned()));
    for (utterance, (intent, name)) in [
        (
            "what instances do I have",
            ("ListInstancesIntent".to_owned(), None),
        ),
        (
            "show me my instances",
            ("ListInstancesIntent".to_owned(), None),
        ),
        ("list instances", ("ListInstancesIntent".to_owned(), None)),
        (
            "switch on worker two",
            slot("StartInstanceIntent", "worker two"),
        ),
        (
            "switch off worker two",
            slot("StopInstanceIntent", "worker two"),
        ),
        ("start up web one", slot("StartInstanceIntent", "web one")),
        ("shut down web one", slot("StopInstanceIntent", "web one")),
        (
            "turn off prod db primary",
            slot("StopInstanceIntent", "prod db primary"),
        ),
        ("start splunk", slot("StartInstanceIntent", "splunk")),
        ("stop", ("AMAZON.StopIntent".to_owned(), None)),
        ("tell me more", ("MoreIntent".to_owned(), None)),
        ("more", ("MoreIntent".to_owned(), None)),
        ("authenticate text", ("SendCodeIntent".to_owned(), None)),
        (
            "describe kinesis shards",
            ("DescribeKinesisShardsIntent".to_owned(), None),
        ),
        ("yes", ("AMAZON.YesIntent".to_owned(), None)),
    ] {
        let heard = model.resolve(utterance).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(heard.intent, intent, "{utterance}");
        assert_eq!(
            heard.slots.get("InstanceName").cloned(),
            name,
            "{utterance}"
        );
    }
    let heard = model.resolve("authenticate zero one four three").unwrap();
    assert_eq!(heard.slots["Code"], "143", "AMAZON.NUMBER drops the zero");
}

/// Issue 13, points 6 and 11: no AMAZON.SearchQuery slot, the dialog's prompts exist and say
/// what the skill says, and the invocation name meets Amazon's requirements (two or more
/// lower-case words, no launch phrase, connecting word or wake word); the example phrases of
/// skill.json resolve.
#[test]
fn the_model_and_invocation_name_meet_the_requirements() {
    let model = model();
    assert_eq!(model.invocation_name, alexa_skill::skill::SKILL_NAME);
    assert!(!model.slot_types().contains(&"AMAZON.SearchQuery"));
    assert!(model
        .type_values
        .contains_key(alexa_skill::skill::INSTANCE_NAME_TYPE));

    let name = &model.invocation_name;
    let words: Vec<&str> = name.split(' ').collect();
    assert!(words.len() >= 2, "{name}");
    assert!(
        name.chars()
            .all(|c| c.is_ascii_lowercase() || c == ' ' || c == '\'' || c == '.'),
        "{name}"
    );
    const LAUNCH: [&str; 12] = [
        "run", "start", "play", "resume", "use", "launch", "ask", "open", "tell", "load", "begin",
        "enable",
    ];
    const CONNECTING: [&str; 12] = [
        "to", "from", "in", "using", "with", "about", "for", "that", "by", "if", "and", "whether",
    ];
    const WAKE: [&str; 6] = ["alexa", "amazon", "echo", "computer", "skill", "app"];
    for word in &words {
        assert!(
            !LAUNCH.contains(word) && !CONNECTING.contains(word) && !WAKE.contains(word),
            "{name}: {word}"
        );
    }

    let path = workspace_root().join("skill-package/interactionModels/custom/en-US.json");
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let prompts = raw["interactionModel"]["prompts"].as_array().unwrap();
    for intent in raw["interactionModel"]["dialog"]["intents"]
        .as_array()
        .unwrap()
    {
        for slot in intent["slots"].as_array().unwrap() {
            let id = slot["prompts"]["elicitation"].as_str().unwrap();
            let prompt = prompts
                .iter()
                .find(|p| p["id"] == id)
                .unwrap_or_else(|| panic!("{id}"));
            let verb = if intent["name"] == "StartInstanceIntent" {
                "start"
            } else {
                "stop"
            };
            assert_eq!(
                prompt["variations"][0]["value"],
                format!("Which instance should I {verb}?")
            );
        }
    }

    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("skill-package/skill.json")).unwrap(),
    )
    .unwrap();
    let phrases = manifest["manifest"]["publishingInformation"]["locales"]["en-US"]
        ["examplePhrases"]
        .as_array()
        .unwrap();
    let open = format!("Alexa, open {name}");
    let ask = format!("Alexa, ask {name} to ");
    for phrase in phrases.iter().map(|p| p.as_str().unwrap()) {
        if phrase == open {
            continue;
        }
        let request = phrase
            .strip_prefix(&ask)
            .unwrap_or_else(|| panic!("{phrase}"));
        model
            .resolve(request)
            .unwrap_or_else(|e| panic!("{phrase}: {e}"));
    }
}
