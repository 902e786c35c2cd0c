//! Replay and the `fleet dlq` texts on in-memory adapters: what is sent (the original event,
//! asynchronously, to the function's current code), what is refused and why, `--force`,
//! `--dry-run`, confirmation, `--rate`, partial failures, `list`, `show`, `resolve`.

mod common;

use common::{invocation, t, Harness, QUEUE, SCHEDULER, TAGGING};
use dlq_handler::classify::FailureClass;
use dlq_handler::cli::{self, CliError, ListArgs, ReplayArgs};
use dlq_handler::lambda_shapes::{
    destination_record, diagnostic, dlq_attributes, sqs_event, sqs_record,
};
use dlq_handler::memory::{RecordingInvoker, RecordingPause};
use dlq_handler::model::Status;
use dlq_handler::replay::{Rate, ReplayError, Since};
use fleet_core::EventHandler;
use fleet_core::{ErrorClass, HandlerError, ServiceError};
use serde_json::{json, Value};
use std::time::Duration;

fn cloudtrail(n: usize) -> Value {
    json!({"source": "aws.ec2", "detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": "RunInstances", "n": n}})
}

fn scheduled() -> Value {
    json!({"source": "aws.events", "detail-type": "Scheduled Event", "time": "2026-11-23T09:00:00Z", "detail": {}})
}

fn record(id: &str, function: &str, event: &Value, class: ErrorClass) -> Value {
    let error = HandlerError::new(class, format!("{class} happened"));
    let r = destination_record(
        function,
        id,
        event,
        &diagnostic(&error),
        3,
        t("2026-11-23T09:04:00Z"),
    );
    sqs_record(
        &format!("m-{id}"),
        QUEUE,
        &r.to_string(),
        &[],
        t("2026-11-23T09:04:01Z"),
    )
}

/// The harness with: t-1..t-5 throttled tagging failures, s-1 a scheduler failure of a scheduled
/// event, c-1 a misconfigured tagging failure, u-1 a DLQ message of an unmapped queue, and an
/// unparseable message.
async fn archive() -> Harness {
    let h = Harness::new();
    let mut records: Vec<Value> = (1..=5)
        .map(|n| {
            record(
                &format!("t-{n}"),
                TAGGING,
                &cloudtrail(n),
                ErrorClass::Throttled,
            )
        })
        .collect();
    records.push(record(
        "s-1",
        SCHEDULER,
        &scheduled(),
        ErrorClass::Unavailable,
    ));
    records.push(record(
        "c-1",
        TAGGING,
        &cloudtrail(9),
        ErrorClass::InvalidConfig,
    ));
    records.push(sqs_record(
        "m-u-1",
        "arn:aws:sqs:eu-west-1:123456789012:unmapped-dlq",
        &cloudtrail(10).to_string(),
        &dlq_attributes("u-1", 200, "Task timed out after 3.00 seconds"),
        t("2026-11-23T09:04:01Z"),
    ));
    records.push(sqs_record(
        "m-raw",
        QUEUE,
        "not json",
        &[],
        t("2026-11-23T09:04:01Z"),
    ));
    let answer = h.app.handle(invocation(sqs_event(records))).await.unwrap();
    assert!(answer.failed_items().is_empty());
    h
}

struct Tools {
    invoker: RecordingInvoker,
    pause: RecordingPause,
}

fn tools() -> Tools {
    Tools {
        invoker: RecordingInvoker::default(),
        pause: RecordingPause::default(),
    }
}

async fn replay(
    h: &Harness,
    tools: &Tools,
    args: ReplayArgs,
    confirm: &mut dyn FnMut(&str) -> bool,
) -> Result<String, CliError> {
    cli::replay(
        &h.app.archive,
        &h.app.spill,
        &tools.invoker,
        &tools.pause,
        h.clock.as_ref(),
        &args,
        confirm,
    )
    .await
}

fn one(id: &str) -> ReplayArgs {
    ReplayArgs {
        id: Some(id.to_owned()),
        ..ReplayArgs::default()
    }
}

fn never(_: &str) -> bool {
    panic!("a single replay asks for no confirmation")
}

const TAGGING_UNQUALIFIED: &str =
    "arn:aws:lambda:eu-west-1:123456789012:function:cloudops-fleet-TaggingPolicyFunction-GhIjKl789012";

