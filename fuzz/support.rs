//! What the fuzz targets of async handlers share: one current-thread runtime for the whole run.

use std::future::Future;
use std::sync::OnceLock;

/// Runs `future` to completion on the run's runtime (built once: a runtime per input would cost
/// more than most inputs).
pub fn block_on<F: Future>(future: F) -> F::Output {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a current-thread runtime")
        })
        .block_on(future)
}
