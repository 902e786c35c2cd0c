//! The conversation: one function per intent, each answering with speech and a card. AWS
//! failures become a short spoken apology and a logged error; a request for another skill or a
//! malformed request is an error (no speech).

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value};

use crate::model::{
    Directive, Entity, EntityName, EntityType, Intent, Request, RequestEnvelope, ResponseEnvelope,
};
use crate::ports::{AccessStore, ServiceError, Streams};
use crate::presence::{Presence, Proof};
use crate::speech::{location, name_key, names_part, number_words, retry_phrase, spoken_name};
use fleet_core::{Clock, EventHandler, HandlerError};
use fleet_ec2::{
    describe_all, CallCounts, Ec2ErrorKind, Ec2Port, Instance, InstanceQuery, InstanceState,
    StateChange,
};
use lambda_runtime::LambdaEvent;

/// The invocation name ("Alexa, open easy cloud"): "easy to cloud" breaks Amazon's rule against
/// connecting words, and "ask easy to cloud to …" parses badly.
pub const SKILL_NAME: &str = "easy cloud";
/// The opt-in tag: the skill starts and stops only instances carrying it with the configured
/// value. Fixed, because an IAM condition key (`aws:ResourceTag/AlexaControl`) cannot be templated.
pub const CONTROL_TAG: &str = "AlexaControl";
/// The custom slot type of instance names, refreshed with the account's instances.
pub const INSTANCE_NAME_TYPE: &str = "INSTANCE_NAME";
const INSTANCE_SLOT: &str = "InstanceName";
/// Alexa accepts at most 100 dynamic entities in one update.
pub const MAX_ENTITIES: usize = 100;
/// Options read out at once when a name fits several instances.
pub const CHOICES: usize = 3;
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
/// The intents that answer "Which one: …?"; any other drops the choice.
const CHOICE_ANSWERS: [&str; 3] = ["StartInstanceIntent", "StopInstanceIntent", "MoreIntent"];
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
    /// The value of the `AlexaControl` tag that lets the skill start and stop an instance.
    pub control_value: String,
}

/// Who is speaking: the Amazon account's user (whose profile gets the codes), and whom access
/// is granted to — the recognised person when the request has a voice profile, else the user.
struct Speaker {
    user: String,
    access_key: String,
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
    directives: Vec<Directive>,
}

impl Reply {
    fn with(mut self, directive: Option<Directive>) -> Self {
        self.directives.extend(directive);
        self
    }
}

fn ask(text: impl Into<String>, reprompt: &str) -> Reply {
    Reply {
        text: text.into(),
        reprompt: Some(reprompt.to_owned()),
        end: false,
        directives: Vec::new(),
    }
}

fn tell(text: impl Into<String>) -> Reply {
    ask(text, "What else can I do for you?")
}

fn bye(text: &str) -> Reply {
    Reply {
        text: text.to_owned(),
        reprompt: None,
        end: true,
        directives: Vec::new(),
    }
}

/// "a", "a or b", "a, b, or c".
fn either(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [first, second] => format!("{first} or {second}"),
        [init @ .., last] => format!("{}, or {last}", init.join(", ")),
    }
}

