//! Rules of template.yaml that no linter checks: every function Lambda invokes asynchronously
//! (an `EventInvokeConfig`) sends its failures to the fleet's failure queue, and the queue's
//! policy lets exactly those functions' roles send (nobody can plant an event to be replayed).

use fleet_core::FromVars;
use fleet_testkit::workspace_root;
use std::collections::BTreeSet;

/// The template's top-level resources: (logical id, its lines).
fn resources(template: &str) -> Vec<(String, Vec<&str>)> {
    let body = template
        .split("\nResources:\n")
        .nth(1)
        .and_then(|rest| rest.split("\nOutputs:\n").next())
        .unwrap_or_else(|| panic!("template.yaml has no Resources section"));
    let mut out: Vec<(String, Vec<&str>)> = Vec::new();
    for line in body.lines() {
        let is_resource = line.len() > 2
            && line.starts_with("  ")
            && !line.starts_with("   ")
            && !line.trim_start().starts_with('#')
            && line.trim_end().ends_with(':');
        if is_resource {
            out.push((line.trim().trim_end_matches(':').to_owned(), Vec::new()));
        } else if let Some((_, lines)) = out.last_mut() {
            lines.push(line);
        }
    }
    out
}

#[test]
fn asynchronously_invoked_functions_report_to_the_failure_queue_and_only_they_may_send() {
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let resources = resources(&template);
    let asynchronous: BTreeSet<String> = resources
        .iter()
        .filter(|(_, lines)| lines.iter().any(|l| l.trim() == "EventInvokeConfig:"))
        .map(|(name, _)| name.clone())
        .collect();
    assert!(
        asynchronous.contains("Ec2SchedulerFunction"),
        "{asynchronous:?}"
    );
    for (name, lines) in &resources {
        if !asynchronous.contains(name) || name == "DlqHandlerFunction" {
            continue;
        }
        let text = lines.join("\n");
        assert!(
            text.contains("OnFailure:\n            Type: SQS\n            Destination: !GetAtt FailureQueue.Arn"),
            "{name} is invoked asynchronously but its failures do not go to FailureQueue"
        );
    }

    let (_, policy) = resources
        .iter()
        .find(|(name, _)| name == "FailureQueuePolicy")
        .unwrap_or_else(|| panic!("no FailureQueuePolicy"));
    let senders = |marker: &str| -> BTreeSet<String> {
        policy
            .iter()
            .skip_while(|l| !l.contains(marker))
            .skip(1)
            .skip_while(|l| !l.trim().starts_with("- !"))
            .take_while(|l| l.trim().starts_with("- !"))
            .map(|l| {
                // `!GetAtt XRole.Arn`, or `!If [Condition, !GetAtt XRole.Arn, !Ref AWS::NoValue]`
                // for a function deployed under a condition.
                let arn = l.split("!GetAtt ").nth(1).unwrap_or("");
                arn.split("Role.Arn").next().unwrap_or("").to_owned()
            })
            .collect()
    };
    let expected: BTreeSet<String> = asynchronous
        .into_iter()
        .filter(|name| name != "DlqHandlerFunction")
        .collect();
    assert_eq!(senders("Sid: FleetFunctionsSendFailures"), expected);
    assert_eq!(senders("Sid: NobodyElseSends"), expected);
}

/// The template's `ScheduleRate` pattern admits exactly the rates the scheduler accepts at init,
/// so a stack cannot be deployed with a rate its function then refuses (or that would overflow).
#[test]
fn the_schedule_rate_pattern_matches_what_the_scheduler_accepts() {
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let parameters = template.split("\nResources:\n").next().unwrap_or_default();
    let pattern = parameters
        .split("\n  ScheduleRate:\n")
        .nth(1)
        .and_then(|rest| {
            rest.lines()
                .find_map(|l| l.trim().strip_prefix("AllowedPattern: "))
        })
        .expect("ScheduleRate has an AllowedPattern");
    let pattern = regex_lite::Regex::new(pattern).unwrap();
    let mut accepted = 0;
    for count in 0..=3000u64 {
        for unit in ["minute", "minutes", "hour", "hours", "day", "days", "weeks"] {
            let rate = format!("rate({count} {unit})");
            let by_function = ec2_scheduler::config::parse_rate(&rate).is_some();
            assert_eq!(pattern.is_match(&rate), by_function, "{rate}");
            accepted += usize::from(by_function);
        }
    }
    // 1440 minutes in both spellings, 24 hours in both, and 1 day in both.
    assert_eq!(accepted, 2 * (1440 + 24 + 1));
    assert!(!pattern.is_match("cron(0 8 * * ? *)"));
}