#[tokio::test]
async fn one_replay_sends_the_original_event_to_the_current_code_and_marks_it() {
    let h = archive().await;
    let tools = tools();
    let text = replay(&h, &tools, one("t-1"), &mut never).await.unwrap();
    assert_eq!(
        text,
        format!("Sent t-1 to {TAGGING_UNQUALIFIED} (request id replay-1); marked replayed.\n1 sent, 0 failed.\n")
    );
    let sent = tools.invoker.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].0, TAGGING_UNQUALIFIED,
        "no $LATEST qualifier: the fixed code runs"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&sent[0].1).unwrap(),
        cloudtrail(1)
    );
    let item = h
        .app
        .archive
        .items()
        .into_iter()
        .find(|i| i.id == "t-1")
        .unwrap();
    assert_eq!(item.status, Status::Replayed);
    assert_eq!(item.replay_request_ids, ["replay-1"]);
    assert_eq!(item.replayed_at, Some(t("2026-11-23T09:05:00Z")));

    // Again: refused, unless forced.
    let err = replay(&h, &tools, one("t-1"), &mut never)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("already replayed at 2026-11-23T09:05:00+00:00 (--force to send again)"),
        "{err}"
    );
    let forced = ReplayArgs {
        force: true,
        ..one("t-1")
    };
    replay(&h, &tools, forced, &mut never).await.unwrap();
    assert_eq!(tools.invoker.sent().len(), 2);
    assert!(matches!(
        replay(&h, &tools, one("nope"), &mut never).await,
        Err(CliError::Replay(ReplayError::NotFound(_)))
    ));
}

#[tokio::test]
async fn refusals_say_why_and_only_some_give_way_to_force() {
    let h = archive().await;
    let tools = tools();
    for (id, force, reason) in [
        (
            "s-1",
            true,
            "a scheduled event (time 2026-11-23T09:00:00Z) means \"run at that instant\"",
        ),
        ("u-1", true, "the function is unknown"),
        (
            "raw-m-raw",
            true,
            "an unparseable message has no event to replay",
        ),
        ("c-1", false, "Misconfiguration would fail the same way"),
    ] {
        let args = ReplayArgs { force, ..one(id) };
        let err = replay(&h, &tools, args, &mut never).await.unwrap_err();
        assert!(matches!(err, CliError::Refused(_)), "{id}: {err:?}");
        assert!(err.to_string().contains(reason), "{id}: {err}");
    }
    assert!(tools.invoker.sent().is_empty());
    let forced = ReplayArgs {
        force: true,
        ..one("c-1")
    };
    let text = replay(&h, &tools, forced, &mut never).await.unwrap();
    assert!(text.starts_with("Sent c-1 to"), "{text}");
}

#[tokio::test]
async fn a_bulk_replay_shows_its_plan_asks_and_keeps_the_rate() {
    let h = archive().await;
    let tools = tools();
    let bulk = ReplayArgs {
        function: Some("cloudops-fleet-TaggingPolicyFunction-GhIjKl789012".into()),
        rate: "5/s".parse().unwrap(),
        ..ReplayArgs::default()
    };
    let mut asked = Vec::new();
    let text = replay(&h, &tools, bulk.clone(), &mut |plan| {
        asked.push(plan.to_owned());
        false
    })
    .await
    .unwrap();
    assert!(tools.invoker.sent().is_empty(), "declined: nothing sent");
    assert!(text.ends_with("Cancelled: nothing sent.\n"), "{text}");
    assert_eq!(asked.len(), 1);
    let plan = &asked[0];
    assert!(
        plan.starts_with("Replay plan: 5 to send at 5/s, 1 refused.\n"),
        "{plan}"
    );
    assert_eq!(
        plan.lines().filter(|l| l.starts_with("SEND  t-")).count(),
        5,
        "{plan}"
    );
    assert!(
        plan.lines().any(|l| l.starts_with("SKIP  c-1")
            && l.contains("Misconfiguration would fail the same way")),
        "{plan}"
    );

    let dry = ReplayArgs {
        dry_run: true,
        ..bulk.clone()
    };
    let text = replay(&h, &tools, dry, &mut never).await.unwrap();
    assert!(text.ends_with("Dry run: nothing sent.\n"), "{text}");
    assert!(tools.invoker.sent().is_empty());

    let text = replay(&h, &tools, bulk.clone(), &mut |_| true)
        .await
        .unwrap();
    assert!(text.ends_with("5 sent, 0 failed.\n"), "{text}");
    assert_eq!(tools.invoker.sent().len(), 5);
    assert_eq!(
        tools.pause.pauses(),
        vec![Duration::from_millis(200); 4],
        "5/s: 200 ms between invokes"
    );

    // Replayed items are no longer `new`: a second bulk replay finds only the refused one.
    let yes = ReplayArgs { yes: true, ..bulk };
    let text = replay(&h, &tools, yes, &mut never).await.unwrap();
    assert!(text.ends_with("Nothing to send.\n"), "{text}");
    let unbounded = ReplayArgs::default();
    assert!(matches!(
        replay(&h, &tools, unbounded, &mut never).await,
        Err(CliError::Replay(ReplayError::Unbounded))
    ));
}

