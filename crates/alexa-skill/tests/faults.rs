//! Faults (issue 18): the skill with Kinesis' ListStreams or DescribeStreamSummary, the access
//! table's read or grant, or EC2's listing or StartInstances throttled (then answered, or
//! throughout), answering 503 on every attempt, or not answering at all. The SDK's retry absorbs
//! passing throttling; anything else is the spoken apology, the session stays open, and nothing
//! is started (or started twice): a start that failed leaves no pending action that a later
//! "yes" would carry out.

use alexa_skill::aws::{DynamoAccess, KinesisStreams};
use alexa_skill::memory::{FakeStreams, MemoryAccess};
use alexa_skill::ports::{AccessStore, Stream, Streams};
use alexa_skill::{App, ResponseEnvelope, Settings};
use aws_sdk_dynamodb::operation::get_item::{GetItemError, GetItemOutput};
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ec2::error::ErrorMetadata;
use aws_sdk_ec2::operation::describe_instances::{DescribeInstancesError, DescribeInstancesOutput};
use aws_sdk_ec2::operation::start_instances::{StartInstancesError, StartInstancesOutput};
use aws_sdk_ec2::types::{Instance, InstanceState, InstanceStateName, Reservation, Tag};
use aws_sdk_kinesis::operation::describe_stream_summary::{
    DescribeStreamSummaryError, DescribeStreamSummaryOutput,
};
use aws_sdk_kinesis::operation::list_streams::{ListStreamsError, ListStreamsOutput};
use aws_sdk_kinesis::types::{StreamDescriptionSummary, StreamStatus};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use chrono::{DateTime, Duration, Utc};
use fleet_core::{EventHandler, FixedClock};
use fleet_ec2::{AwsEc2, Ec2Port, SplitEc2};
use fleet_otp::memory::{FakeMfa, MemoryProfiles, MemoryStore, RecordingSms, ScriptedDigits};
use fleet_otp::{HmacKey, Limits, Otp, Profile};
use fleet_testkit::faults::{Fault, ATTEMPTS};
use fleet_testkit::{inject, load_event};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Map, Value};

const USER: &str = "amzn1.ask.account.AMAXEXAMPLEUSERIDFORTHEEASYTOCLOUDSKILL";
const SKILL: &str = "amzn1.ask.skill.5d1c3f0e-7a2b-4c9d-8e1f-0a2b3c4d5e6f";
const SPLUNK: &str = "i-0a1b2c3d4e5f60718";
const APOLOGY: &str = "Sorry, I couldn't reach AWS just now. Please try again in a moment.";

fn now() -> DateTime<Utc> {
    "2026-11-23T09:05:00Z".parse().unwrap()
}

type TestOtp = Otp<MemoryProfiles, MemoryStore, RecordingSms, FakeMfa, ScriptedDigits, FixedClock>;
type TestSkill<E, K, A> = App<E, K, A, TestOtp, FixedClock>;

/// The skill over `ec2`, `streams` and `access`, with the OTP library in memory (the code is
/// 5143).
fn skill<E: Ec2Port, K: Streams, A: AccessStore>(
    ec2: E,
    streams: K,
    access: A,
) -> TestSkill<E, K, A> {
    App {
        ec2,
        streams,
        access,
        presence: Otp {
            profiles: MemoryProfiles::with([Profile {
                user_id: USER.into(),
                display_name: "Erik".into(),
                phone: "+31612345678".into(),
                mfa_serial: None,
            }]),
            store: MemoryStore::default(),
            sms: RecordingSms::default(),
            mfa: FakeMfa::default(),
            digits: ScriptedDigits::new(["5143"]),
            clock: FixedClock::at(now()),
            key: HmacKey::new(*b"0123456789abcdef0123456789abcdef").unwrap(),
            limits: Limits {
                code_length: 4,
                ..Limits::default()
            },
        },
        clock: FixedClock::at(now()),
        settings: Settings {
            skill_id: SKILL.into(),
            region: "eu-west-1".into(),
            access_ttl: Duration::minutes(10),
            control_value: "true".into(),
        },
    }
}

