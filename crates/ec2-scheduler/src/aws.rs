//! AWS adapters: EC2 and the DynamoDB state table. They own every SDK detail and map service
//! errors to domain errors.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{Filter, Tag};
use chrono::{DateTime, SecondsFormat, Utc};

use crate::decide::InstanceState;
use crate::ports::{
    Ec2Error, Ec2ErrorKind, Ec2Port, InstancePage, ScheduledInstance, StateChange, StateError,
    StateStore,
};
use crate::run::SCHEDULE_TAG;

/// DescribeInstances' largest page.
pub const DESCRIBE_PAGE_SIZE: i32 = 1000;

/// States worth listing: terminated instances cannot be scheduled.
const LIVE_STATES: [&str; 5] = ["pending", "running", "stopping", "stopped", "shutting-down"];

#[derive(Debug, Clone)]
pub struct AwsEc2 {
    client: aws_sdk_ec2::Client,
}

impl AwsEc2 {
    /// The client should carry a retry config with backoff: `RequestLimitExceeded` is retried by
    /// the SDK, and only reaches us when its attempts ran out.
    pub fn new(client: aws_sdk_ec2::Client) -> Self {
        Self { client }
    }
}

/// Maps an SDK error to a domain error by its AWS error code.
pub fn ec2_error<E, R>(err: SdkError<E, R>) -> Ec2Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = err.code().unwrap_or_default().to_owned();
    let message = err
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| DisplayErrorContext(&err).to_string());
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
        (_, "" | "InternalError" | "Unavailable" | "ServiceUnavailable" | "InternalFailure") => {
            Ec2ErrorKind::Unavailable
        }
        _ => Ec2ErrorKind::Other,
    };
    let code = if code.is_empty() {
        "NoErrorCode".to_owned()
    } else {
        code
    };
    Ec2Error::new(kind, code, message)
}

impl Ec2Port for AwsEc2 {
    async fn describe_page(&self, next_token: Option<String>) -> Result<InstancePage, Ec2Error> {
        let out = self
            .client
            .describe_instances()
            .filters(
                Filter::builder()
                    .name("tag-key")
                    .values(SCHEDULE_TAG)
                    .build(),
            )
            .filters(
                Filter::builder()
                    .name("instance-state-name")
                    .set_values(Some(LIVE_STATES.map(String::from).to_vec()))
                    .build(),
            )
            .max_results(DESCRIBE_PAGE_SIZE)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(ec2_error)?;
        let instances = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter_map(|i| {
                let id = i.instance_id()?.to_owned();
                let state = InstanceState::parse(i.state()?.name()?.as_str())?;
                let tag = |key: &str| {
                    i.tags()
                        .iter()
                        .find(|t| t.key() == Some(key))
                        .and_then(|t| t.value())
                        .map(str::to_owned)
                };
                Some(ScheduledInstance {
                    name: tag("Name"),
                    schedule: tag(SCHEDULE_TAG)?,
                    state,
                    id,
                })
            })
            .collect();
        Ok(InstancePage {
            instances,
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
}

/// The state table: one item per function, `Id` = the function's name in the fleet.
#[derive(Debug, Clone)]
pub struct DynamoState {
    client: aws_sdk_dynamodb::Client,
    table: String,
    id: String,
}

const KEY: &str = "Id";
const LAST_RUN: &str = "LastSuccessfulRun";

impl DynamoState {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            id: "ec2-scheduler".to_owned(),
        }
    }
}

/// Fixed-width UTC timestamps compare correctly as strings, which the conditional write relies on.
fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl StateStore for DynamoState {
    async fn last_successful_run(&self) -> Result<Option<DateTime<Utc>>, StateError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(self.id.clone()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| {
                StateError(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string())
            })?;
        let Some(value) = out.item().and_then(|item| item.get(LAST_RUN)) else {
            return Ok(None);
        };
        let text = value
            .as_s()
            .map_err(|_| StateError(format!("{LAST_RUN} is not a string")))?;
        DateTime::parse_from_rfc3339(text)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| StateError(format!("{LAST_RUN}={text:?}: {e}")))
    }

    async fn record_successful_run(&self, at: DateTime<Utc>) -> Result<(), StateError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(KEY, AttributeValue::S(self.id.clone()))
            .item(LAST_RUN, AttributeValue::S(stamp(at)))
            .condition_expression("attribute_not_exists(#last) OR #last < :at")
            .expression_attribute_names("#last", LAST_RUN)
            .expression_attribute_values(":at", AttributeValue::S(stamp(at)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // A later run already recorded a later time: keep it.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(StateError(
                aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string(),
            )),
        }
    }
}
