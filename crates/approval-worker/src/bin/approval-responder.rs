//! The signed-link pages behind API Gateway: wiring only.
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    fleet_core::lambda::run_http(approval_worker::wire_responder).await
}