/// Plays one sample request with the attributes Alexa would send back.
async fn say<E: Ec2Port, K: Streams, A: AccessStore>(
    skill: &TestSkill<E, K, A>,
    file: &str,
    attributes: &Map<String, Value>,
) -> ResponseEnvelope {
    let mut event = load_event(&format!("alexa-skill/{file}"));
    event["session"]["attributes"] = Value::Object(attributes.clone());
    skill
        .handle(LambdaEvent::new(event, Context::default()))
        .await
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn text(r: &ResponseEnvelope) -> String {
    r.response
        .card
        .as_ref()
        .map(|c| c.content.clone())
        .unwrap_or_default()
}

/// The spoken answer, checked to keep the session open whatever happened.
fn answer(r: &ResponseEnvelope) -> String {
    assert!(!r.response.should_end_session, "{}", text(r));
    text(r)
}

fn clickstream() -> FakeStreams {
    FakeStreams {
        streams: vec![Stream {
            name: "clickstream".into(),
            shards: 4,
        }],
        failure: None,
    }
}

/// Access granted to the user until after the requests.
fn granted() -> MemoryAccess {
    let access = MemoryAccess::default();
    access
        .0
        .lock()
        .unwrap()
        .insert(USER.into(), now() + Duration::minutes(5));
    access
}

// --- Kinesis -----------------------------------------------------------------------------

fn kinesis_throttled() -> aws_sdk_kinesis::error::ErrorMetadata {
    aws_sdk_kinesis::error::ErrorMetadata::builder()
        .code("LimitExceededException")
        .message("Rate exceeded for stream clickstream")
        .build()
}

fn streams_listed() -> ListStreamsOutput {
    ListStreamsOutput::builder()
        .stream_names("clickstream")
        .has_more_streams(false)
        .build()
        .unwrap()
}

fn stream_summary() -> DescribeStreamSummaryOutput {
    let summary = StreamDescriptionSummary::builder()
        .stream_name("clickstream")
        .stream_arn("arn:aws:kinesis:eu-west-1:123456789012:stream/clickstream")
        .stream_status(StreamStatus::Active)
        .retention_period_hours(24)
        .stream_creation_timestamp(aws_sdk_kinesis::primitives::DateTime::from_secs(0))
        .set_enhanced_monitoring(Some(Vec::new()))
        .open_shard_count(4)
        .build()
        .unwrap();
    DescribeStreamSummaryOutput::builder()
        .stream_description_summary(summary)
        .build()
}

/// (what the skill says to "describe kinesis shards", attempts the mock saw) for a fault on
/// ListStreams.
async fn list_streams_with(fault: Fault) -> (String, usize) {
    let describe =
        mock!(aws_sdk_kinesis::Client::describe_stream_summary).then_output(stream_summary);
    let kinesis = inject!(
        aws_sdk_kinesis,
        aws_sdk_kinesis::Client::list_streams,
        fault,
        || ListStreamsError::generic(kinesis_throttled()),
        streams_listed,
        describe
    );
    let s = skill(
        splunk_listing(&[]),
        KinesisStreams::new(kinesis.client.clone()),
        granted(),
    );
    let r = say(&s, "04-describe-kinesis-shards.json", &Map::new()).await;
    (answer(&r), kinesis.attempts())
}

/// The same for a fault on DescribeStreamSummary (ListStreams answers).
async fn describe_stream_with(fault: Fault) -> (String, usize) {
    let list = mock!(aws_sdk_kinesis::Client::list_streams).then_output(streams_listed);
    let kinesis = inject!(
        aws_sdk_kinesis,
        aws_sdk_kinesis::Client::describe_stream_summary,
        fault,
        || DescribeStreamSummaryError::generic(kinesis_throttled()),
        stream_summary,
        list
    );
    let s = skill(
        splunk_listing(&[]),
        KinesisStreams::new(kinesis.client.clone()),
        granted(),
    );
    let r = say(&s, "04-describe-kinesis-shards.json", &Map::new()).await;
    (answer(&r), kinesis.attempts())
}

fn four_shards() -> String {
    "You have a four shard Kinesis stream in Ireland, called clickstream.".into()
}

#[tokio::test]
async fn list_streams_throttled_then_answered_is_retried_and_the_shards_told() {
    assert_eq!(
        list_streams_with(Fault::ThrottledThenOk).await,
        (four_shards(), ATTEMPTS)
    );
}

#[tokio::test]
async fn list_streams_throttled_throughout_is_the_spoken_apology() {
    assert_eq!(
        list_streams_with(Fault::Throttled).await,
        (APOLOGY.into(), ATTEMPTS)
    );
}

#[tokio::test]
async fn list_streams_5xx_is_the_spoken_apology() {
    assert_eq!(
        list_streams_with(Fault::ServerError).await,
        (APOLOGY.into(), ATTEMPTS)
    );
}

/// A silent client answers none of Kinesis' calls: ListStreams, the first, times out.
#[tokio::test]
async fn kinesis_timeout_is_the_spoken_apology() {
    assert_eq!(
        list_streams_with(Fault::Timeout).await,
        (APOLOGY.into(), ATTEMPTS)
    );
}

#[tokio::test]
async fn stream_summary_throttled_then_answered_is_retried_and_the_shards_told() {
    assert_eq!(
        describe_stream_with(Fault::ThrottledThenOk).await,
        (four_shards(), ATTEMPTS)
    );
}

#[tokio::test]
async fn stream_summary_throttled_throughout_is_the_spoken_apology() {
    assert_eq!(
        describe_stream_with(Fault::Throttled).await,
        (APOLOGY.into(), ATTEMPTS)
    );
}

#[tokio::test]
async fn stream_summary_5xx_is_the_spoken_apology() {
    assert_eq!(
        describe_stream_with(Fault::ServerError).await,
        (APOLOGY.into(), ATTEMPTS)
    );
}

// --- EC2 -------------------------------------------------------------------------------------

fn ec2_throttled() -> ErrorMetadata {
    ErrorMetadata::builder()
        .code("RequestLimitExceeded")
        .message("Request limit exceeded.")
        .build()
}

/// splunk (opted in) as DescribeInstances lists it, in `state`.
fn splunk(state: InstanceStateName) -> DescribeInstancesOutput {
    let instance = Instance::builder()
        .instance_id(SPLUNK)
        .state(InstanceState::builder().name(state).build())
        .tags(Tag::builder().key("Name").value("splunk").build())
        .tags(Tag::builder().key("AlexaControl").value("true").build())
        .build();
    DescribeInstancesOutput::builder()
        .reservations(Reservation::builder().instances(instance).build())
        .build()
}

/// DescribeInstances: splunk stopped, and pending once asked about by id (after its start).
fn splunk_listed() -> [Rule; 2] {
    [
        mock!(aws_sdk_ec2::Client::describe_instances)
            .match_requests(|r| r.filters().iter().any(|f| f.name() == Some("instance-id")))
            .then_output(|| splunk(InstanceStateName::Pending)),
        mock!(aws_sdk_ec2::Client::describe_instances)
            .then_output(|| splunk(InstanceStateName::Stopped)),
    ]
}

/// StartInstances accepting splunk's start.
fn start_accepted() -> Rule {
    mock!(aws_sdk_ec2::Client::start_instances)
        .match_requests(|r| r.instance_ids() == [SPLUNK])
        .then_output(|| StartInstancesOutput::builder().build())
}

/// EC2 as the skill sees it: splunk listed by one client, `writes` answering the writes on
/// another, so that a fault hits one of them only.
fn splunk_listing(writes: &[&Rule]) -> SplitEc2<AwsEc2, AwsEc2> {
    let [by_id, all] = splunk_listed();
    SplitEc2 {
        listing: AwsEc2::new(mock_client!(
            aws_sdk_ec2,
            RuleMode::MatchAny,
            [&by_id, &all]
        )),
        writes: AwsEc2::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, writes)),
    }
}

