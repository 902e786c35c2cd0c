//! The IoT adapter: resolves the account's data endpoint once per container, then publishes with
//! QoS 1 through iot-data. The sequence: an atomic counter item in the fleet's state table.

use aws_sdk_iotdataplane::primitives::Blob;
use tokio::sync::OnceCell;

use crate::ports::{PublishError, Publisher};
use fleet_core::aws::{classify, error_text};
use fleet_core::ErrorClass;

pub struct IotPublisher {
    iot: aws_sdk_iot::Client,
    /// iot-data client whose config is reused, with the resolved endpoint, for publishing.
    data_base: aws_sdk_iotdataplane::Client,
    /// `IOT_DATA_ENDPOINT`: skips DescribeEndpoint.
    endpoint_override: Option<String>,
    /// `AWS_ENDPOINT_URL`: a local stand-in serves iot-data itself.
    local_endpoint: Option<String>,
    data: OnceCell<aws_sdk_iotdataplane::Client>,
}

impl IotPublisher {
    pub fn new(
        iot: aws_sdk_iot::Client,
        data_base: aws_sdk_iotdataplane::Client,
        endpoint_override: Option<String>,
        local_endpoint: Option<String>,
    ) -> Self {
        Self {
            iot,
            data_base,
            endpoint_override,
            local_endpoint,
            data: OnceCell::new(),
        }
    }

    /// The data endpoint, resolved on first use and kept for the container's life. A failed
    /// resolution is not kept: the next request tries again.
    async fn data_client(&self) -> Result<&aws_sdk_iotdataplane::Client, PublishError> {
        self.data
            .get_or_try_init(|| async {
                let url = match &self.endpoint_override {
                    Some(url) => with_scheme(url),
                    None => {
                        let described = self.describe_data_endpoint().await?;
                        match &self.local_endpoint {
                            Some(local) => {
                                tracing::info!(described = %described, local = %local, "iot-data goes to the local endpoint (AWS_ENDPOINT_URL)");
                                local.clone()
                            }
                            None => with_scheme(&described),
                        }
                    }
                };
                tracing::info!(endpoint = %url, "iot-data endpoint resolved");
                let config = self.data_base.config().to_builder().endpoint_url(url).build();
                Ok(aws_sdk_iotdataplane::Client::from_conf(config))
            })
            .await
    }

    async fn describe_data_endpoint(&self) -> Result<String, PublishError> {
        let out = self
            .iot
            .describe_endpoint()
            .endpoint_type("iot:Data-ATS")
            .send()
            .await
            .map_err(|e| PublishError {
                code: "DescribeEndpointFailed".to_owned(),
                message: error_text(&e),
                class: classify(&e),
            })?;
        out.endpoint_address()
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| PublishError {
                code: "DescribeEndpointFailed".to_owned(),
                message: "DescribeEndpoint returned no address".to_owned(),
                class: ErrorClass::Internal,
            })
    }
}

fn with_scheme(address: &str) -> String {
    if address.starts_with("https://") || address.starts_with("http://") {
        address.to_owned()
    } else {
        format!("https://{address}")
    }
}

impl Publisher for IotPublisher {
    async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), PublishError> {
        let data = self.data_client().await?;
        data.publish()
            .topic(topic)
            .qos(1)
            .payload(Blob::new(payload))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| PublishError {
                code: aws_sdk_iotdataplane::error::ProvideErrorMetadata::code(&e)
                    .unwrap_or("PublishFailed")
                    .to_owned(),
                message: error_text(&e),
                class: classify(&e),
            })
    }
}

/// The robot's command counter: one item (`Id` = `robot-publisher#sequence#<robot>`) in the
/// fleet's state table, incremented atomically (`ADD`), so every container draws from it.
#[derive(Debug, Clone)]
pub struct DynamoSequence {
    client: aws_sdk_dynamodb::Client,
    table: String,
    id: String,
}

impl DynamoSequence {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>, robot: &str) -> Self {
        Self {
            client,
            table: table.into(),
            id: format!("robot-publisher#sequence#{robot}"),
        }
    }
}

impl crate::ports::Sequence for DynamoSequence {
    async fn next(&self) -> Result<u64, fleet_core::ServiceError> {
        use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("Id", AttributeValue::S(self.id.clone()))
            .update_expression("ADD #n :one")
            .expression_attribute_names("#n", "Sequence")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| fleet_core::aws::service_error("state table", &e))?;
        out.attributes()
            .and_then(|a| a.get("Sequence"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| {
                fleet_core::ServiceError::new(
                    "state table",
                    ErrorClass::CorruptState,
                    format!("{}: Sequence is not a number", self.id),
                )
            })
    }
}
