//! Emulator tests: the OTP API and its SMS delivery step on the real DynamoDB, SQS and SNS
//! adapters against moto, with the key read from moto's Secrets Manager and SSM. The request goes
//! through the queue, the SMS is read back from `/moto-api/data.json` and typed back through the
//! API. moto's STS accepts any MFA code, so the MFA check here is the
//! in-memory fake (STS's real answers are in the crate's aws-smithy-mocks tests).

use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use fleet_core::EventHandler;
use fleet_core::HttpHandler;
use fleet_core::SystemClock;
use fleet_otp::aws::{
    load_key, mfa_sts_client, DynamoProfiles, DynamoStore, KeySource, SecretKey, SnsSms,
};
use fleet_otp::memory::FakeMfa;
use fleet_otp::ports::KeyProvider;
use fleet_otp::ports::OsDigits;
use fleet_otp::OtpError;
use fleet_otp::{Limits, Otp};
use fleet_testkit::seed::create_table;
use fleet_testkit::{load_event, Moto};
use lambda_http::{Body, Response};
use lambda_runtime::{Context, LambdaEvent};
use otp_validator::aws::SqsQueue;
use otp_validator::{App, Sender};
use serde_json::{json, Value};

const KEY: &str = "k3y-for-the-stand-in-only-0123456789abcdef";