/// "Start splunk" from a user with access: what the skill says, whether it left an action
/// pending (that "yes" would carry out).
async fn start_splunk<E: Ec2Port>(ec2: E) -> (String, bool) {
    let s = skill(ec2, clickstream(), granted());
    let r = say(&s, "05-start-splunk.json", &Map::new()).await;
    (answer(&r), r.session_attributes.contains_key("pending"))
}

/// (answer, action left pending, attempts the mock saw) for a fault on StartInstances.
async fn start_with(fault: Fault) -> (String, bool, usize) {
    let writes = inject!(
        aws_sdk_ec2,
        aws_sdk_ec2::Client::start_instances,
        fault,
        || StartInstancesError::generic(ec2_throttled()),
        || StartInstancesOutput::builder().build()
    );
    let mut ec2 = splunk_listing(&[]);
    ec2.writes = AwsEc2::new(writes.client.clone());
    let (said, pending) = start_splunk(ec2).await;
    (said, pending, writes.attempts())
}

fn started() -> String {
    "I have started splunk. It is now pending.".into()
}

#[tokio::test]
async fn start_throttled_then_answered_is_retried_and_splunk_started() {
    assert_eq!(
        start_with(Fault::ThrottledThenOk).await,
        (started(), false, ATTEMPTS)
    );
}

