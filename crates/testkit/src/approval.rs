//! The approval workflow on the local stand-in: the callback machine's test copy (moto cannot
//! run a Lambda task, so its task sends the same payload to an SQS queue, whose
//! `sendMessage.waitForTaskToken` gives a real task token), and the email's link followed as API
//! Gateway would deliver the request.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::{load_event, workspace_root, ACCOUNT_ID};

/// The callback machine's test copy in the stand-in (which must run executions: `Moto::configure`
/// with `{"stepfunctions":{"execute_state_machine":true}}` first), with the queue its task sends
/// the Lambda task's payload to.
pub struct CallbackMachine {
    pub sfn: aws_sdk_sfn::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub machine_arn: String,
}

impl CallbackMachine {
    pub async fn create(sdk: &aws_config::SdkConfig) -> CallbackMachine {
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let queue_url = sqs
            .create_queue()
            .queue_name("approval-callback-payloads")
            .send()
            .await
            .unwrap_or_else(|e| panic!("the payload queue: {e:?}"))
            .queue_url
            .unwrap_or_default();
        let sfn = aws_sdk_sfn::Client::new(sdk);
        let machine_arn = sfn
            .create_state_machine()
            .name("PromotionApprovalCallbackTestCopy")
            .definition(callback_machine_test_copy(&queue_url))
            .role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/states"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("the callback machine's test copy: {e:?}"))
            .state_machine_arn;
        CallbackMachine {
            sfn,
            sqs,
            queue_url,
            machine_arn,
        }
    }

    /// Starts an execution named `name` with `input`; its ARN.
    pub async fn start(&self, name: &str, input: &Value) -> String {
        self.sfn
            .start_execution()
            .state_machine_arn(&self.machine_arn)
            .name(name)
            .input(input.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("starting {name}: {e:?}"))
            .execution_arn
    }

    /// The next payload the machine queued (what the Lambda task would have been invoked with),
    /// taken off the queue; waits up to 20 s.
    pub async fn next_payload(&self) -> Value {
        let started = Instant::now();
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap_or_else(|e| panic!("receiving a payload: {e:?}"));
            if let Some(message) = out.messages().first() {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("deleting a payload: {e:?}"));
                let body = message.body().unwrap_or_default();
                return serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"));
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the machine queued no payload within 20 s"
            );
        }
    }

    pub async fn execution(
        &self,
        arn: &str,
    ) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
        self.sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("describing {arn}: {e:?}"))
    }

    /// The execution once it is no longer running; waits up to 20 s.
    pub async fn finished(
        &self,
        arn: &str,
    ) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
        let started = Instant::now();
        loop {
            let out = self.execution(arn).await;
            if out.status != aws_sdk_sfn::types::ExecutionStatus::Running {
                return out;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{arn} still running after 20 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The template's callback machine with its Lambda task turned into an SQS task that sends the
/// same payload to `queue_url`.
pub fn callback_machine_test_copy(queue_url: &str) -> String {
    let path = workspace_root()
        .join("crates/approval-worker/statemachines/promotion-approval-callback.asl.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .replace(
            "${CallbackFunctionArn}",
            "arn:aws:lambda:eu-west-1:123456789012:function:approval-callback",
        );
    let mut definition: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let task = &mut definition["States"]["WaitForApproval"];
    assert_eq!(
        task["Resource"], "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "the callback machine's task is a Lambda invoke with a task token"
    );
    let payload = task["Parameters"]["Payload"].take();
    task["Resource"] = json!("arn:aws:states:::sqs:sendMessage.waitForTaskToken");
    task["Parameters"] = json!({"QueueUrl": queue_url, "MessageBody": payload});
    definition.to_string()
}

/// The first link (`href`) in an email's HTML.
pub fn link_in(html: &str) -> String {
    let start = html.find("href=\"").map_or(html.len(), |i| i + 6);
    let end = start + html[start..].find('"').unwrap_or(0);
    html[start..end].to_owned()
}

/// The API Gateway (HTTP API) request of an `events/approval-worker/` sample, pointed at
/// `link`'s path and signature.
pub fn request_for(sample: &str, link: &str) -> lambda_http::Request {
    let rest = link
        .split_once(".amazonaws.com")
        .map_or(link, |(_, rest)| rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let sig = query.strip_prefix("sig=").unwrap_or_default();
    let mut event = load_event(&format!("approval-worker/{sample}"));
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["queryStringParameters"] = json!({"sig": sig});
    event["pathParameters"] = json!({"id": path.rsplit('/').next().unwrap_or_default()});
    lambda_http::request::from_str(&event.to_string())
        .unwrap_or_else(|e| panic!("approval-worker/{sample}: {e}"))
}
