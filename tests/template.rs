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

/// The lines of the resource `name`, joined.
fn resource_body(resources: &[(String, Vec<&str>)], name: &str) -> String {
    resources
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name}"))
        .1
        .join("\n")
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
    let body = resource_body(&resources, "TaggingPolicyFunction");
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
    let body = |name: &str| resource_body(&resources, name);
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
        let body = resource_body(&resources, function);
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

/// Actions that AWS only grants on `"*"` (no resource-level permissions) and that may therefore
/// be allowed there without a condition, each with its reason. The README's security section
/// lists the same entries.
const BROAD_WRITES_ALLOWED: &[(&str, &str)] = &[
    (
        "states:SendTaskSuccess",
        "Step Functions task-token calls have no resource-level permissions; the token is the capability",
    ),
    (
        "states:SendTaskFailure",
        "Step Functions task-token calls have no resource-level permissions; the token is the capability",
    ),
];

/// Verbs that read or compute without changing anything in the account.
const READ_VERBS: &[&str] = &[
    "Describe",
    "Get",
    "List",
    "Lookup",
    "BatchGet",
    "Query",
    "Scan",
    "Detect",
    "BatchDetect",
    "Translate",
    "Receive",
];

/// Every IAM statement of the template as text: from its `- Sid:`/`- Effect:` line to the next
/// line indented no deeper than its dash.
fn statements(template: &str) -> Vec<String> {
    let lines: Vec<&str> = template.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if !(trimmed.starts_with("- Sid:") || trimmed.starts_with("- Effect:")) {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let mut chunk = vec![trimmed.trim_start_matches("- ").to_owned()];
        for next in &lines[i + 1..] {
            let t = next.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if next.len() - t.len() <= indent {
                break;
            }
            chunk.push(t.to_owned());
        }
        out.push(chunk.join("\n"));
    }
    out
}

/// The values of `key` in a statement: inline (`Action: a`, `Action: [a, b]`) or as a list.
fn values(statement: &str, key: &str) -> Vec<String> {
    let lines: Vec<&str> = statement.lines().collect();
    let Some(at) = lines.iter().position(|l| l.starts_with(&format!("{key}:"))) else {
        return Vec::new();
    };
    let inline = lines[at][key.len() + 1..].trim();
    if !inline.is_empty() {
        return inline
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(|v| v.trim().trim_matches('"').to_owned())
            .collect();
    }
    lines[at + 1..]
        .iter()
        .take_while(|l| l.starts_with("- "))
        .map(|l| {
            l.trim_start_matches("- ")
                .trim()
                .trim_matches('"')
                .to_owned()
        })
        .collect()
}

fn is_read_only(action: &str) -> bool {
    let verb = action.split(':').nth(1).unwrap_or(action);
    READ_VERBS.iter().any(|r| verb.starts_with(r))
}

/// No statement allows a write or mutating action on every resource without a condition that
/// narrows it, except the allowlisted actions; SMS is allowed only with NotResource on every
/// topic ARN, so no function can publish to an arbitrary topic.
#[test]
fn no_statement_grants_broad_writes() {
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let all = statements(&template);
    assert!(all.len() > 40, "found {} statements", all.len());
    let mut broad = Vec::new();
    for s in &all {
        if !s.contains("Effect: Allow") || s.contains("Condition:") {
            continue;
        }
        let everything = values(s, "Resource").iter().any(|r| r == "*");
        let not_resource = values(s, "NotResource");
        for action in values(s, "Action") {
            if action.contains('*') && !action.ends_with(":Get*") {
                broad.push(format!("wildcard action {action}: {s}"));
            }
            if is_read_only(&action) {
                continue;
            }
            if !not_resource.is_empty() {
                let sms_only = action == "sns:Publish"
                    && not_resource == ["!Sub arn:${AWS::Partition}:sns:*:*:*"];
                if !sms_only {
                    broad.push(format!("{action} with NotResource {not_resource:?}: {s}"));
                }
                continue;
            }
            if everything && !BROAD_WRITES_ALLOWED.iter().any(|(a, _)| *a == action) {
                broad.push(format!("{action} on \"*\": {s}"));
            }
        }
    }
    assert!(broad.is_empty(), "{}", broad.join("\n\n"));
    // Every SMS sender uses the SMS-only form.
    let sms: Vec<&String> = all
        .iter()
        .filter(|s| s.contains("Action: sns:Publish") && s.contains("NotResource:"))
        .collect();
    assert_eq!(
        sms.len(),
        3,
        "the OTP validator, the skill and the approval step-up send SMS"
    );
    // The README names the same exceptions.
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    for (action, _) in BROAD_WRITES_ALLOWED {
        assert!(
            readme.contains(&format!("`{action}`")),
            "README lists {action}"
        );
    }
}

