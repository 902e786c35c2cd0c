//! Secrets never in logs (issue 12, point 4): the real otp-validator and otp-sms-sender binaries
//! under the test kit's Lambda Runtime API emulator, at `AWS_LAMBDA_LOG_LEVEL=TRACE` with JSON
//! logs, against the local stand-in. A code request goes through the SQS queue, the code goes out
//! by SMS (through the SDK's SNS call) and comes back in a verify request (through the runtime's
//! raw event); the functions' whole output never contains it.

use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use fleet_testkit::runtime::{workspace_binary, Function, Outcome};
use fleet_testkit::seed::create_table;
use fleet_testkit::{load_event, Moto};
use serde_json::{json, Value};

fn response(outcome: &Outcome) -> (u64, Value) {
    let Outcome::Response(r) = outcome else {
        panic!("{outcome}");
    };
    let body = serde_json::from_str(r["body"].as_str().unwrap_or_default()).unwrap_or(Value::Null);
    (r["statusCode"].as_u64().unwrap_or_default(), body)
}

#[test]
fn a_code_never_reaches_the_logs_even_at_trace() {
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = runtime.block_on(async {
        sqs.create_queue()
            .queue_name("otp-code-requests")
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap()
    });
    runtime.block_on(async {
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        create_table(&ddb, "otp-profiles", "UserId", ScalarAttributeType::S).await;
        create_table(&ddb, "otp-codes", "UserId", ScalarAttributeType::S).await;
        ddb.put_item()
            .table_name("otp-profiles")
            .item("UserId", AttributeValue::S("alice".into()))
            .item("Phone", AttributeValue::S("+31612345678".into()))
            .send()
            .await
            .unwrap();
        aws_sdk_secretsmanager::Client::new(&sdk)
            .create_secret()
            .name("fleet/otp-key")
            .secret_string("k3y-for-the-stand-in-only-0123456789abcdef")
            .send()
            .await
            .unwrap();
    });
    let configured = |binary: &str| {
        Function::new(workspace_binary(binary))
            .envs(moto.env())
            .env("PROFILES_TABLE", "otp-profiles")
            .env("CODES_TABLE", "otp-codes")
            .env("CODES_KEY_PREFIX", "api")
            .env("SEND_QUEUE_URL", queue_url.as_str())
            .env("OTP_KEY_SECRET_ID", "fleet/otp-key")
            // Eight digits: an isolated 8-digit number in the logs is the code, not a coincidence.
            .env("CODE_LENGTH", "8")
            .env("AWS_LAMBDA_LOG_LEVEL", "TRACE")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
    };
    let function = configured("otp-validator");

    let send = function.run(&[load_event("otp-validator/01-send.json")]);
    assert_eq!(response(send.outcomes()[0]).0, 202, "{}", send.logs);
    // The delivery step on what the API queued, as Lambda's SQS event source hands it over.
    let messages = runtime.block_on(async {
        sqs.receive_message()
            .queue_url(&queue_url)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default()
    });
    assert_eq!(messages.len(), 1);
    let batch = json!({"Records": [{
        "messageId": messages[0].message_id(),
        "receiptHandle": messages[0].receipt_handle(),
        "body": messages[0].body(),
        "attributes": {},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:otp-code-requests",
        "awsRegion": "us-east-1"
    }]});
    let delivered = configured("otp-sms-sender").run(&[batch]);
    let Outcome::Response(answer) = delivered.outcomes()[0] else {
        panic!("{}", delivered.logs);
    };
    assert_eq!(
        answer,
        &json!({"batchItemFailures": []}),
        "{}",
        delivered.logs
    );
    let sms = moto.sms_messages();
    let code = sms[0]
        .1
        .strip_prefix("Your easytocloud code is ")
        .unwrap_or_else(|| panic!("{sms:?}"))
        .to_owned();
    assert_eq!(code.len(), 8);

    let mut verify = load_event("otp-validator/02-verify.json");
    verify["body"] = Value::String(
        json!({"user": "alice", "purpose": "start-instance", "code": code}).to_string(),
    );
    let checked = function.run(&[verify]);
    assert_eq!(
        response(checked.outcomes()[0]),
        (200, json!({"valid": true})),
        "{}",
        checked.logs
    );

    let logs = format!("{}\n{}\n{}", send.logs, delivered.logs, checked.logs);
    // The setting took effect: the SDK's DEBUG lines are there.
    assert!(logs.contains("\"level\":\"DEBUG\""), "{logs}");
    let isolated =
        regex_lite::Regex::new(&format!("(^|[^0-9A-Za-z]){code}([^0-9A-Za-z]|$)")).unwrap();
    let leaks: Vec<&str> = logs.lines().filter(|l| isolated.is_match(l)).collect();
    assert!(
        leaks.is_empty(),
        "the code {code} is in the logs:\n{}",
        leaks.join("\n")
    );
}
