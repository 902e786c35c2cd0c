//! The `fleet` binary, run as an operator would.

use fleet_testkit::seed::{create_fleet, EXAMPLE_FLEET};
use fleet_testkit::Moto;
use serde_json::{json, Value};
use std::process::Command;

fn fleet(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fleet"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn explain(args: &[&str]) -> Value {
    let mut all = vec!["schedule", "explain"];
    all.extend_from_slice(args);
    let (ok, stdout, stderr) = fleet(&all);
    assert!(ok, "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn explain_prints_one_json_object() {
    let v = explain(&[
        "--tag",
        "08:00-19:15",
        "--at",
        "2026-11-23T08:05:00Z",
        "--state",
        "stopped",
    ]);
    assert_eq!(v["valid"], true);
    assert_eq!(v["action"], "start");
    assert_eq!(v["rewrite_tag"], Value::Null);
    assert!(v["reason"]
        .as_str()
        .unwrap()
        .contains("start due at 2026-11-23T08:00:00+00:00"));
    assert_eq!(v.as_object().unwrap().len(), 4);

    // without --state the due action is printed whatever the state
    assert_eq!(
        explain(&["--tag", "08:00-19:15", "--at", "2026-11-23T19:20:00Z"])["action"],
        "stop"
    );
    assert_eq!(
        explain(&[
            "--tag",
            "08:00-19:15",
            "--at",
            "2026-11-23T19:20:00Z",
            "--state",
            "stopped"
        ])["action"],
        "none"
    );
    // --last-run widens the window (missed ticks)
    assert_eq!(
        explain(&[
            "--tag",
            "08:00-19:15",
            "--at",
            "2026-11-23T20:00:00Z",
            "--last-run",
            "2026-11-23T07:00:00Z"
        ])["action"],
        "stop"
    );
    assert_eq!(
        explain(&["--tag", "08:00-19:15", "--at", "2026-11-23T20:00:00Z"])["action"],
        "none"
    );
}

#[test]
fn explain_one_offs_and_invalid_values() {
    let v = explain(&[
        "--tag",
        "-19:15T",
        "--at",
        "2026-11-23T19:20:00Z",
        "--state",
        "running",
    ]);
    assert_eq!(
        (v["action"].clone(), v["rewrite_tag"].clone()),
        (json!("terminate"), json!("#-19:15T"))
    );
    // -18:30T first seen by the 18:40 run (window from 18:30): dropped, never carried out.
    let late = explain(&["--tag", "-18:30T", "--at", "2026-11-23T18:40:00Z"]);
    assert_eq!(
        (late["action"].clone(), late["rewrite_tag"].clone()),
        (json!("none"), json!("#-18:30T"))
    );
    assert!(late["reason"].as_str().unwrap().starts_with("dropped"));
    // The same tag first seen at 12:00 (--first-seen: that run's window start) fires at 18:30.
    let noon = explain(&[
        "--tag",
        "-18:30T",
        "--at",
        "2026-11-23T18:30:00Z",
        "--first-seen",
        "2026-11-23T11:50:00Z",
    ]);
    assert_eq!(noon["action"], "terminate");
    let v = explain(&["--tag", "nine to five", "--at", "2026-11-23T19:20:00Z"]);
    assert_eq!(v["valid"], false);
    assert_eq!(v["action"], "none");
    assert_eq!(v["rewrite_tag"], "#nine to five");
    assert!(v["reason"]
        .as_str()
        .unwrap()
        .starts_with("invalid Schedule tag"));
}

#[test]
fn bad_arguments_are_refused_clearly() {
    let (ok, _, stderr) = fleet(&["schedule", "explain", "--tag", "x", "--at", "monday"]);
    assert!(!ok);
    assert!(stderr.contains("--at"), "{stderr}");
    let (ok, _, stderr) = fleet(&[
        "schedule",
        "explain",
        "--tag",
        "x",
        "--at",
        "2026-11-23T08:00:00Z",
        "--state",
        "asleep",
    ]);
    assert!(!ok);
    assert!(stderr.contains("expected pending, running"), "{stderr}");
}

#[test]
fn a_bad_sdk_attempt_timeout_ends_an_aws_command_naming_it_before_any_call() {
    // No stand-in: the command must stop at the setting, before reaching for AWS.
    let out = Command::new(env!("CARGO_BIN_EXE_fleet"))
        .args(["schedule", "plan", "--at", "2026-11-23T08:00:00Z"])
        .env("SDK_ATTEMPT_TIMEOUT_SECONDS", "0")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "eu-west-1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("SDK_ATTEMPT_TIMEOUT_SECONDS"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_reads_the_stand_in_and_changes_nothing() {
    let moto = Moto::start();
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config());
    let ids = create_fleet(&ec2, &EXAMPLE_FLEET).await;
    let out = Command::new(env!("CARGO_BIN_EXE_fleet"))
        .args(["schedule", "plan", "--at", "2026-11-23T08:00:00Z"])
        .envs(moto.env())
        .env_remove("STATE_TABLE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("read-only"), "{stdout}");
    let web1 = stdout
        .lines()
        .find(|l| l.starts_with(ids["web-1"].as_str()))
        .unwrap();
    assert!(
        web1.contains("web-1") && web1.contains(" start ") && web1.contains("instance is stopped"),
        "{web1}"
    );
    let typo = stdout
        .lines()
        .find(|l| l.starts_with(ids["typo-box"].as_str()))
        .unwrap();
    assert!(typo.contains("tag becomes \"#9to5\""), "{typo}");
    assert!(stdout.contains("20 instances: start 2"), "{stdout}");
    // read-only: web-1 is still stopped
    let described = fleet_testkit::seed::instances(&ec2).await;
    assert_eq!(described[&ids["web-1"]].0, "stopped");
}

#[tokio::test(flavor = "multi_thread")]
async fn tagging_plan_and_rules_validate_read_the_stand_in_and_change_nothing() {
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    fleet_testkit::seed::create_rules_table(&ddb, "rules").await;
    let web = fleet_testkit::seed::launch_instance(&ec2, &[("Name", "web")], None).await;
    let bare = fleet_testkit::seed::launch_instance(&ec2, &[], None).await;
    let before = fleet_testkit::seed::instances(&ec2).await;
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_fleet"))
            .args(args)
            .envs(moto.env())
            .env("RULES_TABLE", "rules")
            .env("GRACE_MINUTES", "0")
            .output()
            .unwrap()
    };

    let out = run(&["tagging", "rules", "validate"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(
        stdout,
        "Rules table rules: 3 usable, 0 skipped\n\
         \x20 rule 1: ProjectCode required (missing or empty is a violation), Update to \"Proj007\"\n\
         \x20 rule 2: CreatedBy required (missing or empty is a violation), UserLookup (who launched it)\n\
         \x20 rule 3: Expires optional (only an empty value is a violation), Function today()\n"
    );

    let out = run(&[
        "tagging",
        "plan",
        "--no-lookup",
        "--untagged-action",
        "terminate",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout
            .lines()
            .next()
            .unwrap()
            .ends_with("(scheduled sweep) — DRY RUN, nothing was changed"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("{web} (web) running:\n  ProjectCode missing → set \"Proj007\" (rule 1, Update: the rule's Default): planned\n  CreatedBy missing → not set (rule 2, UserLookup: who launched it): FAILED NotLookedUp: --no-lookup was given")), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "{bare} (no Name) running:\n  no tags at all → terminate: planned"
        )),
        "{stdout}"
    );
    assert_eq!(
        fleet_testkit::seed::instances(&ec2).await,
        before,
        "read-only"
    );

    // A bad row makes validate fail and name the row.
    ddb.put_item()
        .table_name("rules")
        .item(
            "RuleId",
            aws_sdk_dynamodb::types::AttributeValue::N("4".into()),
        )
        .item(
            "TagKey",
            aws_sdk_dynamodb::types::AttributeValue::S("Owner".into()),
        )
        .item(
            "Action",
            aws_sdk_dynamodb::types::AttributeValue::S("Delete".into()),
        )
        .item(
            "Required",
            aws_sdk_dynamodb::types::AttributeValue::S("Y".into()),
        )
        .send()
        .await
        .unwrap();
    let out = run(&["tagging", "rules", "validate"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.starts_with("Rules table rules: 3 usable, 1 skipped\n"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(
            "  rule 4: SKIPPED, unknown action \"Delete\" (known: Update, UserLookup, Function)\n"
        ),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dlq_and_calls_read_their_tables_on_the_stand_in() {
    let moto = Moto::start();
    let ddb = aws_sdk_dynamodb::Client::new(&moto.sdk_config());
    let archive_index = (dlq_handler::aws::WINDOW_INDEX, "Window", "Id");
    fleet_testkit::seed::create_indexed_table(&ddb, "archive", "Id", archive_index).await;
    let calls_index = (call_center::aws::STATUS_INDEX, "Status", "CreatedAt");
    fleet_testkit::seed::create_indexed_table(&ddb, "calls", "CallId", calls_index).await;
    let approvals_key = aws_sdk_dynamodb::types::ScalarAttributeType::S;
    fleet_testkit::seed::create_table(&ddb, "approvals", "RequestId", approvals_key).await;
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_fleet"))
            .args(args)
            .envs(moto.env())
            .env("DLQ_ARCHIVE_TABLE", "archive")
            .env("CALLS_TABLE", "calls")
            .env("APPROVALS_TABLE", "approvals")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (ok, stdout, stderr) = run(&["dlq", "list", "--class", "timeout"]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "No archived failures match.\n");
    let (ok, _, stderr) = run(&["dlq", "show", "no-such-id"]);
    assert!(!ok);
    assert!(
        stderr.starts_with("fleet dlq: ") && stderr.contains("no-such-id"),
        "{stderr}"
    );
    // A bulk replay needs a selection; a bad class is refused before anything is read.
    let (ok, _, stderr) = run(&["dlq", "replay"]);
    assert!(!ok && stderr.contains("required arguments"), "{stderr}");
    let (ok, _, stderr) = run(&["dlq", "replay", "--class", "gremlins"]);
    assert!(!ok && stderr.contains("gremlins"), "{stderr}");

    let (ok, stdout, stderr) = run(&["calls", "list", "--sentiment", "negative"]);
    assert!(ok, "{stderr}");
    assert!(!stdout.contains("CallId"), "{stdout}");
    let (ok, _, stderr) = run(&["calls", "show", "call-404"]);
    assert!(!ok);
    assert_eq!(stderr, "fleet calls: no call call-404\n");
    let (ok, _, stderr) = run(&["calls", "list", "--sentiment", "grumpy"]);
    assert!(!ok && stderr.contains("expected POSITIVE"), "{stderr}");

    let (ok, stdout, stderr) = run(&["approvals", "list"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("No pending"), "{stdout}");
    let (ok, stdout, stderr) = run(&["approvals", "show", "req-404"]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "No approval request req-404.\n");
}