#[tokio::test]
async fn start_throttled_throughout_is_the_apology_with_nothing_left_to_start() {
    assert_eq!(
        start_with(Fault::Throttled).await,
        (APOLOGY.into(), false, ATTEMPTS)
    );
}

#[tokio::test]
async fn start_5xx_is_the_apology_with_nothing_left_to_start() {
    assert_eq!(
        start_with(Fault::ServerError).await,
        (APOLOGY.into(), false, ATTEMPTS)
    );
}

#[tokio::test]
async fn start_timeout_is_the_apology_with_nothing_left_to_start() {
    assert_eq!(
        start_with(Fault::Timeout).await,
        (APOLOGY.into(), false, ATTEMPTS)
    );
}

/// (answer, attempts the mock saw, starts sent) for a fault on DescribeInstances.
async fn listing_with(fault: Fault) -> (String, usize, usize) {
    let listing = inject!(
        aws_sdk_ec2,
        aws_sdk_ec2::Client::describe_instances,
        fault,
        || DescribeInstancesError::generic(ec2_throttled()),
        || splunk(InstanceStateName::Stopped)
    );
    let start = start_accepted();
    let mut ec2 = splunk_listing(&[&start]);
    ec2.listing = AwsEc2::new(listing.client.clone());
    let (said, _) = start_splunk(ec2).await;
    (said, listing.attempts(), start.num_calls())
}

/// The fault answers every DescribeInstances: the listing's attempts, then the state read after
/// the start (one call more, answered as listed: splunk stopped).
#[tokio::test]
async fn listing_throttled_then_answered_is_retried_and_splunk_started_once() {
    let (said, attempts, starts) = listing_with(Fault::ThrottledThenOk).await;
    assert!(said.starts_with("I have started splunk."), "{said}");
    assert_eq!((attempts, starts), (ATTEMPTS + 1, 1));
}

