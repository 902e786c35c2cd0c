//! The seed conversation, played against the stand-in with the real adapters: instances (one
//! named splunk, stopped) in moto's EC2, a four-shard stream in its Kinesis, profiles, codes and
//! access grants in its DynamoDB. The SMS code is read back from moto and spoken back; splunk
//! ends running. (moto's STS accepts any MFA code; the MFA check is the fake here.)

use alexa_skill::aws::{DynamoAccess, KinesisStreams};
use alexa_skill::{App, Settings};
use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use chrono::Duration;
use fleet_core::EventHandler;
use fleet_core::SystemClock;
use fleet_ec2::AwsEc2;
use fleet_otp::aws::{DynamoProfiles, DynamoStore, SnsSms};
use fleet_otp::memory::FakeMfa;
use fleet_otp::ports::OsDigits;
use fleet_otp::{HmacKey, Limits, Otp};
use fleet_testkit::seed::{create_table, instances, launch_instance};
use fleet_testkit::{load_event, Moto};
use serde_json::{json, Map, Value};

const USER: &str = "amzn1.ask.account.AMAXEXAMPLEUSERIDFORTHEEASYTOCLOUDSKILL";
const SKILL: &str = "amzn1.ask.skill.5d1c3f0e-7a2b-4c9d-8e1f-0a2b3c4d5e6f";

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_conversation_against_the_stand_in() {
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let splunk = launch_instance(&ec2, &[("Name", "splunk"), ("AlexaControl", "true")], None).await;
    ec2.stop_instances()
        .instance_ids(&splunk)
        .send()
        .await
        .unwrap();
    launch_instance(&ec2, &[("Name", "web")], None).await;
    aws_sdk_kinesis::Client::new(&sdk)
        .create_stream()
        .stream_name("clickstream")
        .shard_count(4)
        .send()
        .await
        .unwrap();
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    for table in ["profiles", "codes", "access"] {
        create_table(&ddb, table, "UserId", ScalarAttributeType::S).await;
    }
    ddb.put_item()
        .table_name("profiles")
        .item("UserId", AttributeValue::S(USER.into()))
        .item("DisplayName", AttributeValue::S("Erik".into()))
        .item("Phone", AttributeValue::S("+31612345678".into()))
        .send()
        .await
        .unwrap();
    let skill = App {
        ec2: AwsEc2::new(fleet_ec2::client(&sdk)),
        streams: KinesisStreams::new(aws_sdk_kinesis::Client::new(&sdk)),
        access: DynamoAccess::new(ddb.clone(), "access"),
        presence: Otp {
            profiles: DynamoProfiles::new(ddb.clone(), "profiles"),
            store: DynamoStore::new(ddb.clone(), "codes", "alexa"),
            sms: SnsSms::new(fleet_core::aws::SnsClient::new(&sdk), None),
            mfa: FakeMfa::default(),
            digits: OsDigits,
            clock: SystemClock,
            key: HmacKey::new(*b"stand-in-key-0123456789abcdef0123").unwrap(),
            limits: Limits {
                code_length: 4,
                ..Limits::default()
            },
        },
        clock: SystemClock,
        settings: Settings {
            skill_id: SKILL.into(),
            region: "eu-west-1".into(),
            access_ttl: Duration::minutes(10),
            control_value: "true".into(),
        },
    };

    let mut attributes = Map::new();
    let mut say = async |file: &str, slot: Option<(&str, String)>| -> String {
        let mut event = load_event(&format!("alexa-skill/{file}"));
        event["session"]["attributes"] = Value::Object(attributes.clone());
        if let Some((name, value)) = slot {
            event["request"]["intent"]["slots"][name] = json!({"name": name, "value": value});
        }
        let response = skill
            .handle(lambda_runtime::LambdaEvent::new(
                event,
                lambda_runtime::Context::default(),
            ))
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        attributes = response.session_attributes.clone();
        let card = response
            .response
            .card
            .map(|c| c.content)
            .unwrap_or_default();
        println!("> {file}\n  {card}");
        card
    };

    assert!(say("01-launch.json", None).await.starts_with("Welcome"));
    assert_eq!(
        say("02-list-instances.json", None).await,
        "You have the following 2 instances: splunk is stopped, web is running."
    );
    assert_eq!(
        say("04-describe-kinesis-shards.json", None).await,
        "You have a four shard Kinesis stream in Ireland, called clickstream."
    );
    assert!(say("05-start-splunk.json", None)
        .await
        .starts_with("You need to authenticate"));
    assert!(say("06-authenticate-text.json", None)
        .await
        .starts_with("I've sent the code to your phone"));
    let sms = moto.sms_messages();
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].0, "+31612345678");
    let code = sms[0]
        .1
        .trim_start_matches("Your easytocloud code is ")
        .to_owned();
    assert_eq!(code.len(), 4, "{:?}", sms[0].1);
    // AMAZON.NUMBER drops leading zeros; the skill pads them back.
    let spoken = code.trim_start_matches('0').to_owned();
    let spoken = if spoken.is_empty() {
        "0".to_owned()
    } else {
        spoken
    };
    assert_eq!(
        say("07-authenticate-code.json", Some(("Code", spoken))).await,
        "Access granted. Shall I start splunk now?"
    );
    assert_eq!(
        say("05-start-splunk.json", None).await,
        "I have started splunk. It is now running."
    );
    let all = instances(&ec2).await;
    assert_eq!(all[&splunk].0, "running");

    // Issue 13, points 2 and 3 on the stand-in's own tags: "web" never opted in, so it is not
    // stopped; "db" is only part of prod-db-primary's name, so it is asked about first.
    let web = all
        .iter()
        .find(|(_, (_, tags))| tags.get("Name").map(String::as_str) == Some("web"))
        .map(|(id, _)| id.clone())
        .unwrap();
    assert_eq!(
        say("09-stop-splunk.json", Some(("InstanceName", "web".into()))).await,
        "I may only start and stop instances tagged AlexaControl with the value true, and web is not, so I won't stop it."
    );
    let primary = launch_instance(
        &ec2,
        &[("Name", "prod-db-primary"), ("AlexaControl", "true")],
        None,
    )
    .await;
    assert_eq!(
        say("09-stop-splunk.json", Some(("InstanceName", "db".into()))).await,
        "Did you mean prod-db-primary?"
    );
    assert_eq!(instances(&ec2).await[&primary].0, "running");
    assert_eq!(
        say("08-yes.json", None).await,
        "I have stopped prod-db-primary. It is now stopped."
    );
    let all = instances(&ec2).await;
    assert_eq!(all[&primary].0, "stopped");
    assert_eq!(all[&web].0, "running");
}
