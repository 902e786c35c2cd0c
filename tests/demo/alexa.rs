//! The Alexa skill: the seed's conversation word for word, each turn the sample request Alexa
//! sends (`events/alexa-skill/`) with the session attributes the device hands back. The code is
//! the SMS the stand-in kept; splunk ends running in the stand-in's EC2.

use fleet_core::{Env, EventHandler};
use fleet_testkit::seed::{instances, launch_instance};
use fleet_testkit::{load_event, Moto};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Map, Value};

use super::{config, ensure, OrSay, Outcome};

/// One turn: what you say, the sample Alexa sends for it, a slot to fill, and what Alexa must
/// answer (whole, or its opening when it ends with "…").
struct Turn {
    you: String,
    sample: &'static str,
    slot: Option<(&'static str, String)>,
    answer: &'static str,
}

fn turn(you: &str, sample: &'static str, answer: &'static str) -> Turn {
    Turn {
        you: you.to_owned(),
        sample,
        slot: None,
        answer,
    }
}

pub async fn run(moto: &Moto) -> Outcome {
    let sdk = moto.sdk_config();
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let splunk = launch_instance(&ec2, &[("Name", "splunk"), ("AlexaControl", "true")], None).await;
    ec2.stop_instances()
        .instance_ids(&splunk)
        .send()
        .await
        .or_say("stopping splunk")?;
    launch_instance(&ec2, &[("Name", "web")], None).await;
    aws_sdk_kinesis::Client::new(&sdk)
        .create_stream()
        .stream_name("clickstream")
        .shard_count(4)
        .send()
        .await
        .or_say("creating the Kinesis stream")?;
    println!("The account: splunk (stopped, tagged AlexaControl=true), web (running), a four-shard Kinesis stream clickstream in eu-west-1.\n");

    let skill = alexa_skill::wire(&sdk, config(moto, "alexa-skill", &[])?, Env::system())
        .await
        .map_err(|e| e.to_string())?;
    let mut attributes = Map::new();
    let mut say = async |turn: &Turn| -> Result<String, String> {
        let mut event = load_event(&format!("alexa-skill/{}", turn.sample));
        event["session"]["attributes"] = Value::Object(attributes.clone());
        if let Some((name, value)) = &turn.slot {
            event["request"]["intent"]["slots"][*name] = json!({"name": name, "value": value});
        }
        let response = skill
            .handle(LambdaEvent::new(event, Context::default()))
            .await
            .map_err(|e| format!("{}: {e}", turn.sample))?;
        attributes = response.session_attributes.clone();
        let said = response
            .response
            .card
            .map(|c| c.content)
            .unwrap_or_default();
        println!("You:   {}\nAlexa: {said}\n", turn.you);
        let expected = turn.answer.strip_suffix('…');
        ensure(
            expected.map_or(said == turn.answer, |opening| said.starts_with(opening)),
            || {
                format!(
                    "to \"{}\" Alexa said \"{said}\", not \"{}\"",
                    turn.you, turn.answer
                )
            },
        )?;
        Ok(said)
    };

    for t in [
        turn(
            "Alexa, open easy cloud",
            "01-launch.json",
            "Welcome to easy cloud…",
        ),
        turn(
            "List instances",
            "02-list-instances.json",
            "You have the following 2 instances: splunk is stopped, web is running.",
        ),
        turn(
            "Describe kinesis shards",
            "04-describe-kinesis-shards.json",
            "You have a four shard Kinesis stream in Ireland, called clickstream.",
        ),
        turn(
            "Start splunk",
            "05-start-splunk.json",
            "You need to authenticate. Say authenticate text, and I'll send a code to your phone.",
        ),
        turn(
            "Authenticate text",
            "06-authenticate-text.json",
            "I've sent the code to your phone. Say authenticate, followed by the code.",
        ),
    ] {
        say(&t).await?;
    }
    let sms = moto.sms_messages();
    let (phone, text) = sms.first().ok_or("no code was sent")?;
    let code = text
        .strip_prefix("Your easytocloud code is ")
        .ok_or_else(|| format!("an unexpected SMS: {text}"))?;
    println!("(SMS to {phone}: \"{text}\")\n");
    // Alexa's AMAZON.NUMBER drops leading zeros; the skill pads them back.
    let spoken = match code.trim_start_matches('0') {
        "" => "0".to_owned(),
        digits => digits.to_owned(),
    };
    let mut with_code = turn(
        &format!("Authenticate {code}"),
        "07-authenticate-code.json",
        "Access granted. Shall I start splunk now?",
    );
    with_code.slot = Some(("Code", spoken));
    say(&with_code).await?;
    say(&turn(
        "Start splunk",
        "05-start-splunk.json",
        "I have started splunk. It is now running.",
    ))
    .await?;

    let state = instances(&ec2)
        .await
        .get(&splunk)
        .map(|(s, _)| s.clone())
        .unwrap_or_default();
    println!("splunk in the stand-in's EC2: {state}");
    ensure(state == "running", || format!("splunk is {state}"))?;
    Ok(
        "the seed's conversation, word for word: listing, Kinesis, a one-time code by SMS \
        before any change, and splunk really started"
            .into(),
    )
}
