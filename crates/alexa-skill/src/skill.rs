//! The conversation: one function per intent, each answering with speech and a card. AWS
//! failures become a short spoken apology and a logged error; a request for another skill or a
//! malformed request is an error (no speech).

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value};

use crate::model::{Intent, Request, RequestEnvelope, ResponseEnvelope};
use crate::ports::{AccessStore, ServiceError, Streams};
use crate::presence::{Presence, Proof};
use crate::speech::{location, number_words, retry_phrase};
use fleet_core::{Clock, EventHandler, HandlerError};
use fleet_ec2::{
    describe_all, CallCounts, Ec2Port, Instance, InstanceQuery, InstanceState, StateChange,
};
use lambda_runtime::LambdaEvent;

pub const PAGE: usize = 5;
/// How long a question ("Shall I stop web-1?") stays open: time to get and say a code.
pub const PENDING_TTL: Duration = Duration::minutes(5);
/// The intents that answer a pending question; any other drops it.
const PENDING_ANSWERS: [&str; 4] = [
    "SendCodeIntent",
    "AuthenticateIntent",
    "AMAZON.YesIntent",
    "AMAZON.NoIntent",
];
/// Help, with an example name from the account (`None`: it has no instances, or they could not
/// be listed).
fn help(example: Option<&str>) -> String {
    let changes = match example {
        Some(name) => format!("start {name}, or stop {name}"),
        None => "start or stop followed by an instance's name".to_owned(),
    };
    format!(
        "You can say: list instances, describe kinesis shards, {changes}. \
Before I change anything, say authenticate text, and then authenticate followed by the code."
    )
}
const APOLOGY: &str = "Sorry, I couldn't reach AWS just now. Please try again in a moment.";

#[derive(Debug, Clone)]
pub struct Settings {
    /// Requests for any other skill are refused.
    pub skill_id: String,
    pub region: String,
    /// How long access lasts after authenticating.
    pub access_ttl: Duration,
}

/// The function: the conversation over EC2, Kinesis, the access grants and the OTP library.
pub struct App<E, K, A, O, C> {
    pub ec2: E,
    pub streams: K,
    pub access: A,
    pub presence: O,
    pub clock: C,
    pub settings: Settings,
}

/// An answer in progress: text, whether to keep listening, the attributes to carry.
struct Reply {
    text: String,
    reprompt: Option<String>,
    end: bool,
}

fn ask(text: impl Into<String>, reprompt: &str) -> Reply {
    Reply {
        text: text.into(),
        reprompt: Some(reprompt.to_owned()),
        end: false,
    }
}

fn tell(text: impl Into<String>) -> Reply {
    Reply {
        text: text.into(),
        reprompt: Some("What else can I do for you?".to_owned()),
        end: false,
    }
}

fn bye(text: &str) -> Reply {
    Reply {
        text: text.to_owned(),
        reprompt: None,
        end: true,
    }
}

fn apology(e: &dyn std::fmt::Display) -> Reply {
    tracing::error!(error = %e, "AWS call failed");
    tell(APOLOGY)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Start,
    Stop,
}

impl Change {
    fn verb(self) -> &'static str {
        match self {
            Change::Start => "start",
            Change::Stop => "stop",
        }
    }
    fn past(self) -> &'static str {
        match self {
            Change::Start => "started",
            Change::Stop => "stopped",
        }
    }
    fn parse(text: &str) -> Option<Self> {
        match text {
            "start" => Some(Change::Start),
            "stop" => Some(Change::Stop),
            _ => None,
        }
    }
}

fn display_name(i: &Instance) -> String {
    i.name().map_or_else(|| i.id.clone(), str::to_owned)
}

