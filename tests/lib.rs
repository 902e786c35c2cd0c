//! Local scenarios: the drive page behind a loopback HTTP server for the browser test and the demo.
//! Seeding helpers live in the test kit (`fleet_testkit::seed`).

pub use fleet_testkit::seed::*;

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
