//! The approval worker: the seed's promotion input started on the callback machine (its local
//! test copy: the stand-in cannot run a Lambda task, so the task sends the same payload to an SQS
//! queue with a real task token), the callback handler storing the request and emailing the
//! manager, the email's link looked at (GET: a page, nothing decided) and approved (POST), and
//! the execution ending SUCCEEDED with the decision as its output.

use approval_worker::config::Config;
use aws_sdk_sfn::types::ExecutionStatus;
use fleet_core::{Env, EventHandler, HttpHandler};
use fleet_testkit::approval::{link_in, request_for, CallbackMachine};
use fleet_testkit::ses::ses_messages;
use fleet_testkit::Moto;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};

use super::{config, ensure, Outcome};

const SEED_INPUT: &str = r#"{"managerEmailAddress": "manager@example.com", "employeeName": "Jim"}"#;

pub async fn run(moto: &Moto) -> Outcome {
    moto.configure(json!({"stepfunctions": {"execute_state_machine": true}}));
    let sdk = moto.sdk_config();
    let machine = CallbackMachine::create(&sdk).await;
    let callback_config: Config = config(moto, "approval-callback", &[])?;
    let responder_config: Config = config(moto, "approval-responder", &[])?;
    let callback = approval_worker::wire_callback(&sdk, callback_config, Env::system())
        .await
        .map_err(|e| e.to_string())?;
    let responder = approval_worker::wire_responder(&sdk, responder_config, Env::system())
        .await
        .map_err(|e| e.to_string())?;

    let input: Value = serde_json::from_str(SEED_INPUT).map_err(|e| e.to_string())?;
    let execution = machine.start("promote-jim", &input).await;
    println!("Started execution promote-jim with {SEED_INPUT}");

    let payload = machine.next_payload().await;
    let stored = callback
        .handle(LambdaEvent::new(payload, Context::default()))
        .await
        .map_err(|e| format!("the callback handler failed: {e}"))?;
    println!(
        "The callback handler stored request {} and emailed the manager.",
        stored.request_id
    );
    let mail = ses_messages(moto);
    let email = mail.first().ok_or("no email was sent")?;
    let link = link_in(&email.body);
    println!(
        "Email from {} to {}: \"{}\"\n  link: {link}",
        email.source,
        email.to.join(", "),
        email.subject
    );

    // A mail scanner (or the manager) opening the link: a page, no decision.
    for sample in ["04-get-request.json", "05-head-request.json"] {
        let page = responder.handle(request_for(sample, &link)).await;
        ensure(page.status() == 200, || {
            format!("{sample} answered {}", page.status())
        })?;
    }
    let running = machine.execution(&execution).await.status;
    println!(
        "GET and HEAD of the link: the approval page (200); the execution is still {running:?}."
    );
    ensure(running == ExecutionStatus::Running, || {
        format!("looking at the link changed the execution to {running:?}")
    })?;

    let page = responder
        .handle(request_for("06-post-approve.json", &link))
        .await;
    let html = String::from_utf8_lossy(page.body().as_ref()).into_owned();
    println!(
        "POST approve (comment \"Well deserved! <b>congrats</b>\"): {} {}",
        page.status(),
        if html.contains("Approved — thank you") {
            "\"Approved — thank you\""
        } else {
            ""
        }
    );
    ensure(
        page.status() == 200 && html.contains("Approved — thank you"),
        || format!("the approval answered {}", page.status()),
    )?;

    let done = machine.finished(&execution).await;
    println!(
        "Execution promote-jim: {:?}, output {}",
        done.status,
        done.output().unwrap_or("none")
    );
    let output: Value = done
        .output()
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or_default();
    ensure(done.status == ExecutionStatus::Succeeded, || {
        format!("the execution ended {:?}", done.status)
    })?;
    ensure(
        output["decision"] == "approved" && output["approver"] == "manager@example.com",
        || format!("the execution's output is {output}"),
    )?;
    Ok(
        "the manager was emailed once, opening the link decided nothing, the POST approved, \
        and the execution succeeded with the decision, approver and comment as its output"
            .into(),
    )
}