fn request(file: &str, body: Option<Value>) -> lambda_http::Request {
    let mut event = load_event(file);
    if let Some(body) = body {
        event["body"] = Value::String(body.to_string());
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

fn json_body(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_goes_out_by_sms_and_comes_back_through_the_api() {
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    create_table(&ddb, "otp-profiles", "UserId", ScalarAttributeType::S).await;
    create_table(&ddb, "otp-codes", "UserId", ScalarAttributeType::S).await;
    ddb.put_item()
        .table_name("otp-profiles")
        .item("UserId", AttributeValue::S("alice".into()))
        .item("DisplayName", AttributeValue::S("Alice".into()))
        .item("Phone", AttributeValue::S("+31612345678".into()))
        .item(
            "MfaSerial",
            AttributeValue::S("arn:aws:iam::123456789012:mfa/alice".into()),
        )
        .send()
        .await
        .unwrap();

    // The key, from either store, is the same key.
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name("fleet/otp-key")
        .secret_string(KEY)
        .send()
        .await
        .unwrap();
    aws_sdk_ssm::Client::new(&sdk)
        .put_parameter()
        .name("/fleet/otp-key")
        .value(KEY)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let key = load_key(&sdk, &KeySource::SecretsManager("fleet/otp-key".into()))
        .await
        .unwrap();
    let same = load_key(&sdk, &KeySource::SsmParameter("/fleet/otp-key".into()))
        .await
        .unwrap();
    assert_eq!(key.seal("a", "b", "c"), same.seal("a", "b", "c"));
    let missing = load_key(&sdk, &KeySource::SecretsManager("nope".into()))
        .await
        .unwrap_err();
    assert!(
        missing.to_string().contains("ResourceNotFoundException"),
        "{missing}"
    );
    assert_eq!(missing.class, fleet_core::ErrorClass::NotFound);

    // Issue 17, point 3: the functions read the key on first use, not at init. A key that is
    // not there yet fails only the request that needs it, classified; the next request reads
    // again; once read, it is kept for the container's life.
    let lazy = SecretKey::new(&sdk, KeySource::SecretsManager("fleet/later-key".into()));
    let Err(OtpError::Key(absent)) = lazy.key().await else {
        panic!("a missing key is an error");
    };
    assert_eq!(absent.class, fleet_core::ErrorClass::NotFound);
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    secrets
        .create_secret()
        .name("fleet/later-key")
        .secret_string(KEY)
        .send()
        .await
        .unwrap();
    let read = lazy.key().await.unwrap().seal("a", "b", "c");
    assert_eq!(read, key.seal("a", "b", "c"));
    secrets
        .delete_secret()
        .secret_id("fleet/later-key")
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        lazy.key().await.unwrap().seal("a", "b", "c"),
        read,
        "kept, not read again"
    );

    // The MFA user's access key is read from its secret; a malformed one fails the cold start.
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    secrets
        .create_secret()
        .name("fleet/mfa-user")
        .secret_string(r#"{"AccessKeyId":"AKIAEXAMPLEMFAUSER01","SecretAccessKey":"s3cr3t"}"#)
        .send()
        .await
        .unwrap();
    secrets
        .create_secret()
        .name("fleet/mfa-broken")
        .secret_string("AKIA...")
        .send()
        .await
        .unwrap();
    let sts = mfa_sts_client(&sdk, Some("fleet/mfa-user")).await.unwrap();
    moto.start_recording();
    sts.get_session_token()
        .serial_number("arn:aws:iam::123456789012:mfa/alice")
        .token_code("246810")
        .send()
        .await
        .unwrap();
    let signed_with: Vec<String> = moto
        .recorded_requests()
        .iter()
        .filter_map(|r| r.headers.get("authorization").cloned())
        .collect();
    assert!(
        signed_with
            .iter()
            .any(|a| a.contains("Credential=AKIAEXAMPLEMFAUSER01/")),
        "STS is called with the MFA user's key: {signed_with:?}"
    );
    let broken = mfa_sts_client(&sdk, Some("fleet/mfa-broken"))
        .await
        .unwrap_err();
    assert_eq!(
        broken.detail,
        "secret fleet/mfa-broken is not JSON with AccessKeyId and SecretAccessKey"
    );
    assert_eq!(broken.class, fleet_core::ErrorClass::InvalidConfig);

    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = sqs
        .create_queue()
        .queue_name("otp-code-requests")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let otp = || Otp {
        profiles: DynamoProfiles::new(ddb.clone(), "otp-profiles"),
        store: DynamoStore::new(ddb.clone(), "otp-codes", "api"),
        sms: SnsSms::new(fleet_core::aws::SnsClient::new(&sdk), None),
        mfa: FakeMfa::default(),
        digits: OsDigits,
        clock: SystemClock,
        key: key.clone(),
        limits: Limits::default(),
    };
    let api = App {
        otp: otp(),
        queue: SqsQueue::new(sqs.clone(), &queue_url),
    };
    let sender = Sender { otp: otp() };
    // The delivery step, as Lambda's SQS event source runs it: what the queue holds, as a batch.
    let deliver = || async {
        let (batch, count) = fleet_testkit::sqs::lambda_event(
            &sqs,
            &queue_url,
            "arn:aws:sqs:us-east-1:123456789012:otp-code-requests",
        )
        .await;
        let event = LambdaEvent::new(batch, Context::default());
        let answer = sender.handle(event).await.unwrap();
        assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
        count
    };

    let sent = api
        .handle(request("otp-validator/01-send.json", None))
        .await;
    assert_eq!(
        (sent.status().as_u16(), json_body(&sent)),
        (202, json!({"status": "accepted"}))
    );
    assert!(
        moto.sms_messages().is_empty(),
        "the API sends no SMS itself"
    );
    assert_eq!(deliver().await, 1, "the request was queued");
    let sms = moto.sms_messages();
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].0, "+31612345678");
    let code = sms[0]
        .1
        .strip_prefix("Your easytocloud code is ")
        .unwrap_or_else(|| panic!("{:?}", sms[0].1))
        .to_owned();
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );

    let user_item = |key: &'static str| {
        let ddb = ddb.clone();
        async move {
            ddb.get_item()
                .table_name("otp-codes")
                .key("UserId", AttributeValue::S(key.into()))
                .send()
                .await
                .unwrap()
                .item
        }
    };
    let item = user_item("api#user#alice")
        .await
        .unwrap_or_else(|| panic!("the API's items are under its prefix"));
    let state = item["State"].as_s().unwrap();
    assert!(!state.contains(&code), "only the HMAC is stored: {state}");
    assert!(item["ExpiresAt"].as_n().is_ok(), "the TTL attribute is set");

    let verify = |code: &str| {
        request(
            "otp-validator/02-verify.json",
            Some(json!({"user": "alice", "purpose": "start-instance", "code": code})),
        )
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(api.handle(verify(wrong)).await.status().as_u16(), 401);
    let valid = api.handle(verify(&code)).await;
    assert_eq!(
        (valid.status().as_u16(), json_body(&valid)),
        (200, json!({"valid": true}))
    );
    assert_eq!(
        api.handle(verify(&code)).await.status().as_u16(),
        401,
        "single use"
    );

    let unknown = api
        .handle(request("otp-validator/04-send-unknown-user.json", None))
        .await;
    assert_eq!(
        (unknown.status().as_u16(), json_body(&unknown)),
        (202, json!({"status": "accepted"})),
        "the same answer as for a known user"
    );
    assert_eq!(deliver().await, 1);
    assert_eq!(moto.sms_messages().len(), 1, "no SMS for an unknown user");

    // Budgets, kept in DynamoDB: the guess against alice's code was hers; the guess after it
    // was used (nothing outstanding) was the caller's, keyed on the role without its session.
    let alice = user_item("api#user#alice").await.unwrap();
    assert_eq!(failures(&alice), 1);
    let caller = user_item("api#caller#arn:aws:sts::123456789012:assumed-role/OtpCaller")
        .await
        .unwrap_or_else(|| panic!("the caller's budget"));
    assert_eq!(failures(&caller), 1);
}

fn failures(item: &std::collections::HashMap<String, AttributeValue>) -> usize {
    let state: Value = serde_json::from_str(item["State"].as_s().unwrap()).unwrap();
    state["failures"].as_array().map_or(0, Vec::len)
}