/// The tagging policy's role denies CreateTags for every key the function refuses to write, so
/// not even a bug in the function could make it schedule a termination.
#[test]
fn the_tagging_policy_may_never_write_the_protected_keys() {
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let resources = resources(&template);
    let (_, lines) = resources
        .iter()
        .find(|(name, _)| name == "TaggingPolicyFunction")
        .expect("TaggingPolicyFunction");
    let body = lines.join("\n");
    let deny = body
        .split("- Sid: NeverWriteProtectedTags")
        .nth(1)
        .and_then(|rest| rest.split("- Sid:").next())
        .expect("a NeverWriteProtectedTags statement");
    assert!(deny.contains("Effect: Deny"), "{deny}");
    assert!(deny.contains("Action: ec2:CreateTags"), "{deny}");
    assert!(
        deny.contains("ForAnyValue:StringEqualsIgnoreCase:"),
        "{deny}"
    );
    let keys = tagging_policy::rules::ALWAYS_PROTECTED_TAG_KEYS;
    // Both branches of the condition (with and without extra keys) name every built-in key.
    assert!(
        deny.contains(&format!(
            "!Sub \"{},${{ExtraProtectedTagKeys}}\"",
            keys.join(",")
        )),
        "{deny}"
    );
    assert!(deny.contains(&format!("[{}]", keys.join(", "))), "{deny}");
    assert!(body.contains("PROTECTED_TAG_KEYS: !Ref ExtraProtectedTagKeys"));
}

/// The scheduler may delete only the ScheduleError key, only on scheduled instances; its notes and
/// event records expire through the table's TTL; the TTL parameter has the config's bounds.
#[test]
fn the_scheduler_deletes_only_schedule_error_and_its_state_expires() {
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let resources = resources(&template);
    let body = |name: &str| {
        resources
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name}"))
            .1
            .join("\n")
    };
    let function = body("Ec2SchedulerFunction");
    let delete = function
        .split("- Sid: RemoveStaleScheduleError")
        .nth(1)
        .and_then(|rest| rest.split("- Sid:").next())
        .expect("a RemoveStaleScheduleError statement");
    assert!(delete.contains("Action: ec2:DeleteTags"), "{delete}");
    assert!(
        delete.contains("aws:ResourceTag/Schedule: \"*\""),
        "{delete}"
    );
    assert!(
        delete
            .contains("ForAllValues:StringEquals:\n                  aws:TagKeys: [ScheduleError]"),
        "{delete}"
    );
    assert_eq!(function.matches("ec2:DeleteTags").count(), 1);
    assert!(function.contains("PENDING_ACTION_TTL_MINUTES: !Ref PendingActionTtlMinutes"));
    let table = body("SchedulerStateTable");
    assert!(
        table.contains(
            "TimeToLiveSpecification:\n        AttributeName: ExpiresAt\n        Enabled: true"
        ),
        "{table}"
    );
    let head: String = template
        .split("  PendingActionTtlMinutes:\n")
        .nth(1)
        .expect("the PendingActionTtlMinutes parameter")
        .lines()
        .take(5)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        head.contains("MinValue: 1") && head.contains("MaxValue: 1440"),
        "{head}"
    );
    for (value, ok) in [("0", false), ("1", true), ("1440", true), ("1441", false)] {
        let config = ec2_scheduler::config::Config::from_vars(&[
            ("STATE_TABLE", "t"),
            ("PENDING_ACTION_TTL_MINUTES", value),
        ]);
        assert_eq!(config.is_ok(), ok, "{value}");
    }
}

/// Runs of the scheduler and the tagging policy never overlap: reserved concurrency when the
/// account allows it (ReserveConcurrency), and each touches only its own keys of the shared
/// state table, where its lease and event ledger live.
#[test]
fn serial_functions_reserve_concurrency_on_request_and_keep_to_their_keys() {
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    assert!(
        !template.contains("ReservedConcurrentExecutions: 1\n"),
        "a fixed reservation fails to deploy in accounts at the default quota"
    );
    let resources = resources(&template);
    for (function, prefix) in [
        (
            "Ec2SchedulerFunction",
            "[\"ec2-scheduler\", \"ec2-scheduler#*\"]",
        ),
        ("TaggingPolicyFunction", "[\"tagging-policy#*\"]"),
    ] {
        let body = resources
            .iter()
            .find(|(n, _)| n == function)
            .unwrap_or_else(|| panic!("{function}"))
            .1
            .join("\n");
        assert!(
            body.contains(
                "ReservedConcurrentExecutions: !If [ReservesConcurrency, 1, !Ref AWS::NoValue]"
            ),
            "{function}"
        );
        assert!(
            body.contains("STATE_TABLE: !Ref SchedulerStateTable"),
            "{function}"
        );
        assert!(
            body.contains(&format!("dynamodb:LeadingKeys: {prefix}")),
            "{function} keeps to its own keys"
        );
    }
}
