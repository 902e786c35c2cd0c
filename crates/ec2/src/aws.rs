//! The SDK adapter. It owns every SDK detail and maps service errors to domain errors.

use aws_config::SdkConfig;
use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{Filter, Tag};
use chrono::{DateTime, Utc};
use fleet_core::aws::error_text;

use crate::model::{
    Ec2Error, Ec2ErrorKind, Ec2Port, Instance, InstancePage, InstanceQuery, InstanceState,
    StateChange,
};

/// DescribeInstances' largest page.
pub const DESCRIBE_PAGE_SIZE: i32 = 1000;

/// States worth listing: nothing can be done to a terminated instance.
const LIVE_STATES: [&str; 5] = ["pending", "running", "stopping", "stopped", "shutting-down"];

/// An EC2 client that backs off on `RequestLimitExceeded` (exponential, jittered, 5 attempts)
/// before the error reaches the caller.
pub fn client(sdk: &SdkConfig) -> aws_sdk_ec2::Client {
    use aws_sdk_ec2::config::retry::RetryConfig;
    let config = aws_sdk_ec2::config::Builder::from(sdk)
        .retry_config(RetryConfig::standard().with_max_attempts(5))
        .build();
    aws_sdk_ec2::Client::from_conf(config)
}

#[derive(Debug, Clone)]
pub struct AwsEc2 {
    client: aws_sdk_ec2::Client,
    page_size: i32,
}

impl AwsEc2 {
    /// The client should carry a retry config with backoff (see [`client`]).
    pub fn new(client: aws_sdk_ec2::Client) -> Self {
        Self {
            client,
            page_size: DESCRIBE_PAGE_SIZE,
        }
    }

    /// The adapter on a client that backs off on throttling.
    pub fn from_sdk(sdk: &SdkConfig) -> Self {
        Self::new(client(sdk))
    }

    /// Smaller DescribeInstances pages (EC2 takes 5 to 1000), so tests page through a few
    /// instances.
    pub fn with_page_size(mut self, page_size: i32) -> Self {
        self.page_size = page_size.clamp(5, DESCRIBE_PAGE_SIZE);
        self
    }
}

/// Maps an SDK error to a domain error by its AWS error code.
pub fn ec2_error<E>(err: SdkError<E, HttpResponse>) -> Ec2Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = err.code().unwrap_or_default().to_owned();
    let message = err
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| error_text(&err));
    let kind = match (&err, code.as_str()) {
        (
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_),
            _,
        ) => Ec2ErrorKind::Unavailable,
        (_, "IncorrectInstanceState" | "IncorrectState") => Ec2ErrorKind::IncorrectState,
        (_, "OperationNotPermitted") => Ec2ErrorKind::Protected,
        (_, c) if c.starts_with("InvalidInstanceID") => Ec2ErrorKind::NotFound,
        (_, "UnauthorizedOperation" | "AccessDenied") => Ec2ErrorKind::Denied,
        (_, "RequestLimitExceeded" | "Throttling" | "ThrottlingException") => {
            Ec2ErrorKind::Throttled
        }
        // Capacity comes back: a start refused for it is worth retrying on a later run.
        (
            _,
            ""
            | "InternalError"
            | "Unavailable"
            | "ServiceUnavailable"
            | "InternalFailure"
            | "InsufficientInstanceCapacity",
        ) => Ec2ErrorKind::Unavailable,
        _ => Ec2ErrorKind::Other,
    };
    let code = if code.is_empty() {
        "NoErrorCode".to_owned()
    } else {
        code
    };
    Ec2Error::new(kind, code, message)
}

fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

fn utc(t: &aws_sdk_ec2::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

fn instance(i: &aws_sdk_ec2::types::Instance) -> Option<Instance> {
    let primary_attach = i
        .network_interfaces()
        .iter()
        .filter_map(|n| n.attachment())
        .find(|a| a.device_index() == Some(0))
        .and_then(|a| a.attach_time());
    Some(Instance {
        id: i.instance_id()?.to_owned(),
        state: InstanceState::parse(i.state()?.name()?.as_str())?,
        tags: i
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
            .collect(),
        vpc_id: i.vpc_id().map(str::to_owned),
        launch_time: i.launch_time().and_then(utc),
        created_at: primary_attach.and_then(utc),
    })
}

impl Ec2Port for AwsEc2 {
    async fn describe_page(
        &self,
        query: &InstanceQuery,
        next_token: Option<String>,
    ) -> Result<InstancePage, Ec2Error> {
        let mut request = self.client.describe_instances().filters(filter(
            "instance-state-name",
            &LIVE_STATES.map(String::from),
        ));
        if let Some(key) = &query.tag_key {
            request = request.filters(filter("tag-key", std::slice::from_ref(key)));
        }
        if !query.vpc_ids.is_empty() {
            request = request.filters(filter("vpc-id", &query.vpc_ids));
        }
        if !query.instance_ids.is_empty() {
            request = request.filters(filter("instance-id", &query.instance_ids));
        }
        let out = request
            .max_results(self.page_size)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(ec2_error)?;
        Ok(InstancePage {
            instances: out
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
                .filter_map(instance)
                .collect(),
            next_token: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        })
    }

    async fn change_state(&self, change: StateChange, ids: &[String]) -> Result<(), Ec2Error> {
        let ids = Some(ids.to_vec());
        match change {
            StateChange::Start => self
                .client
                .start_instances()
                .set_instance_ids(ids)
                .send()
                .await
                .map(|_| ())
                .map_err(ec2_error),
            StateChange::Stop => self
                .client
                .stop_instances()
                .set_instance_ids(ids)
                .send()
                .await
                .map(|_| ())
                .map_err(ec2_error),
            StateChange::Terminate => self
                .client
                .terminate_instances()
                .set_instance_ids(ids)
                .send()
                .await
                .map(|_| ())
                .map_err(ec2_error),
        }
    }

    async fn create_tags(&self, ids: &[String], tags: &[(String, String)]) -> Result<(), Ec2Error> {
        let tags = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        self.client
            .create_tags()
            .set_resources(Some(ids.to_vec()))
            .set_tags(Some(tags))
            .send()
            .await
            .map(|_| ())
            .map_err(ec2_error)
    }

    async fn delete_tags(&self, ids: &[String], keys: &[String]) -> Result<(), Ec2Error> {
        // A tag given without a value is deleted whatever its value.
        let tags = keys.iter().map(|k| Tag::builder().key(k).build()).collect();
        self.client
            .delete_tags()
            .set_resources(Some(ids.to_vec()))
            .set_tags(Some(tags))
            .send()
            .await
            .map(|_| ())
            .map_err(ec2_error)
    }
}
