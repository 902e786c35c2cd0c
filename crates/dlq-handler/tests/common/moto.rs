//! The handler's resources in the local stand-in, shaped as template.yaml creates them.

/// The archive table: `Id` (S) key, the `ByWindow` index (`Window`, `Id`), all attributes
/// projected (the digest reads whole items).
pub async fn create_archive_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    let index = (dlq_handler::aws::WINDOW_INDEX, "Window", "Id");
    fleet_testkit::seed::create_indexed_table(client, name, "Id", index).await;
}

pub async fn create_bucket(client: &aws_sdk_s3::Client, name: &str) {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    client
        .create_bucket()
        .bucket(name)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("create bucket {name}: {e:?}"));
}

/// SNS publishes in moto's request recorder (since `start_recording`): (topic, subject,
/// message). Lighter than `/moto-api/data.json`, which carries every table's items.
pub fn recorded_publishes(moto: &fleet_testkit::Moto) -> Vec<(String, String, String)> {
    moto.recorded_requests()
        .into_iter()
        .filter_map(|r| {
            let body = String::from_utf8_lossy(&r.body).into_owned();
            let fields: std::collections::HashMap<String, String> = body
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (percent_decode(k), percent_decode(v)))
                .collect();
            (fields.get("Action").map(String::as_str) == Some("Publish")).then(|| {
                let field = |k: &str| fields.get(k).cloned().unwrap_or_default();
                (field("TopicArn"), field("Subject"), field("Message"))
            })
        })
        .collect()
}

/// `application/x-www-form-urlencoded` decoding.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
