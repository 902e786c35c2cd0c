//! The dead-letter handler: an upload whose processing fails for real (the calls table was
//! deleted by mistake), Lambda's on-failure destination record after its three attempts, the
//! failure queue handed to the handler, and the archive showing the failure classified, with
//! the event kept for a replay.
//!
//! What stands in: the stand-in cannot run Lambda functions asynchronously, so the starter's
//! three attempts run here and the destination record is built in Lambda's documented shape
//! (`dlq_handler::lambda_shapes`); its SQS→Lambda mapping drops message attributes, so the
//! handler's SQS event is built from `ReceiveMessage`.

use aws_sdk_s3::primitives::ByteStream;
use dlq_handler::aws::s3_client;
use dlq_handler::classify::FailureClass;
use dlq_handler::config::Config;
use dlq_handler::lambda_shapes::{destination_record, diagnostic};
use dlq_handler::ports::Archive;
use fleet_core::{Env, EventHandler, SystemClock};
use fleet_testkit::sqs::{drain_json, lambda_event};
use fleet_testkit::{Moto, ACCOUNT_ID, REGION};
use lambda_runtime::{Context, LambdaEvent};

use super::calls::{fixture, notify_queues, BUCKET};
use super::{config, ensure, OrSay, Outcome};

const REQUEST_ID: &str = "5f0c6d1e-upload-request";

pub async fn run(moto: &Moto) -> Outcome {
    let sdk = moto.sdk_config();
    let s3 = s3_client(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let (starter_queue, _) = notify_queues(&sqs, &s3).await;
    let starter_config: call_center::config::StarterConfig =
        config(moto, "call-center-starter", &[])?;
    let starter = call_center::aws::wire_starter(&sdk, starter_config, Env::system())
        .await
        .map_err(|e| e.to_string())?;
    aws_sdk_dynamodb::Client::new(&sdk)
        .delete_table()
        .table_name("calls")
        .send()
        .await
        .or_say("deleting the calls table")?;
    println!("An operator deleted the calls table by mistake.");

    let key = "recordings/2026/11/after-the-mistake.mp3";
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from(fixture("call-en.mp3")?))
        .send()
        .await
        .or_say("uploading the recording")?;
    println!("Uploaded s3://{BUCKET}/{key}.");
    let events = drain_json(&sqs, &starter_queue).await;
    let event = events.first().ok_or("the upload produced no S3 event")?;
    // Lambda runs an asynchronous event up to three times before giving up.
    let mut failure = None;
    for attempt in 1..=3 {
        match starter
            .handle(LambdaEvent::new(event.clone(), Context::default()))
            .await
        {
            Ok(report) => return Err(format!("the starter succeeded: {report:?}")),
            Err(e) => {
                println!(
                    "Attempt {attempt}: the starter failed: {} ({})",
                    e.message, e.class
                );
                failure = Some(e);
            }
        }
    }
    let failure = failure.ok_or("no failure")?;

    // Lambda's on-failure destination: the record goes to the fleet's failure queue.
    let arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:call-center-starter");
    let record = destination_record(
        &arn,
        REQUEST_ID,
        event,
        &diagnostic(&failure),
        3,
        chrono::Utc::now(),
    );
    let queue_url = sqs
        .create_queue()
        .queue_name("fleet-failures")
        .send()
        .await
        .or_say("creating the failure queue")?
        .queue_url
        .unwrap_or_default();
    sqs.send_message()
        .queue_url(&queue_url)
        .message_body(record.to_string())
        .send()
        .await
        .or_say("sending the destination record")?;
    println!("Lambda's on-failure destination record (RetriesExhausted, 3 attempts) is on the failure queue.\n");

    let handler_config: Config = config(moto, "dlq-handler", &[])?;
    let handler = dlq_handler::wire(&sdk, handler_config, Env::system())
        .await
        .map_err(|e| e.to_string())?;
    let queue_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:fleet-failures");
    let (batch, count) = lambda_event(&sqs, &queue_url, &queue_arn).await;
    println!("The handler takes the batch; its CloudWatch metric (embedded metric format) goes to stdout:");
    ensure(count == 1, || {
        format!("{count} records on the failure queue")
    })?;
    let answer = handler
        .handle(LambdaEvent::new(batch, Context::default()))
        .await
        .map_err(|e| format!("the dead-letter handler failed: {e}"))?;
    ensure(answer.failed_items().is_empty(), || {
        format!("items failed: {answer:?}")
    })?;

    let listing = dlq_handler::cli::list(&handler.archive, &SystemClock, &Default::default())
        .await
        .map_err(|e| e.to_string())?;
    println!("── the archive (as `fleet dlq list` prints it) ──\n{listing}");
    let item = handler
        .archive
        .get(REQUEST_ID)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the failure was not archived")?;
    ensure(item.function_name() == "call-center-starter", || {
        format!("archived under {}", item.function_name())
    })?;
    ensure(item.class == FailureClass::MissingResource, || {
        format!("classified {}", item.class.as_str())
    })?;
    ensure(item.error_type.as_deref() == Some("NotFound"), || {
        format!("error type {:?}", item.error_type)
    })?;
    Ok(format!(
        "the failed upload's three attempts became one archived failure under \
         call-center-starter, classified {} from the function's own NotFound, with the S3 \
         event kept for `fleet dlq replay {REQUEST_ID}`",
        item.class.as_str()
    ))
}
