//! Queues on the local stand-in as Lambda's event sources see them: an SQS event built from what
//! a queue holds, and S3 notifications routed to queues (the stand-in cannot invoke a function,
//! so a test reads the events a bucket produced from the queue and hands them over itself).

use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter,
};
use serde_json::{json, Map, Value};

use crate::{ACCOUNT_ID, REGION};

/// What Lambda's SQS event source mapping would hand a function from the queue at `url` (`arn`):
/// up to ten messages with their attributes and message attributes, as an SQS event, and how
/// many. The messages stay on the queue, invisible for its visibility timeout. (The stand-in's
/// own SQS→Lambda mapping drops message attributes, so the event is built from `ReceiveMessage`.)
pub async fn lambda_event(sqs: &aws_sdk_sqs::Client, url: &str, arn: &str) -> (Value, usize) {
    let output = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap_or_else(|e| panic!("receiving from {url}: {e:?}"));
    let records: Vec<Value> = output
        .messages()
        .iter()
        .map(|m| {
            let attributes: Map<String, Value> = m
                .attributes()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str().to_owned(), json!(v)))
                .collect();
            let message_attributes: Map<String, Value> = m
                .message_attributes()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    let value = json!({
                        "stringValue": v.string_value(),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": v.data_type(),
                    });
                    (k.clone(), value)
                })
                .collect();
            json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": attributes,
                "messageAttributes": message_attributes,
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": REGION,
            })
        })
        .collect();
    let count = records.len();
    (json!({ "Records": records }), count)
}

/// Every message body waiting on the queue at `url`, parsed as JSON, removed from the queue.
pub async fn drain_json(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let page = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap_or_else(|e| panic!("receiving from {url}: {e:?}"));
        if page.messages().is_empty() {
            return out;
        }
        for m in page.messages() {
            let body = m.body().unwrap_or_default();
            out.push(serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}")));
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .unwrap_or_else(|e| panic!("deleting from {url}: {e:?}"));
        }
    }
}

/// Routes `bucket`'s object-created notifications to one new queue per `(queue name, key
/// prefix)`, as the template routes prefixes to functions; returns the queues' URLs in order.
/// The stand-in's first message on each queue is its `s3:TestEvent`.
pub async fn notify_queues(
    sqs: &aws_sdk_sqs::Client,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    routes: &[(&str, &str)],
) -> Vec<String> {
    let mut urls = Vec::new();
    let mut configs = Vec::new();
    for (name, prefix) in routes {
        let url = sqs
            .create_queue()
            .queue_name(*name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("queue {name}: {e:?}"))
            .queue_url
            .unwrap_or_default();
        urls.push(url);
        let rule = FilterRule::builder()
            .name(FilterRuleName::Prefix)
            .value(*prefix)
            .build();
        let filter = NotificationConfigurationFilter::builder()
            .key(S3KeyFilter::builder().filter_rules(rule).build())
            .build();
        configs.push(
            QueueConfiguration::builder()
                .id(*name)
                .queue_arn(format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"))
                .events(Event::S3ObjectCreated)
                .filter(filter)
                .build()
                .unwrap_or_else(|e| panic!("queue configuration {name}: {e}")),
        );
    }
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .set_queue_configurations(Some(configs))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("notifications of {bucket}: {e:?}"));
    urls
}