/// The account's named instances as this session's values of the instance-name slot type,
/// each with the way it is spoken ("worker-2": "worker two") as a synonym.
fn entities(instances: &[Instance]) -> Directive {
    let values = instances
        .iter()
        .filter_map(|i| i.name().map(|name| (i, name)))
        .take(MAX_ENTITIES)
        .map(|(i, name)| {
            let spoken = spoken_name(name);
            Entity {
                id: i.id.clone(),
                name: EntityName {
                    value: name.to_owned(),
                    synonyms: if spoken == name {
                        Vec::new()
                    } else {
                        vec![spoken]
                    },
                },
            }
        })
        .collect();
    Directive::UpdateDynamicEntities {
        update_behavior: "REPLACE",
        types: vec![EntityType {
            name: INSTANCE_NAME_TYPE,
            values,
        }],
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
    fn intent(self) -> &'static str {
        match self {
            Change::Start => "StartInstanceIntent",
            Change::Stop => "StopInstanceIntent",
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
        let person = envelope.person_id();
        let speaker = Speaker {
            access_key: person.unwrap_or(&user).to_owned(),
            user,
        };
        let user = &speaker.user;
        let mut attributes = envelope.attributes();
        let reply = match &envelope.request {
            Request::SessionEndedRequest { common, reason } => {
                tracing::info!(request_id = %common.request_id, reason = reason.as_deref().unwrap_or(""), "session ended");
                return Ok(ResponseEnvelope::silent());
            }
            Request::LaunchRequest(common) => {
                tracing::info!(request_id = %common.request_id, user = %user, person = person.is_some(), "launch");
                ask(
                    format!("Welcome to {SKILL_NAME}. You can list instances, describe kinesis shards, or start and stop an instance. What would you like?"),
                    "What would you like? You can say list instances.",
                )
                .with(self.instances().await.ok().map(|all| entities(&all)))
            }
            Request::IntentRequest { common, intent } => {
                tracing::info!(request_id = %common.request_id, user = %user, person = person.is_some(), intent = %intent.name, "intent");
                self.intent(&speaker, intent, &mut attributes).await
            }
        };
        let attributes = if reply.end { Map::new() } else { attributes };
        let mut response = ResponseEnvelope::say(
            &reply.text,
            reply.reprompt.as_deref(),
            reply.end,
            attributes,
        );
        response.response.directives = reply.directives;
        Ok(response)
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
        speaker: &Speaker,
        intent: &Intent,
        attributes: &mut Map<String, Value>,
    ) -> Reply {
        self.expire(intent, attributes);
        let user = speaker.user.as_str();
        match intent.name.as_str() {
            "ListInstancesIntent" => self.list(attributes, 0).await,
            "MoreIntent" if attributes.contains_key("choice") => self.more_choices(attributes),
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
            "StartInstanceIntent" => {
                self.change(speaker, intent, Change::Start, attributes)
                    .await
            }
            "StopInstanceIntent" => self.change(speaker, intent, Change::Stop, attributes).await,
            "SendCodeIntent" => self.send_code(user).await,
            "AuthenticateIntent" => self.authenticate(speaker, intent, attributes).await,
            "AMAZON.YesIntent" => self.confirm(speaker, attributes).await,
            "AMAZON.NoIntent" => match attributes.remove("pending") {
                Some(p) => tell(format!(
                    "OK, I won't {} {}.",
                    p["action"].as_str().unwrap_or("change"),
                    p["name"].as_str().unwrap_or("it")
                )),
                None => tell("OK."),
            },
            "AMAZON.HelpIntent" => {
                let (text, names) = self.help().await;
                ask(text, "What would you like?").with(names)
            }
            "AMAZON.StopIntent" | "AMAZON.CancelIntent" => bye("Goodbye."),
            _ => {
                let (text, names) = self.help().await;
                ask(
                    format!("Sorry, I can't help with that. {text}"),
                    "What would you like? You can say list instances.",
                )
                .with(names)
            }
        }
    }

    /// A question belongs to one turn: a pending action survives only the answers to it
    /// (getting and giving a code, yes, no), a choice between instances only a name or "more",
    /// and either only for `PENDING_TTL`.
    fn expire(&self, intent: &Intent, attributes: &mut Map<String, Value>) {
        for (key, answers) in [
            ("pending", &PENDING_ANSWERS[..]),
            ("choice", &CHOICE_ANSWERS[..]),
        ] {
            let Some(question) = attributes.get(key) else {
                continue;
            };
            let answers_it = answers.contains(&intent.name.as_str());
            let expires_at = question["expires_at"]
                .as_str()
                .and_then(|t| t.parse::<DateTime<Utc>>().ok());
            let live = expires_at.is_some_and(|t| t > self.clock.now());
            if !(answers_it && live) {
                tracing::info!(intent = %intent.name, live, question = key, "question dropped");
                attributes.remove(key);
            }
        }
    }

    fn expires_at(&self) -> String {
        (self.clock.now() + PENDING_TTL).to_rfc3339()
    }

    fn controllable(&self, instance: &Instance) -> bool {
        instance.tag(CONTROL_TAG) == Some(self.settings.control_value.as_str())
    }

    /// Help naming an instance the account really has (the first the skill may change, else the
    /// first by name), and this session's instance names for the recogniser.
    async fn help(&self) -> (String, Option<Directive>) {
        match self.instances().await {
            Ok(all) => {
                let example = all
                    .iter()
                    .find(|i| self.controllable(i))
                    .or(all.first())
                    .map(display_name);
                (help(example.as_deref()), Some(entities(&all)))
            }
            Err(e) => {
                tracing::warn!(error = %e, "listing instances for help failed");
                (help(None), None)
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
        let reply = if coming > 0 {
            let say_more = format!("Say more for the next {}.", number_words(coming as u32));
            text.push(' ');
            text.push_str(&say_more);
            ask(text, &format!("{say_more} Or ask me something else."))
        } else {
            ask(text, "Anything else? You can say list instances.")
        };
        reply.with(Some(entities(&instances)))
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

    async fn authorised(&self, speaker: &Speaker) -> Result<bool, ServiceError> {
        let now = self.clock.now();
        Ok(self
            .access
            .granted_until(&speaker.access_key)
            .await?
            .is_some_and(|until| until > now))
    }

    /// "Which instance should I stop?", asked so that a bare name answers it.
    fn which_instance(change: Change) -> Reply {
        let question = format!("Which instance should I {}?", change.verb());
        ask(question.clone(), &question)
            .with(Some(Directive::elicit(change.intent(), INSTANCE_SLOT)))
    }

    /// Start or stop by name. The name is matched as spoken ("worker two" is `worker-2`): an
    /// exact match is acted on (after authentication); a partial match, or an instance only
    /// Alexa's entity resolution heard, is asked about first ("Did you mean …?"); several are
    /// offered three at a time.
    async fn change(
        &self,
        speaker: &Speaker,
        intent: &Intent,
        change: Change,
        attributes: &mut Map<String, Value>,
    ) -> Reply {
        let Some(wanted) = intent.slot(INSTANCE_SLOT) else {
            return Self::which_instance(change);
        };
        let wanted_key = name_key(wanted);
        // Answering "Which one: …, or say more?" inside the dialog, "more" arrives as the name.
        if matches!(wanted_key.as_str(), "more" | "next" | "say more")
            && attributes.contains_key("choice")
        {
            return self.more_choices(attributes);
        }
        attributes.remove("choice");
        let instances = match self.instances().await {
            Ok(i) => i,
            Err(e) => return apology(&e),
        };
        let names = Some(entities(&instances));
        let exact: Vec<&Instance> = instances
            .iter()
            .filter(|i| name_key(&display_name(i)) == wanted_key)
            .collect();
        let (matches, is_exact) = if exact.is_empty() {
            let heard = intent.dynamic_ids(INSTANCE_SLOT);
            let partial: Vec<&Instance> = instances
                .iter()
                .filter(|i| {
                    names_part(&name_key(&display_name(i)), &wanted_key)
                        || heard.contains(&i.id.as_str())
                })
                .collect();
            (partial, false)
        } else {
            (exact, true)
        };
        let target = match matches.as_slice() {
            [] => return tell(format!("I can't find an instance called {wanted}.")).with(names),
            [one] => *one,
            several => {
                let distinct: std::collections::BTreeSet<String> =
                    several.iter().map(|i| name_key(&display_name(i))).collect();
                if is_exact && distinct.len() < several.len() {
                    return tell(format!(
                        "There are {} instances called {}. Give them different Name tags so I can tell them apart.",
                        number_words(several.len() as u32),
                        display_name(several[0])
                    ));
                }
                let options: Vec<Value> = several
                    .iter()
                    .take(30)
                    .map(|i| json!([i.id, display_name(i)]))
                    .collect();
                attributes.insert(
                    "choice".into(),
                    json!({"action": change.verb(), "options": options, "shown": 0, "expires_at": self.expires_at()}),
                );
                return self.offer(attributes, "").with(names);
            }
        };
        let name = display_name(target);
        if !self.controllable(target) {
            return self.not_controllable(change, &name).with(names);
        }
        let pending = json!({ "action": change.verb(), "instance_id": target.id, "name": name, "expires_at": self.expires_at() });
        if !is_exact {
            attributes.insert("pending".into(), pending);
            let question = format!("Did you mean {name}?");
            return ask(question.clone(), &format!("{question} Say yes or no.")).with(names);
        }
        match self.authorised(speaker).await {
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

    fn not_controllable(&self, change: Change, name: &str) -> Reply {
        tracing::info!(name = %name, action = change.verb(), "instance without the control tag refused");
        tell(format!(
            "I may only start and stop instances tagged {CONTROL_TAG} with the value {}, and {name} is not, so I won't {} it.",
            self.settings.control_value,
            change.verb()
        ))
    }

    /// Reads out the next options of the choice in the session (at most three, then "or say
    /// more"), asking for the name as the answer.
    fn offer(&self, attributes: &mut Map<String, Value>, preface: &str) -> Reply {
        let Some(choice) = attributes.get_mut("choice") else {
            return tell("Say list instances first.");
        };
        let change = choice["action"]
            .as_str()
            .and_then(Change::parse)
            .unwrap_or(Change::Start);
        let options: Vec<String> = choice["options"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|o| o[1].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let shown = choice["shown"].as_u64().map_or(0, |n| n as usize);
        let group: Vec<String> = options.iter().skip(shown).take(CHOICES).cloned().collect();
        choice["shown"] = json!(shown + group.len());
        let question = if shown + group.len() < options.len() {
            format!("Which one: {}, or say more?", group.join(", "))
        } else {
            format!("Which one: {}?", either(&group))
        };
        ask(format!("{preface}{question}"), &question)
            .with(Some(Directive::elicit(change.intent(), INSTANCE_SLOT)))
    }

    /// "More" while choosing: the next three options; after the last, from the first again.
    fn more_choices(&self, attributes: &mut Map<String, Value>) -> Reply {
        let Some(choice) = attributes.get_mut("choice") else {
            return tell("Say list instances first.");
        };
        let total = choice["options"].as_array().map_or(0, Vec::len);
        let shown = choice["shown"].as_u64().map_or(0, |n| n as usize);
        if shown >= total {
            choice["shown"] = json!(0);
            return self.offer(attributes, "That was all of them. ");
        }
        self.offer(attributes, "")
    }

    async fn carry_out(&self, change: Change, target: &Instance) -> Reply {
        let name = display_name(target);
        if !self.controllable(target) {
            return self.not_controllable(change, &name);
        }
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
            if e.kind == Ec2ErrorKind::Denied {
                tracing::warn!(instance_id = %target.id, error = %e, "EC2 refused the change");
                return tell(format!(
                    "AWS did not let me {} {name}: my role may only change instances tagged {CONTROL_TAG} with the value {}.",
                    change.verb(),
                    self.settings.control_value
                ));
            }
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
        speaker: &Speaker,
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
        match self.presence.verify(&speaker.user, spoken).await {
            Err(e) => apology(&e),
            Ok(Proof::Valid) => {
                let until: DateTime<Utc> = self.clock.now() + self.settings.access_ttl;
                if let Err(e) = self.access.grant(&speaker.access_key, until).await {
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

    async fn confirm(&self, speaker: &Speaker, attributes: &mut Map<String, Value>) -> Reply {
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
        match self.authorised(speaker).await {
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
