//! Local scenarios: the whole fleet's demo (`demo`), every function's local setup (`fleet`), and
//! the drive page behind a loopback HTTP server for the browser test.
//! Seeding helpers live in the test kit (`fleet_testkit::seed`).

pub use fleet_testkit::seed::*;

#[path = "fleet.rs"]
pub mod fleet;

#[path = "demo/mod.rs"]
pub mod demo;

use fleet_core::HttpHandler;
use fleet_testkit::http_server::{serve, HttpServer};

type DriveApp<P, S, C> = robot_publisher::App<P, S, C>;

/// The robot publisher's handler behind a real HTTP socket on loopback (the test kit's
/// `http_server`), for the browser test and the local drive page.
pub async fn drive_server<P, S, C>(app: DriveApp<P, S, C>) -> HttpServer
where
    P: robot_publisher::ports::Publisher + 'static,
    S: robot_publisher::ports::Sequence + 'static,
    C: fleet_core::Clock + 'static,
{
    let app = std::sync::Arc::new(app);
    serve(move |request| {
        let app = app.clone();
        async move { app.handle(request).await }
    })
    .await
}

/// The robot publisher's configuration against a stand-in: robot `rover`, its command counter in
/// a fresh state table `fleet-state` (as the stack's shared state table).
pub async fn robot_config(moto: &fleet_testkit::Moto) -> robot_publisher::config::Config {
    use fleet_core::FromVars;
    let ddb = aws_sdk_dynamodb::Client::new(&moto.sdk_config());
    create_table(
        &ddb,
        "fleet-state",
        "Id",
        aws_sdk_dynamodb::types::ScalarAttributeType::S,
    )
    .await;
    match robot_publisher::config::Config::from_vars(&[
        ("ROBOT_NAME", "rover"),
        ("STATE_TABLE", "fleet-state"),
    ]) {
        Ok(config) => config,
        Err(e) => panic!("{e}"),
    }
}
