//! `cargo run -p fleet-local --bin fleet-local-resources`: creates, in the stand-in at
//! `AWS_ENDPOINT_URL`, every table, queue, bucket, secret and profile that the README's "Every
//! function locally" variables name.

#[tokio::main]
async fn main() {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") else {
        eprintln!("set AWS_ENDPOINT_URL to the stand-in (e.g. http://127.0.0.1:5000) first");
        std::process::exit(2);
    };
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    fleet_local::fleet::create_resources_at(&sdk).await;
    println!("created the fleet's local resources at {endpoint}");
}