/// The check itself catches what it is for.
#[test]
fn the_broad_write_check_flags_an_unconditioned_write_on_everything() {
    let sample = "Resources:\n  R:\n    Properties:\n      Policies:\n        - Statement:\n            - Sid: Bad\n              Effect: Allow\n              Action: [sns:Publish, ec2:DescribeInstances]\n              Resource: \"*\"\n            - Sid: Fine\n              Effect: Allow\n              Action: sns:Publish\n              Resource: \"*\"\n              Condition:\n                StringEquals:\n                  aws:RequestedRegion: eu-west-1\n";
    let found = statements(sample);
    assert_eq!(found.len(), 2);
    assert_eq!(
        values(&found[0], "Action"),
        ["sns:Publish", "ec2:DescribeInstances"]
    );
    assert_eq!(values(&found[0], "Resource"), ["*"]);
    assert!(!is_read_only("sns:Publish") && is_read_only("ec2:DescribeInstances"));
    assert!(found[1].contains("Condition:"));
}

/// Every API method is throttled at the stage (keyless ones too), and every API function has its
/// own reserved concurrency unless ApiReservedConcurrency is 0, so a flood on one API cannot
/// starve the others.
#[test]
fn every_api_is_throttled_and_every_api_function_reserves_concurrency() {
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let resources = resources(&template);
    let body = |name: &str| resource_body(&resources, name);
    let apis: Vec<&String> = resources
        .iter()
        .filter(|(_, lines)| {
            lines
                .iter()
                .any(|l| l.trim() == "Type: AWS::Serverless::Api")
        })
        .map(|(name, _)| name)
        .collect();
    assert_eq!(apis, ["RobotApi", "OtpApi"]);
    for api in apis {
        let api = body(api);
        assert!(
            api.contains(
                "MethodSettings:\n        - ResourcePath: \"/*\"\n          HttpMethod: \"*\"\n          ThrottlingRateLimit: !Ref ApiStageRateLimit\n          ThrottlingBurstLimit: !Ref ApiStageBurstLimit"
            ),
            "{api}"
        );
    }
    assert!(body("ApprovalApi").contains("DefaultRouteSettings:\n        ThrottlingRateLimit:"));
    for function in [
        "RobotPublisherFunction",
        "OtpValidatorFunction",
        "AlexaSkillFunction",
        "ApprovalResponderFunction",
    ] {
        assert!(
            body(function).contains("ReservedConcurrentExecutions: !If [HasApiReservedConcurrency, !Ref ApiReservedConcurrency, !Ref AWS::NoValue]"),
            "{function}"
        );
    }
    assert!(template
        .contains("HasApiReservedConcurrency: !Not [!Equals [!Ref ApiReservedConcurrency, 0]]"));
}

/// The value of the environment variable `name` in a function's body, as written.
fn env_value(function: &str, name: &str) -> Option<String> {
    function
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{name}: ")))
        .map(str::to_owned)
}

