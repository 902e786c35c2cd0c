//! Dead-letter messages in all three shapes (a destination record, a dead-letter message, anything
//! else kept raw), as the handler reads them from SQS and SNS, and any payload it is invoked with:
//! nothing is dropped. Every record becomes exactly one archived failure that names the message
//! that delivered it, the same message always becomes the same failure (a redelivery is one
//! item), and what could not be read is kept exactly as received.
#![no_main]

use dlq_handler::model::Shape;
use dlq_handler::normalise::{normalise, SourceMap};
use dlq_handler::trigger::{parse_trigger, Trigger};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fn sources() -> SourceMap {
    SourceMap::new([(
        "arn:aws:sqs:eu-west-1:123456789012:scheduler-dlq".to_owned(),
        "ec2-scheduler".to_owned(),
    )])
}

fn check_all(trigger: &Trigger, expected: Option<usize>) {
    let deliveries = match trigger {
        Trigger::Sqs(d) | Trigger::Sns(d) => d.clone(),
        Trigger::Raw(d) => vec![d.clone()],
        Trigger::Digest { .. } => return,
    };
    if let Some(n) = expected {
        assert_eq!(deliveries.len(), n, "one delivery per record");
    }
    let sources = sources();
    for delivery in &deliveries {
        let failure = normalise(delivery, &sources);
        assert_eq!(failure, normalise(delivery, &sources), "deterministic");
        assert_eq!(failure.delivery_id, delivery.id);
        // The archive's key: DynamoDB refuses an empty one, and one over 2,048 bytes.
        assert!(!failure.id.is_empty() && failure.id.len() <= 256, "{:?}", failure.id);
        if failure.shape == Shape::Raw && delivery.parse_error.is_none() {
            assert_eq!(failure.event, delivery.body, "kept exactly as received");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    // The body as an SQS dead-letter queue or the failure queue delivers it, with the
    // attributes Lambda adds to a dead-letter message.
    let sqs = json!({"Records": [{
        "messageId": "m-1",
        "receiptHandle": "r-1",
        "body": body,
        "attributes": {"SentTimestamp": "1795400000000"},
        "messageAttributes": {
            "RequestID": {"stringValue": "req-1", "dataType": "String"},
            "ErrorCode": {"stringValue": "200", "dataType": "Number"},
            "ErrorMessage": {"stringValue": "Task timed out", "dataType": "String"}
        },
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:scheduler-dlq",
        "awsRegion": "eu-west-1"
    }]});
    let trigger = parse_trigger(sqs);
    assert!(
        matches!(trigger, Trigger::Sqs(_)),
        "an SQS event is read as one"
    );
    check_all(&trigger, Some(1));

    // The body as an SNS dead-letter topic delivers it.
    let sns = json!({"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:eu-west-1:123456789012:dlq:sub",
        "Sns": {
            "Type": "Notification",
            "MessageId": "n-1",
            "TopicArn": "arn:aws:sns:eu-west-1:123456789012:dlq",
            "Message": body,
            "Timestamp": "2026-11-23T08:00:00.000Z",
            "SignatureVersion": "1",
            "Signature": "x",
            "SigningCertUrl": "https://example.com/c.pem",
            "UnsubscribeUrl": "https://example.com/u",
            "MessageAttributes": {}
        }
    }]});
    check_all(&parse_trigger(sns), Some(1));

    // The bytes as the whole payload: whatever it is, it is read as something.
    if let Ok(payload) = serde_json::from_slice::<Value>(data) {
        let expected = payload
            .get("Records")
            .and_then(Value::as_array)
            .map(Vec::len);
        let trigger = parse_trigger(payload);
        let expected = match &trigger {
            Trigger::Sqs(_) | Trigger::Sns(_) => expected,
            _ => None,
        };
        check_all(&trigger, expected);
    }
});
