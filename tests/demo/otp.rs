//! The OTP validator: a code requested through the API (`events/otp-validator/01-send.json`),
//! queued, sent by the delivery step as an SMS, read back from the stand-in and typed back
//! through the API: accepted once, refused when wrong or used again.

use fleet_core::{Env, EventHandler, HttpHandler};
use fleet_testkit::{load_event, Moto, ACCOUNT_ID, REGION};
use lambda_runtime::{Context, LambdaEvent};
use otp_validator::config::Config;
use serde_json::{json, Value};

use fleet_testkit::sqs::lambda_event;

use super::{config, ensure, Outcome};

fn request(file: &str, body: Option<Value>) -> Result<lambda_http::Request, String> {
    let mut event = load_event(file);
    if let Some(body) = body {
        event["body"] = Value::String(body.to_string());
    }
    lambda_http::request::from_str(&event.to_string()).map_err(|e| format!("{file}: {e}"))
}

/// The response's status and body, printed.
async fn call(
    api: &otp_validator::LambdaApp,
    what: &str,
    request: lambda_http::Request,
) -> (u16, String) {
    let response = api.handle(request).await;
    let status = response.status().as_u16();
    let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
    println!("{what:<44} → {status} {body}");
    (status, body)
}

pub async fn run(moto: &Moto) -> Outcome {
    let sdk = moto.sdk_config();
    let api_config: Config = config(moto, "otp-validator", &[])?;
    let sender_config: Config = config(moto, "otp-sms-sender", &[])?;
    let api = otp_validator::wire(&sdk, api_config, Env::system())
        .await
        .map_err(|e| e.to_string())?;
    let sender = otp_validator::wire_sender(&sdk, sender_config, Env::system())
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "alice's profile holds her phone, +31612345678; the HMAC key is in Secrets Manager.\n"
    );

    let (status, _) = call(
        &api,
        "POST /otp/send {user: alice}",
        request("otp-validator/01-send.json", None)?,
    )
    .await;
    ensure(status == 202, || format!("send answered {status}, not 202"))?;
    ensure(moto.sms_messages().is_empty(), || {
        "the API itself sent an SMS".into()
    })?;

    // The delivery step, as Lambda's SQS event source runs it.
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = format!("{}/{ACCOUNT_ID}/otp-code-requests", moto.endpoint());
    let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:otp-code-requests");
    let (batch, queued) = lambda_event(&sqs, &url, &arn).await;
    let delivered = sender
        .handle(LambdaEvent::new(batch, Context::default()))
        .await
        .map_err(|e| format!("the delivery step failed: {e}"))?;
    ensure(
        queued == 1 && delivered.batch_item_failures.is_empty(),
        || {
            format!(
                "{queued} requests queued, failures {:?}",
                delivered.batch_item_failures
            )
        },
    )?;
    let sms = moto.sms_messages();
    let (phone, text) = sms.first().ok_or("no SMS was sent")?;
    println!("SMS to {phone}: \"{text}\"  (read back from the stand-in)");
    ensure(phone == "+31612345678", || {
        format!("the SMS went to {phone}")
    })?;
    let code = text
        .strip_prefix("Your easytocloud code is ")
        .ok_or_else(|| format!("an unexpected SMS: {text}"))?
        .to_owned();

    let verify = |code: &str| {
        request(
            "otp-validator/02-verify.json",
            Some(json!({"user": "alice", "purpose": "start-instance", "code": code})),
        )
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, _) = call(&api, "POST /otp/verify with a wrong code", verify(wrong)?).await;
    ensure(status == 401, || format!("a wrong code answered {status}"))?;
    let (status, body) = call(
        &api,
        "POST /otp/verify with the code from the SMS",
        verify(&code)?,
    )
    .await;
    ensure(status == 200 && body.contains("\"valid\":true"), || {
        format!("the right code answered {status} {body}")
    })?;
    let (status, _) = call(
        &api,
        "POST /otp/verify with the same code again",
        verify(&code)?,
    )
    .await;
    ensure(status == 401, || format!("a used code answered {status}"))?;
    let (status, _) = call(
        &api,
        "POST /otp/send {user: mallory} (unknown)",
        request("otp-validator/04-send-unknown-user.json", None)?,
    )
    .await;
    let (batch, _) = lambda_event(&sqs, &url, &arn).await;
    sender
        .handle(LambdaEvent::new(batch, Context::default()))
        .await
        .map_err(|e| format!("the delivery step failed: {e}"))?;
    ensure(status == 202 && moto.sms_messages().len() == 1, || {
        "an unknown user was answered differently or sent an SMS".into()
    })?;
    Ok(
        "a code went out by SMS only through the queue, was accepted once, refused when wrong \
        or reused, and an unknown user got the same answer with no SMS"
            .into(),
    )
}
