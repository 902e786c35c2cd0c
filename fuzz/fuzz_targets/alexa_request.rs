//! The Alexa request envelope and its slot values, as anyone who can reach the function could
//! send them: a request for another skill or one that is no Alexa request is refused as
//! `InvalidEvent`; nothing else fails. Whatever the request says (slots, session attributes, a
//! claimed person), no instance is started or stopped and no tag written without access granted
//! by a code, at most one SMS is sent, and the speech is well-formed SSML.
#![no_main]

#[path = "../support.rs"]
mod support;

use alexa_skill::memory::{FakeStreams, MemoryAccess};
use alexa_skill::ports::Stream;
use alexa_skill::{App, Settings};
use chrono::{DateTime, Duration};
use fleet_core::{EventHandler, FixedClock};
use fleet_ec2::{FakeInstance, InMemoryEc2, InstanceState};
use fleet_otp::memory::{FakeMfa, MemoryProfiles, MemoryStore, RecordingSms, ScriptedDigits};
use fleet_otp::{HmacKey, Limits, Otp, Profile};
use lambda_runtime::{Context, LambdaEvent};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const USER: &str = "amzn1.ask.account.AMAXEXAMPLEUSERIDFORTHEEASYTOCLOUDSKILL";
const SKILL: &str = "amzn1.ask.skill.5d1c3f0e-7a2b-4c9d-8e1f-0a2b3c4d5e6f";

type Skill = App<
    InMemoryEc2,
    FakeStreams,
    MemoryAccess,
    Otp<MemoryProfiles, MemoryStore, RecordingSms, FakeMfa, ScriptedDigits, FixedClock>,
    FixedClock,
>;

fn instance(id: &str, name: &str, state: InstanceState, opted_in: bool) -> FakeInstance {
    let mut tags = vec![("Name", name)];
    if opted_in {
        tags.push(("AlexaControl", "true"));
    }
    FakeInstance::new(id, state, &tags)
}

fn skill() -> Option<Skill> {
    let t0 = DateTime::from_timestamp(1_795_424_400, 0)?;
    Some(App {
        ec2: InMemoryEc2::new(
            [
                instance(
                    "i-0a1b2c3d4e5f60718",
                    "splunk",
                    InstanceState::Stopped,
                    true,
                ),
                instance("i-web1", "web-1", InstanceState::Running, true),
                instance("i-db-b", "DB", InstanceState::Stopped, false),
            ],
            1000,
        ),
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
                mfa_serial: Some("arn:aws:iam::123456789012:mfa/erik".into()),
            }]),
            store: MemoryStore::default(),
            sms: RecordingSms::default(),
            mfa: FakeMfa::default(),
            digits: ScriptedDigits::new(["5143"]),
            clock: FixedClock::at(t0),
            key: HmacKey::new(*b"0123456789abcdef0123456789abcdef").ok()?,
            limits: Limits {
                code_length: 4,
                ..Limits::default()
            },
        },
        clock: FixedClock::at(t0),
        settings: Settings {
            skill_id: SKILL.into(),
            region: "eu-west-1".into(),
            access_ttl: Duration::minutes(10),
            control_value: "true".into(),
        },
    })
}

/// The text inside `<speak>…</speak>` has no markup of its own: every `<`, `>`, `&` came from
/// the skill's escaping.
fn well_formed(ssml: &str) -> bool {
    ssml.strip_prefix("<speak>")
        .and_then(|s| s.strip_suffix("</speak>"))
        .is_some_and(|inner| {
            !inner.contains(['<', '>'])
                && inner.match_indices('&').all(|(i, _)| {
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                        .iter()
                        .any(|entity| inner[i..].starts_with(entity))
                })
        })
}

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Some(skill) = skill() else {
        return;
    };
    let result = support::block_on(skill.handle(LambdaEvent::new(payload, Context::default())));
    let calls = skill.ec2.calls();
    assert_eq!(
        (calls.change_state, calls.create_tags, calls.delete_tags),
        (0, 0, 0),
        "no change without access"
    );
    assert!(
        skill.presence.sms.sent().len() <= 1,
        "at most one SMS per request"
    );
    match result {
        Ok(answer) => {
            let speech = [
                answer.response.output_speech.as_ref(),
                answer.response.reprompt.as_ref().map(|r| &r.output_speech),
            ];
            for speech in speech.into_iter().flatten() {
                assert!(well_formed(&speech.ssml), "{:?}", speech.ssml);
            }
        }
        Err(e) => assert_eq!(e.error_type(), "InvalidEvent", "{e:?}"),
    }
});
