//! The approval workflow on the local stand-in: the callback machine's test copy (moto cannot
//! run a Lambda task, so its task sends the same payload to an SQS queue, whose
//! `sendMessage.waitForTaskToken` gives a real task token), and the email's link followed as API
//! Gateway would deliver the request.

use serde_json::{json, Value};

use crate::{load_event, workspace_root};

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
