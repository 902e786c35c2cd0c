//! Every file in `events/` is loaded by some test: each function crate's `tests/events.rs` loads
//! its whole directory with `event_files("<dir>")` and checks what each file must become. This
//! test fails for a directory (or a loose file) that no test loads, so a sample can neither rot
//! nor sit unused.

use fleet_testkit::{event_files, workspace_root};
use std::path::Path;

/// Every Rust test source in the workspace.
fn test_sources() -> Vec<String> {
    let root = workspace_root();
    let mut dirs = vec![root.join("tests")];
    for krate in std::fs::read_dir(root.join("crates")).unwrap() {
        dirs.push(krate.unwrap().path().join("tests"));
    }
    let mut sources = Vec::new();
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        for file in std::fs::read_dir(dir).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|x| x == "rs") {
                sources.push(std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    sources
}

#[test]
fn every_events_directory_is_loaded_by_a_test() {
    let sources = test_sources();
    let mut checked = 0;
    for dir in std::fs::read_dir(workspace_root().join("events")).unwrap() {
        let dir = dir.unwrap();
        let name = dir.file_name().to_string_lossy().into_owned();
        assert!(
            dir.path().is_dir(),
            "events/{name}: samples live in a directory per function"
        );
        let call = format!("event_files(\"{name}\")");
        assert!(
            sources.iter().any(|s| s.contains(&call)),
            "events/{name}/ is not loaded by any test: add a tests/events.rs that calls {call}"
        );
        checked += event_files(&name).len();
    }
    assert!(checked >= 44, "only {checked} event files found");
    assert!(Path::new(&workspace_root().join("events")).is_dir());
}