#[tokio::test]
async fn listing_throttled_throughout_is_the_apology_and_nothing_started() {
    assert_eq!(
        listing_with(Fault::Throttled).await,
        (APOLOGY.into(), ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn listing_5xx_is_the_apology_and_nothing_started() {
    assert_eq!(
        listing_with(Fault::ServerError).await,
        (APOLOGY.into(), ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn listing_timeout_is_the_apology_and_nothing_started() {
    assert_eq!(
        listing_with(Fault::Timeout).await,
        (APOLOGY.into(), ATTEMPTS, 0)
    );
}

// --- The access table ---------------------------------------------------------------------

fn throughput_exceeded() -> aws_sdk_dynamodb::error::ErrorMetadata {
    aws_sdk_dynamodb::error::ErrorMetadata::builder()
        .code("ProvisionedThroughputExceededException")
        .message("slow down")
        .build()
}

/// The user's grant, until after the requests.
fn grant_item() -> GetItemOutput {
    let until = now() + Duration::minutes(5);
    GetItemOutput::builder()
        .item("UserId", AttributeValue::S(USER.into()))
        .item(
            "GrantedUntil",
            AttributeValue::N(until.timestamp().to_string()),
        )
        .build()
}

/// (answer, attempts the mock saw, starts sent) to "start splunk" with a fault on the access
/// table's read (GetItem) of the user's grant.
async fn access_read_with(fault: Fault) -> (String, usize, usize) {
    let dynamodb = inject!(
        aws_sdk_dynamodb,
        aws_sdk_dynamodb::Client::get_item,
        fault,
        || GetItemError::generic(throughput_exceeded()),
        grant_item
    );
    let start = start_accepted();
    let s = skill(
        splunk_listing(&[&start]),
        clickstream(),
        DynamoAccess::new(dynamodb.client.clone(), "alexa-access"),
    );
    let r = say(&s, "05-start-splunk.json", &Map::new()).await;
    (answer(&r), dynamodb.attempts(), start.num_calls())
}

#[tokio::test]
async fn access_read_throttled_then_answered_is_retried_and_splunk_started_once() {
    assert_eq!(
        access_read_with(Fault::ThrottledThenOk).await,
        (started(), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn access_read_throttled_throughout_is_the_apology_and_nothing_started() {
    assert_eq!(
        access_read_with(Fault::Throttled).await,
        (APOLOGY.into(), ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn access_read_5xx_is_the_apology_and_nothing_started() {
    assert_eq!(
        access_read_with(Fault::ServerError).await,
        (APOLOGY.into(), ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn access_read_timeout_is_the_apology_and_nothing_started() {
    assert_eq!(
        access_read_with(Fault::Timeout).await,
        (APOLOGY.into(), ATTEMPTS, 0)
    );
}

/// (answer to the code, attempts the mock saw) for a fault on the access table's grant
/// (PutItem): "start splunk" and "authenticate text" run on a table without a grant, then the
/// code is said with the fault on the table.
async fn grant_with(fault: Fault) -> (String, usize) {
    let no_grant =
        mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| GetItemOutput::builder().build());
    let healthy = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&no_grant]);
    let start = start_accepted();
    let mut s = skill(
        splunk_listing(&[&start]),
        clickstream(),
        DynamoAccess::new(healthy, "alexa-access"),
    );
    let r = say(&s, "05-start-splunk.json", &Map::new()).await;
    let r = say(&s, "06-authenticate-text.json", &r.session_attributes).await;
    let dynamodb = inject!(
        aws_sdk_dynamodb,
        aws_sdk_dynamodb::Client::put_item,
        fault,
        || PutItemError::generic(throughput_exceeded()),
        || PutItemOutput::builder().build()
    );
    s.access = DynamoAccess::new(dynamodb.client.clone(), "alexa-access");
    let r = say(&s, "07-authenticate-code.json", &r.session_attributes).await;
    assert_eq!(start.num_calls(), 0, "nothing starts before a yes");
    (answer(&r), dynamodb.attempts())
}

#[tokio::test]
async fn grant_throttled_then_answered_is_retried_and_access_granted() {
    assert_eq!(
        grant_with(Fault::ThrottledThenOk).await,
        ("Access granted. Shall I start splunk now?".into(), ATTEMPTS)
    );
}

#[tokio::test]
async fn grant_throttled_throughout_is_the_apology_not_access_granted() {
    assert_eq!(
        grant_with(Fault::Throttled).await,
        (APOLOGY.into(), ATTEMPTS)
    );
}

#[tokio::test]
async fn grant_5xx_is_the_apology_not_access_granted() {
    assert_eq!(
        grant_with(Fault::ServerError).await,
        (APOLOGY.into(), ATTEMPTS)
    );
}

#[tokio::test]
async fn grant_timeout_is_the_apology_not_access_granted() {
    assert_eq!(grant_with(Fault::Timeout).await, (APOLOGY.into(), ATTEMPTS));
}