impl<E, K, A, O, C> EventHandler for App<E, K, A, O, C>
where
    E: Ec2Port,
    K: Streams,
    A: AccessStore,
    O: Presence,
    C: Clock,
{
    type Output = ResponseEnvelope;

    /// An Alexa request in, the skill's answer out. A request for another skill, or one that is
    /// no Alexa request, is `InvalidEvent` (no speech).
    async fn handle(&self, event: LambdaEvent<Value>) -> Result<ResponseEnvelope, HandlerError> {
        let envelope: RequestEnvelope =
            fleet_core::event::parse(event.payload, "an Alexa request")?;
        let ids = envelope.application_ids();
        if ids.is_empty() || ids.iter().any(|id| *id != self.settings.skill_id) {
            tracing::warn!(application_ids = ?ids, "request for another skill refused");
            return Err(HandlerError::invalid_event(
                "the request is not for this skill",
            ));
        }
        let user = envelope
            .user_id()
            .ok_or_else(|| HandlerError::invalid_event("the request has no user"))?
            .to_owned();
        let mut attributes = envelope.attributes();
        let reply = match &envelope.request {
            Request::SessionEndedRequest { common, reason } => {
                tracing::info!(request_id = %common.request_id, reason = reason.as_deref().unwrap_or(""), "session ended");
                return Ok(ResponseEnvelope::silent());
            }
            Request::LaunchRequest(common) => {
                tracing::info!(request_id = %common.request_id, user = %user, "launch");
                ask(
                    "Welcome to easy to cloud. You can list instances, describe kinesis shards, or start and stop an instance. What would you like?",
                    "What would you like? You can say list instances.",
                )
            }
            Request::IntentRequest { common, intent } => {
                tracing::info!(request_id = %common.request_id, user = %user, intent = %intent.name, "intent");
                self.intent(&user, intent, &mut attributes).await
            }
        };
        let attributes = if reply.end { Map::new() } else { attributes };
        Ok(ResponseEnvelope::say(
            &reply.text,
            reply.reprompt.as_deref(),
            reply.end,
            attributes,
        ))
    }
}

