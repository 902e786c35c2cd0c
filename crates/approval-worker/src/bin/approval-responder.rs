//! The signed-link pages behind API Gateway: wiring only.
use approval_worker::{config::Config, wire_responder};
use fleet_core::{config::ProcessEnv, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = lambda::init(|sdk, env| async move {
        wire_responder(&sdk, Config::from_vars(&ProcessEnv)?, env).await
    })
    .await?;
    lambda::serve_http(|request| app.handle(request)).await
}