#[tokio::test]
async fn a_failed_invoke_does_not_stop_the_others_and_leaves_its_item_new() {
    let h = archive().await;
    let tools = tools();
    tools.invoker.fail(
        TAGGING_UNQUALIFIED,
        ServiceError::new(
            "Lambda",
            ErrorClass::Throttled,
            "TooManyRequestsException: Rate Exceeded.",
        ),
    );
    let bulk = ReplayArgs {
        class: Some(FailureClass::Throttled),
        yes: true,
        ..ReplayArgs::default()
    };
    let err = replay(&h, &tools, bulk, &mut never).await.unwrap_err();
    let CliError::Failed(report) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        report
            .lines()
            .filter(|l| l.starts_with("Not sent t-"))
            .count(),
        5,
        "{report}"
    );
    assert!(
        report.contains("TooManyRequestsException: Rate Exceeded."),
        "{report}"
    );
    assert!(report.ends_with("0 sent, 5 failed.\n"), "{report}");
    assert!(h
        .app
        .archive
        .items()
        .iter()
        .filter(|i| i.id.starts_with("t-"))
        .all(|i| i.status == Status::New));
}

#[tokio::test]
async fn a_spilled_event_is_read_back_for_show_and_replay() {
    let mut h = Harness::new();
    h.app.settings.inline_bytes = 64;
    let big = json!({"source": "aws.s3", "blob": "y".repeat(500)});
    h.app
        .handle(invocation(sqs_event(vec![record(
            "big-1",
            TAGGING,
            &big,
            ErrorClass::Unavailable,
        )])))
        .await
        .unwrap();
    let shown = cli::show(&h.app.archive, &h.app.spill, "big-1")
        .await
        .unwrap();
    assert!(shown.contains("Event (s3://spill-bucket/events/cloudops-fleet-TaggingPolicyFunction-GhIjKl789012/big-1.json, 529 bytes):"), "{shown}");
    assert!(shown.contains(&"y".repeat(500)), "{shown}");
    let tools = tools();
    replay(&h, &tools, one("big-1"), &mut never).await.unwrap();
    assert_eq!(tools.invoker.sent()[0].1, big.to_string());
}

#[tokio::test]
async fn list_show_and_resolve_read_as_an_operator_needs() {
    let h = archive().await;
    let all = cli::list(&h.app.archive, h.clock.as_ref(), &ListArgs::default())
        .await
        .unwrap();
    assert_eq!(all.lines().count(), 1 + 9 + 1, "{all}");
    assert!(all.starts_with("ID "), "{all}");
    assert!(all.ends_with("9 failure(s).\n"), "{all}");
    let args = ListArgs {
        class: Some(FailureClass::Misconfiguration),
        since: Some("1h".parse::<Since>().unwrap()),
        ..ListArgs::default()
    };
    let text = cli::list(&h.app.archive, h.clock.as_ref(), &args)
        .await
        .unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.lines().nth(1).unwrap().starts_with("c-1 "), "{text}");
    let later = ListArgs {
        since: Some(Since::At(t("2026-11-23T10:00:00Z"))),
        ..ListArgs::default()
    };
    assert_eq!(
        cli::list(&h.app.archive, h.clock.as_ref(), &later)
            .await
            .unwrap(),
        "No archived failures match.\n"
    );

    let shown = cli::show(&h.app.archive, &h.app.spill, "s-1")
        .await
        .unwrap();
    for line in [
        "Id             s-1",
        "Function       cloudops-fleet-Ec2SchedulerFunction-AbCdEf123456",
        "Class          DependencyFailure",
        "Error type     Unavailable",
        "Condition      RetriesExhausted",
        "Attempts       3",
        "Deliveries     1",
        "Status         new",
    ] {
        assert!(shown.contains(line), "{line:?} in\n{shown}");
    }
    assert!(
        shown.contains("Replayable     no: a scheduled event"),
        "{shown}"
    );
    assert!(
        shown.contains("\"detail-type\": \"Scheduled Event\""),
        "the event, pretty: {shown}"
    );
    let shown = cli::show(&h.app.archive, &h.app.spill, "t-2")
        .await
        .unwrap();
    assert!(
        shown.contains(&format!("Replayable     yes, to {TAGGING_UNQUALIFIED}")),
        "{shown}"
    );

    assert_eq!(
        cli::resolve(&h.app.archive, h.clock.as_ref(), "c-1")
            .await
            .unwrap(),
        "c-1 marked resolved.\n"
    );
    let item = h
        .app
        .archive
        .items()
        .into_iter()
        .find(|i| i.id == "c-1")
        .unwrap();
    assert_eq!(item.status, Status::Resolved);
    assert!(matches!(
        cli::resolve(&h.app.archive, h.clock.as_ref(), "nope").await,
        Err(CliError::Replay(ReplayError::NotFound(_)))
    ));
    assert_eq!(Rate::default().to_string(), "5/s");
}
