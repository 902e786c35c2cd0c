//! The tagging policy: the seed's three rules (ProjectCode defaults to Proj007, CreatedBy from
//! who launched the instance, Expires today when empty) loaded as the README loads them, a
//! scheduled sweep over four instances, and the report it publishes.

use chrono::Duration;
use fleet_core::{Env, EventHandler};
use fleet_testkit::seed::{
    context_with_deadline, create_rules_table, create_topic, instances, launch_instance,
};
use fleet_testkit::{load_event, Moto};
use lambda_runtime::LambdaEvent;
use tagging_policy::config::Config;
use tagging_policy::memory::FakeLookup;
use tagging_policy::{App, Engine};

use super::{config, ensure, Outcome};

const SWEEP: &str = "tagging-policy/01-scheduled-sweep.json";

pub async fn run(moto: &Moto) -> Outcome {
    let sdk = moto.sdk_config();
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    create_rules_table(&ddb, "seed-tagging-rules").await;
    println!("Rules (crates/tagging-policy/seed-rules.json, loaded into the rules table):");
    println!("  1 ProjectCode  Update      required  default Proj007");
    println!("  2 CreatedBy    UserLookup  required  (who called RunInstances, from CloudTrail)");
    println!("  3 Expires      Function    optional  default today()\n");
    let web = launch_instance(&ec2, &[("Name", "web")], None).await;
    let legacy = launch_instance(
        &ec2,
        &[
            ("Name", "legacy"),
            ("ProjectCode", "Apollo"),
            ("CreatedBy", "zoe"),
            ("Expires", ""),
        ],
        None,
    )
    .await;
    let bare = launch_instance(&ec2, &[], None).await;
    let fine = launch_instance(
        &ec2,
        &[
            ("Name", "fine"),
            ("ProjectCode", "Gemini"),
            ("CreatedBy", "yuri"),
        ],
        None,
    )
    .await;
    println!(
        "Instances: web (Name only, launched by alice), legacy (Expires empty), one with no tags \
         at all, fine (compliant). The stand-in launches them now; the policy's clock stands an \
         hour later, past the 15-minute grace."
    );
    let topic = create_topic(&sdk, "tagging-reports").await;

    let config: Config = config(
        moto,
        "tagging-policy",
        &[
            ("RULES_TABLE", "seed-tagging-rules"),
            ("REPORT_TOPIC_ARN", &topic),
        ],
    )?;
    // The stand-in launches every instance "now": the policy's clock stands an hour later, past
    // every grace period.
    let (env, _clock) = Env::fixed(chrono::Utc::now() + Duration::hours(1));
    let wired = tagging_policy::wire(&sdk, config, env)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "(The stand-in has no CloudTrail: who launched web comes from an in-memory lookup behind \
         the same port; the CloudTrail adapter is tested with aws-smithy-mocks.)\n"
    );
    let app = App {
        engine: Engine {
            ec2: wired.engine.ec2,
            rules: wired.engine.rules,
            lookup: FakeLookup::new([(web.as_str(), "alice")]),
            clock: wired.engine.clock,
            state: wired.engine.state,
            settings: wired.engine.settings,
        },
        notifier: wired.notifier,
    };
    let sweep = || {
        app.handle(LambdaEvent::new(
            load_event(SWEEP),
            context_with_deadline(3600 + 120),
        ))
    };
    let report = sweep()
        .await
        .map_err(|e| format!("the sweep failed: {e}"))?;
    let published = moto.sns_messages();
    let message = published
        .iter()
        .find(|m| m.topic_arn == topic)
        .ok_or("no report reached the report topic")?;
    println!(
        "── the report on the topic ({}) ──\n{}",
        message.subject.as_deref().unwrap_or("no subject"),
        message.message
    );

    let all = instances(&ec2).await;
    let tag = |id: &str, key: &str| all.get(id).and_then(|(_, t)| t.get(key)).cloned();
    println!("\n── the instances afterwards ──");
    for (name, id) in [
        ("web", &web),
        ("legacy", &legacy),
        ("(no tags)", &bare),
        ("fine", &fine),
    ] {
        let (state, tags) = all.get(id).ok_or_else(|| format!("{id} is gone"))?;
        let tags: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("{name:<10} {id:<20} {state:<8} {}", tags.join(" "));
    }
    let today = (chrono::Utc::now() + Duration::hours(1))
        .format("%Y-%m-%d")
        .to_string();
    ensure(
        tag(&web, "ProjectCode").as_deref() == Some("Proj007"),
        || "web did not get ProjectCode=Proj007".into(),
    )?;
    ensure(tag(&web, "CreatedBy").as_deref() == Some("alice"), || {
        "web did not get CreatedBy=alice".into()
    })?;
    ensure(
        tag(&legacy, "Expires").as_deref() == Some(today.as_str()),
        || {
            format!(
                "legacy's Expires is {:?}, not {today}",
                tag(&legacy, "Expires")
            )
        },
    )?;
    ensure(
        all.get(&bare)
            .is_some_and(|(s, t)| s == "stopped" && t.is_empty()),
        || "the untagged instance was not stopped untouched".into(),
    )?;
    ensure(all.get(&fine).is_some_and(|(_, t)| t.len() == 3), || {
        "the compliant instance was changed".into()
    })?;
    ensure(report.counts.instances_checked == 4, || {
        format!(
            "{} instances checked, not 4",
            report.counts.instances_checked
        )
    })?;

    // The same event delivered again: nothing new, no second report.
    sweep()
        .await
        .map_err(|e| format!("the repeated sweep failed: {e}"))?;
    let reports = moto
        .sns_messages()
        .iter()
        .filter(|m| m.topic_arn == topic)
        .count();
    ensure(reports == 1, || format!("{reports} reports for one event"))?;
    println!("\nThe same sweep event delivered again: nothing to change, no second report.");
    Ok(
        "the three seed rules filled in exactly the missing tags (a default, the creator, \
        today), an untagged instance was stopped, a compliant one untouched, one report \
        published, and a repeated delivery changed nothing"
            .into(),
    )
}