impl<E, K, A, O, C> App<E, K, A, O, C>
where
    E: Ec2Port,
    K: Streams,
    A: AccessStore,
    O: Presence,
    C: Clock,
{
    async fn intent(
        &self,
        user: &str,
        intent: &Intent,
        attributes: &mut Map<String, Value>,
    ) -> Reply {
        self.expire_pending(intent, attributes);
        match intent.name.as_str() {
            "ListInstancesIntent" => self.list(attributes, 0).await,
            "MoreIntent" => {
                let offset = attributes
                    .get("list_offset")
                    .and_then(Value::as_u64)
                    .map_or(0, |o| o as usize);
                if offset == 0 {
                    return tell("Say list instances first.");
                }
                self.list(attributes, offset).await
            }
            "DescribeKinesisShardsIntent" => self.kinesis().await,
            "StartInstanceIntent" => self.change(user, intent, Change::Start, attributes).await,
            "StopInstanceIntent" => self.change(user, intent, Change::Stop, attributes).await,
            "SendCodeIntent" => self.send_code(user).await,
            "AuthenticateIntent" => self.authenticate(user, intent, attributes).await,
            "AMAZON.YesIntent" => self.confirm(user, attributes).await,
            "AMAZON.NoIntent" => match attributes.remove("pending") {
                Some(p) => tell(format!(
                    "OK, I won't {} {}.",
                    p["action"].as_str().unwrap_or("change"),
                    p["name"].as_str().unwrap_or("it")
                )),
                None => tell("OK."),
            },
            "AMAZON.HelpIntent" => ask(self.help().await, "What would you like?"),
            "AMAZON.StopIntent" | "AMAZON.CancelIntent" => bye("Goodbye."),
            _ => ask(
                format!("Sorry, I can't help with that. {}", self.help().await),
                "What would you like? You can say list instances.",
            ),
        }
    }

    /// A pending action belongs to one question: it survives only the answers to it (getting and
    /// giving a code, yes, no), and only for `PENDING_TTL`.
    fn expire_pending(&self, intent: &Intent, attributes: &mut Map<String, Value>) {
        let Some(pending) = attributes.get("pending") else {
            return;
        };
        let answers_it = PENDING_ANSWERS.contains(&intent.name.as_str());
        let expires_at = pending["expires_at"]
            .as_str()
            .and_then(|t| t.parse::<DateTime<Utc>>().ok());
        let live = expires_at.is_some_and(|t| t > self.clock.now());
        if !(answers_it && live) {
            tracing::info!(intent = %intent.name, live, "pending action dropped");
            attributes.remove("pending");
        }
    }

    /// Help naming an instance the account really has (the first by name).
    async fn help(&self) -> String {
        match self.instances().await {
            Ok(all) => help(all.first().map(display_name).as_deref()),
            Err(e) => {
                tracing::warn!(error = %e, "listing instances for help failed");
                help(None)
            }
        }
    }

    /// Every live instance, sorted by name.
    async fn instances(&self) -> Result<Vec<Instance>, fleet_ec2::Ec2Error> {
        let (mut all, _) = describe_all(
            &self.ec2,
            &InstanceQuery::default(),
            || false,
            &mut CallCounts::default(),
        )
        .await?;
        all.sort_by_key(|i| (display_name(i).to_lowercase(), i.id.clone()));
        Ok(all)
    }

    async fn list(&self, attributes: &mut Map<String, Value>, offset: usize) -> Reply {
        let instances = match self.instances().await {
            Ok(i) => i,
            Err(e) => return apology(&e),
        };
        if instances.is_empty() {
            return tell("You have no instances in this region.");
        }
        let page: Vec<String> = instances
            .iter()
            .skip(offset)
            .take(PAGE)
            .map(|i| format!("{} is {}", display_name(i), i.state))
            .collect();
        if page.is_empty() {
            attributes.remove("list_offset");
            return tell("That was all of them.");
        }
        let next = offset + page.len();
        let mut text = if offset == 0 {
            format!(
                "You have the following {} instance{}: {}.",
                instances.len(),
                if instances.len() == 1 { "" } else { "s" },
                page.join(", ")
            )
        } else {
            format!("Next: {}.", page.join(", "))
        };
        // The offset is kept after the last page too, so "more" then says that was all.
        attributes.insert("list_offset".into(), json!(next));
        let coming = (instances.len() - next).min(PAGE);
        if coming > 0 {
            let say_more = format!("Say more for the next {}.", number_words(coming as u32));
            text.push(' ');
            text.push_str(&say_more);
            ask(text, &format!("{say_more} Or ask me something else."))
        } else {
            ask(text, "Anything else? You can say list instances.")
        }
    }

    async fn kinesis(&self) -> Reply {
        let place = location(&self.settings.region);
        match self.streams.streams().await {
            Err(e) => apology(&e),
            Ok(streams) => tell(match streams.as_slice() {
                [] => format!("You have no Kinesis streams in {place}."),
                [one] => format!(
                    "You have a {} shard Kinesis stream in {place}, called {}.",
                    number_words(one.shards),
                    one.name
                ),
                many => format!(
                    "You have {} Kinesis streams in {place}: {}.",
                    number_words(many.len() as u32),
                    many.iter()
                        .map(|s| format!(
                            "{} with {} shard{}",
                            s.name,
                            number_words(s.shards),
                            if s.shards == 1 { "" } else { "s" }
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }

    async fn authorised(&self, user: &str) -> Result<bool, ServiceError> {
        let now = self.clock.now();
        Ok(self
            .access
            .granted_until(user)
            .await?
            .is_some_and(|until| until > now))
    }

    async fn change(
        &self,
        user: &str,
        intent: &Intent,
        change: Change,
        attributes: &mut Map<String, Value>,
    ) -> Reply {
        let Some(wanted) = intent.slot("InstanceName") else {
            let question = format!("Which instance should I {}?", change.verb());
            return ask(question.clone(), &question);
        };
        let instances = match self.instances().await {
            Ok(i) => i,
            Err(e) => return apology(&e),
        };
        let wanted_lower = wanted.to_lowercase();
        let exact: Vec<&Instance> = instances
            .iter()
            .filter(|i| display_name(i).to_lowercase() == wanted_lower)
            .collect();
        let matches = if exact.is_empty() {
            instances
                .iter()
                .filter(|i| display_name(i).to_lowercase().contains(&wanted_lower))
                .collect()
        } else {
            exact
        };
        let target = match matches.as_slice() {
            [] => return tell(format!("I can't find an instance called {wanted}.")),
            [one] => *one,
            several => {
                let names: Vec<String> = several.iter().map(|i| display_name(i)).collect();
                let distinct: std::collections::BTreeSet<String> =
                    names.iter().map(|n| n.to_lowercase()).collect();
                if distinct.len() < names.len() {
                    return tell(format!(
                        "There are {} instances called {}. Give them different Name tags so I can tell them apart.",
                        number_words(names.len() as u32),
                        names[0]
                    ));
                }
                let question = format!("Which one: {}?", names.join(", or "));
                return ask(question.clone(), &question);
            }
        };
        let expires_at = (self.clock.now() + PENDING_TTL).to_rfc3339();
        let pending = json!({ "action": change.verb(), "instance_id": target.id, "name": display_name(target), "expires_at": expires_at });
        match self.authorised(user).await {
            Err(e) => apology(&e),
            Ok(false) => {
                attributes.insert("pending".into(), pending);
                ask(
                    "You need to authenticate. Say authenticate text, and I'll send a code to your phone.",
                    "Say authenticate text to get a code.",
                )
            }
            Ok(true) => {
                attributes.remove("pending");
                self.carry_out(change, target).await
            }
        }
    }

    async fn carry_out(&self, change: Change, target: &Instance) -> Reply {
        let name = display_name(target);
        let (needed, done_already) = match change {
            Change::Start => (InstanceState::Stopped, InstanceState::Running),
            Change::Stop => (InstanceState::Running, InstanceState::Stopped),
        };
        if target.state == done_already {
            return tell(format!("{name} is already {}.", target.state));
        }
        if target.state != needed {
            return tell(format!(
                "{name} is {}; try again in a moment.",
                target.state
            ));
        }
        let state_change = match change {
            Change::Start => StateChange::Start,
            Change::Stop => StateChange::Stop,
        };
        if let Err(e) = self
            .ec2
            .change_state(state_change, std::slice::from_ref(&target.id))
            .await
        {
            return apology(&e);
        }
        tracing::info!(instance_id = %target.id, name = %name, action = change.verb(), "instance changed");
        let query = InstanceQuery {
            instance_ids: vec![target.id.clone()],
            ..InstanceQuery::default()
        };
        let now = match self.ec2.describe_page(&query, None).await {
            Ok(page) => page.instances.first().map(|i| i.state),
            Err(e) => {
                tracing::warn!(error = %e, "describing the changed instance failed");
                None
            }
        };
        match now {
            Some(state) => tell(format!(
                "I have {} {name}. It is now {state}.",
                change.past()
            )),
            None => tell(format!("I have {} {name}.", change.past())),
        }
    }

    async fn send_code(&self, user: &str) -> Reply {
        match self.presence.profile(user).await {
            Err(e) => return apology(&e),
            Ok(None) => {
                return tell("I don't have a phone number for you. Ask your administrator to add your Alexa user to the profiles table.")
            }
            Ok(Some(_)) => {}
        }
        match self.presence.send_code(user).await {
            Ok(fleet_otp::SendOutcome::Sent) => ask(
                "I've sent the code to your phone. Say authenticate, followed by the code.",
                "Say authenticate, followed by the code.",
            ),
            Ok(fleet_otp::SendOutcome::Limited { retry_after }) => tell(format!(
                "You have asked for several codes already. Try again {}.",
                retry_phrase(retry_after)
            )),
            Err(e) => apology(&e),
        }
    }

    async fn authenticate(
        &self,
        user: &str,
        intent: &Intent,
        attributes: &mut Map<String, Value>,
    ) -> Reply {
        let Some(spoken) = intent.slot("Code") else {
            return ask(
                "Say authenticate followed by your code, or authenticate text to get one.",
                "Say authenticate followed by your code.",
            );
        };
        if !spoken.bytes().all(|b| b.is_ascii_digit()) {
            return ask(
                "I need the code as a number.",
                "Say authenticate followed by your code.",
            );
        }
        match self.presence.verify(user, spoken).await {
            Err(e) => apology(&e),
            Ok(Proof::Valid) => {
                let until: DateTime<Utc> = self.clock.now() + self.settings.access_ttl;
                if let Err(e) = self.access.grant(user, until).await {
                    return apology(&e);
                }
                match attributes.get("pending") {
                    Some(p) => {
                        let question = format!(
                            "Shall I {} {} now?",
                            p["action"].as_str().unwrap_or("change"),
                            p["name"].as_str().unwrap_or("it")
                        );
                        ask(format!("Access granted. {question}"), &question)
                    }
                    None => tell("Access granted."),
                }
            }
            Ok(Proof::Invalid) => ask(
                "That code is not right. Try again, or say authenticate text for a new code.",
                "Say authenticate followed by your code.",
            ),
            Ok(Proof::Locked { retry_after }) => tell(format!(
                "There have been too many wrong codes. Try again {}.",
                retry_phrase(retry_after)
            )),
            Ok(Proof::Unavailable) => {
                tell("I can't check MFA codes right now. Please try again later.")
            }
        }
    }

    async fn confirm(&self, user: &str, attributes: &mut Map<String, Value>) -> Reply {
        let Some(pending) = attributes.get("pending").cloned() else {
            return tell("There's nothing waiting for a yes.");
        };
        let (Some(change), Some(id)) = (
            pending["action"].as_str().and_then(Change::parse),
            pending["instance_id"].as_str(),
        ) else {
            attributes.remove("pending");
            return tell("There's nothing waiting for a yes.");
        };
        match self.authorised(user).await {
            Err(e) => return apology(&e),
            Ok(false) => {
                return ask(
                    "You need to authenticate first. Say authenticate text, and I'll send a code to your phone.",
                    "Say authenticate text to get a code.",
                )
            }
            Ok(true) => {}
        }
        attributes.remove("pending");
        let query = InstanceQuery {
            instance_ids: vec![id.to_owned()],
            ..InstanceQuery::default()
        };
        match self.ec2.describe_page(&query, None).await {
            Err(e) => apology(&e),
            Ok(page) => match page.instances.first() {
                Some(target) => self.carry_out(change, target).await,
                None => tell("That instance is gone."),
            },
        }
    }
}
