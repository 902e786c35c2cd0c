//! AWS adapters: the DynamoDB state table (EC2's adapter is the fleet's shared one).

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::ports::StateStore;
use fleet_core::aws::service_error;
use fleet_core::{ErrorClass, ServiceError};

pub use fleet_ec2::{ec2_error, AwsEc2};

/// Errors name the table they come from.
const SERVICE: &str = "state table";

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

    pub fn from_sdk(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(aws_sdk_dynamodb::Client::new(sdk), table)
    }
}

fn corrupt(detail: String) -> ServiceError {
    ServiceError::new(SERVICE, ErrorClass::CorruptState, detail)
}

/// Fixed-width UTC timestamps compare correctly as strings, which the conditional write relies on.
fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl StateStore for DynamoState {
    async fn last_successful_run(&self) -> Result<Option<DateTime<Utc>>, ServiceError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(self.id.clone()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| service_error(SERVICE, &e))?;
        let Some(value) = out.item().and_then(|item| item.get(LAST_RUN)) else {
            return Ok(None);
        };
        let text = value
            .as_s()
            .map_err(|_| corrupt(format!("{LAST_RUN} is not a string")))?;
        DateTime::parse_from_rfc3339(text)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| corrupt(format!("{LAST_RUN}={text:?}: {e}")))
    }

    async fn record_successful_run(&self, at: DateTime<Utc>) -> Result<(), ServiceError> {
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
            Err(e) => Err(service_error(SERVICE, &e)),
        }
    }
}