/// Issue 12, point 5: every function of the codes table has its own key prefix, its statements
/// on the table admit only items under it (`dynamodb:LeadingKeys`), and its own HMAC key; only
/// the OTP API's delivery step shares the API's. Point 3: the API sends no SMS itself, it queues.
#[test]
fn each_otp_function_keeps_to_its_own_codes_and_key() {
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let resources = resources(&template);
    let users: Vec<(&String, String)> = resources
        .iter()
        .map(|(name, lines)| (name, lines.join("\n")))
        .filter(|(_, body)| body.contains("CODES_TABLE: "))
        .collect();
    let names: Vec<&str> = users.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "OtpValidatorFunction",
            "OtpSmsSenderFunction",
            "AlexaSkillFunction",
            "ApprovalResponderFunction"
        ]
    );
    let mut keys = BTreeSet::new();
    for (name, body) in &users {
        let prefix = env_value(body, "CODES_KEY_PREFIX").unwrap_or_else(|| panic!("{name}"));
        let prefix = prefix
            .trim_start_matches("!If [ApprovalStepUp, ")
            .trim_end_matches(", !Ref AWS::NoValue]")
            .to_owned();
        let on_codes: Vec<String> = statements(body)
            .into_iter()
            .filter(|s| s.contains("Resource: !GetAtt OtpCodesTable.Arn"))
            .collect();
        assert_eq!(on_codes.len(), 1, "{name}: {on_codes:?}");
        assert!(
            on_codes[0].contains(&format!(
                "ForAllValues:StringLike:\ndynamodb:LeadingKeys: [\"{prefix}#*\"]"
            )),
            "{name}: {}",
            on_codes[0]
        );
        let key = env_value(body, "OTP_KEY_SECRET_ID").unwrap_or_else(|| panic!("{name}"));
        let key = key
            .trim_start_matches("!If [ApprovalStepUp, ")
            .trim_end_matches(", !Ref AWS::NoValue]")
            .to_owned();
        keys.insert((prefix, key));
    }
    let keys: Vec<(String, String)> = keys.into_iter().collect();
    assert_eq!(
        keys.len(),
        3,
        "one prefix and one key per function: {keys:?}"
    );
    let secrets: BTreeSet<&String> = keys.iter().map(|(_, k)| k).collect();
    assert_eq!(secrets.len(), 3, "{keys:?}");
    let api = resource_body(&resources, "OtpValidatorFunction");
    assert!(
        !api.contains("sns:Publish"),
        "the API queues; it sends no SMS"
    );
    assert!(api.contains("SEND_QUEUE_URL: !Ref OtpCodeRequestQueue"));
    assert!(resource_body(&resources, "OtpSmsSenderFunction").contains("Sid: SendSms"));
    let queue_policy = resource_body(&resources, "OtpCodeRequestQueuePolicy");
    assert!(queue_policy.contains("aws:PrincipalArn: !GetAtt OtpValidatorFunctionRole.Arn"));
    let alarm = resource_body(&resources, "OtpSmsDeliveryAlarm");
    assert!(alarm.contains("Value: !GetAtt OtpCodeRequestDeadLetterQueue.QueueName"));
}

/// Issue 12, point 1: the OTP API's resource policy denies every principal outside the
/// deploying account, except the ARNs listed in OtpApiCallerArns.
#[test]
fn the_otp_api_admits_only_the_account_and_listed_callers() {
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let resources = resources(&template);
    let api = resource_body(&resources, "OtpApi");
    let policy = api
        .split("ResourcePolicy:")
        .nth(1)
        .and_then(|rest| rest.split("Models:").next())
        .unwrap_or_else(|| panic!("OtpApi has no resource policy: {api}"));
    let deny = statements(policy)
        .into_iter()
        .find(|s| s.contains("Effect: Deny"))
        .unwrap_or_else(|| panic!("{policy}"));
    assert!(deny.contains("Principal: \"*\""), "{deny}");
    assert!(deny.contains("Action: execute-api:Invoke"), "{deny}");
    assert!(deny.contains("Resource: execute-api:/*"), "{deny}");
    assert_eq!(
        deny.matches("aws:PrincipalAccount: !Ref AWS::AccountId")
            .count(),
        2,
        "with and without listed callers: {deny}"
    );
    assert!(
        deny.contains("aws:PrincipalArn: !Ref OtpApiCallerArns"),
        "{deny}"
    );
}

/// Every function of the shared state table keeps to its own keys (`dynamodb:LeadingKeys`), and
/// the robot publisher may only increment its command counter (issue 12, point 7).
#[test]
fn every_state_table_user_keeps_to_its_own_keys() {
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let resources = resources(&template);
    let users: Vec<&str> = resources
        .iter()
        .filter(|(_, lines)| {
            lines
                .iter()
                .any(|l| l.trim() == "STATE_TABLE: !Ref SchedulerStateTable")
        })
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        users,
        [
            "Ec2SchedulerFunction",
            "TaggingPolicyFunction",
            "RobotPublisherFunction"
        ]
    );
    for user in users {
        let body = resource_body(&resources, user);
        for statement in statements(&body)
            .iter()
            .filter(|s| s.contains("Resource: !GetAtt SchedulerStateTable.Arn"))
        {
            assert!(
                statement.contains("dynamodb:LeadingKeys"),
                "{user}: {statement}"
            );
        }
    }
    let robot = resource_body(&resources, "RobotPublisherFunction");
    let on_table: Vec<String> = statements(&robot)
        .into_iter()
        .filter(|s| s.contains("SchedulerStateTable"))
        .collect();
    assert_eq!(on_table.len(), 1, "{on_table:?}");
    assert_eq!(values(&on_table[0], "Action"), ["dynamodb:UpdateItem"]);
    assert!(on_table[0].contains("dynamodb:LeadingKeys: [\"robot-publisher#sequence#*\"]"));
}

