//! Every function of the fleet as a local run sets it up: its variables against the stand-in,
//! the stand-in's resources they name, and the sample events it answers there. One description
//! serves the README's "Every function locally" table (checked by `tests/readme.rs`), the
//! `cargo lambda watch` test and the cold-start benchmark.

use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use fleet_testkit::seed::create_table;
use fleet_testkit::{load_event, Moto};
use serde_json::Value;

/// The HMAC keys' value in the stand-in (any 32+ characters).
pub const LOCAL_KEY: &str = "local-key-for-the-stand-in-only-0123456789";
/// The Alexa user the local profile belongs to (the samples' user).
pub const ALEXA_USER: &str = "amzn1.ask.account.AMAXEXAMPLEUSERIDFORTHEEASYTOCLOUDSKILL";

/// What a sample's answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A response (for HTTP functions: with this status code).
    Response(Option<u16>),
    /// A failed invocation with this `errorType`.
    Error(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct LocalFunction {
    /// The binary, and the function's name under `cargo lambda watch`.
    pub binary: &'static str,
    /// The template's logical id: `sam build` puts its `bootstrap` in `.aws-sam/build/<id>/`.
    pub logical_id: &'static str,
    /// Its variables locally (besides the stand-in's `AWS_*`); `$AWS_ENDPOINT_URL` stands for
    /// the stand-in's address.
    pub env: &'static [(&'static str, &'static str)],
    /// A sample (under `events/`) it answers against the stand-in, and the answer.
    pub sample: &'static str,
    pub expect: Expect,
    /// A sample it answers without any AWS call (for cold starts measured alone), if any.
    pub offline_sample: Option<(&'static str, Expect)>,
}

const OTP: [(&str, &str); 4] = [
    ("PROFILES_TABLE", "otp-profiles"),
    ("CODES_TABLE", "otp-codes"),
    ("OTP_KEY_SECRET_ID", "fleet/otp-key"),
    (
        "SEND_QUEUE_URL",
        "$AWS_ENDPOINT_URL/123456789012/otp-code-requests",
    ),
];

const CALLS: [(&str, &str); 2] = [
    ("CALLS_TABLE", "calls"),
    // The bucket name the template builds (`cloudops-fleet-calls-<account>-<region>`), as the
    // samples' S3 events name it.
    (
        "RECORDINGS_BUCKET",
        "cloudops-fleet-calls-123456789012-eu-west-1",
    ),
];

const APPROVALS: [(&str, &str); 5] = [
    ("APPROVALS_TABLE", "approvals"),
    ("SIGNING_SECRET_ID", "fleet/approval-signing-key"),
    ("SENDER", "approvals@example.com"),
    ("APPROVERS", r#"{"promotion":["manager@example.com"]}"#),
    (
        "PUBLIC_BASE_URL",
        "https://abc123.execute-api.eu-west-1.amazonaws.com",
    ),
];

/// The fleet, in the order a new user meets it.
pub const FLEET: &[LocalFunction] = &[
    LocalFunction {
        binary: "ec2-scheduler",
        logical_id: "Ec2SchedulerFunction",
        env: &[("STATE_TABLE", "fleet-state")],
        sample: "ec2-scheduler/01-monday-0800.json",
        expect: Expect::Response(None),
        offline_sample: None,
    },
    LocalFunction {
        binary: "tagging-policy",
        logical_id: "TaggingPolicyFunction",
        env: &[
            ("RULES_TABLE", "tagging-rules"),
            ("STATE_TABLE", "fleet-state"),
        ],
        sample: "tagging-policy/02-runinstances-iam-user.json",
        expect: Expect::Response(None),
        offline_sample: None,
    },
    LocalFunction {
        binary: "otp-validator",
        logical_id: "OtpValidatorFunction",
        env: &[OTP[0], OTP[1], ("CODES_KEY_PREFIX", "api"), OTP[2], OTP[3]],
        sample: "otp-validator/01-send.json",
        expect: Expect::Response(Some(202)),
        offline_sample: Some((
            "otp-validator/05-bad-missing-user.json",
            Expect::Response(Some(400)),
        )),
    },
    LocalFunction {
        binary: "otp-sms-sender",
        logical_id: "OtpSmsSenderFunction",
        env: &[OTP[0], OTP[1], ("CODES_KEY_PREFIX", "api"), OTP[2], OTP[3]],
        sample: "otp-validator/10-sqs-code-requests.json",
        expect: Expect::Response(None),
        offline_sample: None,
    },
    LocalFunction {
        binary: "alexa-skill",
        logical_id: "AlexaSkillFunction",
        env: &[
            (
                "SKILL_ID",
                "amzn1.ask.skill.5d1c3f0e-7a2b-4c9d-8e1f-0a2b3c4d5e6f",
            ),
            ("ACCESS_TABLE", "alexa-access"),
            OTP[0],
            OTP[1],
            ("CODES_KEY_PREFIX", "alexa"),
            OTP[2],
            ("CODE_LENGTH", "4"),
        ],
        sample: "alexa-skill/01-launch.json",
        expect: Expect::Response(None),
        offline_sample: Some(("alexa-skill/13-cancel.json", Expect::Response(None))),
    },
    LocalFunction {
        binary: "robot-publisher",
        logical_id: "RobotPublisherFunction",
        env: &[
            ("ROBOT_NAME", "telepresence-robot"),
            ("STATE_TABLE", "fleet-state"),
        ],
        sample: "robot-publisher/01-forward.json",
        expect: Expect::Response(Some(202)),
        offline_sample: Some((
            "robot-publisher/04-bad-unknown-action.json",
            Expect::Response(Some(400)),
        )),
    },
    LocalFunction {
        binary: "dlq-handler",
        logical_id: "DlqHandlerFunction",
        env: &[
            ("ARCHIVE_TABLE", "dlq-archive"),
            ("SPILL_BUCKET", "dlq-spill"),
        ],
        sample: "dlq-handler/01-sqs-dlq-timeout.json",
        expect: Expect::Response(None),
        offline_sample: None,
    },
    LocalFunction {
        binary: "call-center-starter",
        logical_id: "CallStarterFunction",
        env: &[
            CALLS[0],
            CALLS[1],
            (
                "DATA_ACCESS_ROLE_ARN",
                "arn:aws:iam::123456789012:role/call-center-transcribe",
            ),
        ],
        sample: "call-center/05-daily-sweep.json",
        expect: Expect::Response(None),
        // A transcript is not the starter's: ignored without a call.
        offline_sample: Some((
            "call-center/03-transcript-written.json",
            Expect::Response(None),
        )),
    },
    LocalFunction {
        binary: "call-center-analyser",
        logical_id: "CallAnalyserFunction",
        env: &[CALLS[0], CALLS[1]],
        sample: "call-center/04-transcribe-job-failed.json",
        expect: Expect::Response(None),
        offline_sample: Some((
            "call-center/01-recording-encoded-key.json",
            Expect::Response(None),
        )),
    },
    LocalFunction {
        binary: "approval-poller",
        logical_id: "ApprovalPollerFunction",
        env: &[
            APPROVALS[0],
            APPROVALS[1],
            APPROVALS[2],
            APPROVALS[3],
            APPROVALS[4],
            (
                "ACTIVITY_ARN",
                "arn:aws:states:eu-west-1:123456789012:activity:fleet-ManualStep",
            ),
        ],
        // With less than 70 s left the poller does not start a long poll (the stand-in has no
        // GetActivityTask): it answers with nothing polled.
        sample: "approval-worker/01-poller-schedule.json",
        expect: Expect::Response(None),
        offline_sample: None,
    },
    LocalFunction {
        binary: "approval-callback",
        logical_id: "ApprovalCallbackFunction",
        env: &APPROVALS,
        sample: "approval-worker/02-callback-promotion.json",
        expect: Expect::Response(None),
        offline_sample: None,
    },
    LocalFunction {
        binary: "approval-responder",
        logical_id: "ApprovalResponderFunction",
        env: &[APPROVALS[0], APPROVALS[1], APPROVALS[2], APPROVALS[3]],
        // The sample's request is not in the fresh table: its link is refused.
        sample: "approval-worker/04-get-request.json",
        expect: Expect::Response(Some(403)),
        offline_sample: None,
    },
    LocalFunction {
        binary: "approval-sweep",
        logical_id: "ApprovalSweepFunction",
        env: &APPROVALS,
        sample: "approval-worker/09-sweep-schedule.json",
        expect: Expect::Response(None),
        offline_sample: None,
    },
];

/// A function's variables with the stand-in's address filled in.
pub fn env(function: &LocalFunction, moto: &Moto) -> Vec<(String, String)> {
    function
        .env
        .iter()
        .map(|(k, v)| {
            (
                (*k).to_owned(),
                v.replace("$AWS_ENDPOINT_URL", moto.endpoint()),
            )
        })
        .collect()
}

/// A sample as the function gets it. The scheduler refuses an event more than two minutes
/// ahead of its clock, so its sample is dated now (as the README's `jq` does).
pub fn event(sample: &str) -> Value {
    let mut event = load_event(sample);
    if sample.starts_with("ec2-scheduler/") {
        event["time"] = Value::String(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string());
    }
    event
}

/// Whether `answer` (the function's response, or its error's `errorType`) is what `expect` says.
pub fn matches(expect: Expect, answer: Result<&Value, &str>) -> bool {
    match (expect, answer) {
        (Expect::Response(None), Ok(_)) => true,
        (Expect::Response(Some(status)), Ok(response)) => {
            response["statusCode"].as_u64() == Some(u64::from(status))
        }
        (Expect::Error(kind), Err(error_type)) => kind == error_type,
        _ => false,
    }
}

/// Every resource the fleet's local variables name, in a fresh stand-in.
pub async fn create_resources(moto: &Moto) {
    create_resources_at(&moto.sdk_config()).await;
}

/// The same, wherever `sdk` points (`fleet-local-resources` uses `AWS_ENDPOINT_URL`).
pub async fn create_resources_at(sdk: &aws_config::SdkConfig) {
    let sdk = sdk.clone();
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    create_table(&ddb, "fleet-state", "Id", ScalarAttributeType::S).await;
    create_table(&ddb, "tagging-rules", "RuleId", ScalarAttributeType::N).await;
    for table in ["otp-profiles", "otp-codes", "alexa-access"] {
        create_table(&ddb, table, "UserId", ScalarAttributeType::S).await;
    }
    for (user, phone) in [("alice", "+31612345678"), (ALEXA_USER, "+31612345679")] {
        ddb.put_item()
            .table_name("otp-profiles")
            .item("UserId", AttributeValue::S(user.into()))
            .item("DisplayName", AttributeValue::S(user.into()))
            .item("Phone", AttributeValue::S(phone.into()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("a profile: {e}"));
    }
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name("fleet/otp-key")
        .secret_string(LOCAL_KEY)
        .send()
        .await
        .unwrap_or_else(|e| panic!("the OTP key: {e}"));
    // The dead-letter archive and its digest index (dlq_handler::aws::WINDOW_INDEX).
    fleet_testkit::seed::create_indexed_table(
        &ddb,
        "dlq-archive",
        "Id",
        ("ByWindow", "Window", "Id"),
    )
    .await;
    // Path-style addressing, as against any overridden endpoint.
    let s3 = dlq_handler::aws::s3_client(&sdk);
    for bucket in ["dlq-spill", CALLS[1].1] {
        s3.create_bucket()
            .bucket(bucket)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                    .build(),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("bucket {bucket}: {e}"));
    }
    // The calls table and its status index (call_center::aws::STATUS_INDEX).
    fleet_testkit::seed::create_indexed_table(
        &ddb,
        "calls",
        "CallId",
        ("ByStatus", "Status", "CreatedAt"),
    )
    .await;
    create_table(&ddb, "approvals", "RequestId", ScalarAttributeType::S).await;
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name("fleet/approval-signing-key")
        .secret_string(LOCAL_KEY)
        .send()
        .await
        .unwrap_or_else(|e| panic!("the approval signing key: {e}"));
    aws_sdk_sesv2::Client::new(&sdk)
        .create_email_identity()
        .email_identity("approvals@example.com")
        .send()
        .await
        .unwrap_or_else(|e| panic!("the approval sender: {e}"));
    aws_sdk_sqs::Client::new(&sdk)
        .create_queue()
        .queue_name("otp-code-requests")
        .send()
        .await
        .unwrap_or_else(|e| panic!("the code request queue: {e}"));
}
