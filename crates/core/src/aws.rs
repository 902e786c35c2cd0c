//! The AWS SDK configuration, loaded once per container.

use aws_config::{BehaviorVersion, SdkConfig};

/// Loads region, credentials and endpoint from the standard chain. `AWS_ENDPOINT_URL` (and the
/// per-service `AWS_ENDPOINT_URL_<SERVICE>`) is honoured by the SDK itself, which is how tests and
/// the local demo point every client at the stand-in.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// S3 clients must use path-style addressing when an endpoint is overridden: a local stand-in
/// cannot serve `bucket.host` virtual-host names.
pub fn s3_force_path_style(config: &SdkConfig) -> bool {
    config.endpoint_url().is_some()
}