/// Issue 13, point 2: the skill's role starts and stops only instances tagged `AlexaControl`
/// with the `AlexaControlValue` parameter (default `true`), the value the function is told;
/// listing stays unconditioned.
#[test]
fn the_skill_may_change_only_opted_in_instances() {
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let resources = resources(&template);
    let skill = resource_body(&resources, "AlexaSkillFunction");
    let changes: Vec<String> = statements(&skill)
        .into_iter()
        .filter(|s| s.contains("ec2:StartInstances") || s.contains("ec2:StopInstances"))
        .collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(
        changes[0].contains("StringEquals:\naws:ResourceTag/AlexaControl: !Ref AlexaControlValue"),
        "{}",
        changes[0]
    );
    assert_eq!(
        env_value(&skill, "ALEXA_CONTROL_VALUE").as_deref(),
        Some("!Ref AlexaControlValue")
    );
    let parameter: String = template
        .split("  AlexaControlValue:\n")
        .nth(1)
        .expect("the AlexaControlValue parameter")
        .lines()
        .take(4)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(parameter.contains("Default: \"true\""), "{parameter}");
}

/// Issue 17, point 3: the robot publisher is told its IoT data endpoint when the stack knows it
/// (`IotDataEndpoint`), so a cold start does not ask DescribeEndpoint; the parameter accepts
/// exactly what `aws iot describe-endpoint --endpoint-type iot:Data-ATS` prints, or nothing.
#[test]
fn the_robot_is_told_its_iot_endpoint_when_the_stack_knows_it() {
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let resources = resources(&template);
    let robot = resource_body(&resources, "RobotPublisherFunction");
    assert_eq!(
        env_value(&robot, "IOT_DATA_ENDPOINT").as_deref(),
        Some("!If [HasIotDataEndpoint, !Ref IotDataEndpoint, !Ref AWS::NoValue]")
    );
    assert!(template.contains("HasIotDataEndpoint: !Not [!Equals [!Ref IotDataEndpoint, \"\"]]"));
    let pattern = template
        .split("  IotDataEndpoint:\n")
        .nth(1)
        .and_then(|rest| {
            rest.lines()
                .find_map(|l| l.trim().strip_prefix("AllowedPattern: "))
        })
        .expect("the IotDataEndpoint parameter's pattern");
    let pattern = regex_lite::Regex::new(pattern).unwrap();
    for (value, ok) in [
        ("", true),
        ("a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com", true),
        ("a1b2c3d4e5f6g7-ats.iot.cn-north-1.amazonaws.com.cn", true),
        ("https://a1b2c3-ats.iot.eu-west-1.amazonaws.com", false),
        ("example.com", false),
    ] {
        assert_eq!(pattern.is_match(value), ok, "{value}");
    }
}

/// Issue 18, faults: an AWS call that stops answering is abandoned after `SDK_ATTEMPT_TIMEOUT_SECONDS`
/// and retried, three attempts in all; those must end inside the function's timeout, so the
/// function answers (or fails classified) instead of being killed with nothing said.
#[test]
fn three_sdk_attempts_fit_in_every_functions_timeout() {
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let global_timeout: u64 = template
        .split("\nResources:\n")
        .next()
        .and_then(|globals| {
            globals
                .lines()
                .find_map(|l| l.trim().strip_prefix("Timeout: "))
        })
        .and_then(|t| t.parse().ok())
        .expect("a global Timeout");
    let resources = resources(&template);
    let functions: Vec<(&String, String)> = resources
        .iter()
        .map(|(name, lines)| (name, lines.join("\n")))
        .filter(|(_, body)| body.contains("Type: AWS::Serverless::Function"))
        .collect();
    assert!(functions.len() >= 13, "{}", functions.len());
    for (name, body) in functions {
        let timeout: u64 = body
            .lines()
            .find_map(|l| l.trim().strip_prefix("Timeout: "))
            .map_or(global_timeout, |t| t.parse().unwrap());
        let vars: Vec<(&str, String)> = env_value(&body, "SDK_ATTEMPT_TIMEOUT_SECONDS")
            .map(|v| {
                (
                    "SDK_ATTEMPT_TIMEOUT_SECONDS",
                    v.trim_matches('"').to_owned(),
                )
            })
            .into_iter()
            .collect();
        let vars: std::collections::HashMap<String, String> =
            vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let attempt = fleet_core::aws::attempt_timeout(&vars).unwrap();
        assert!(
            3 * attempt.as_secs() < timeout,
            "{name}: 3 attempts of {attempt:?} do not fit in its {timeout} s"
        );
    }
}
