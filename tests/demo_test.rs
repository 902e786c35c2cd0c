//! `make demo` as a user runs it: every section proven against the stand-in, the exit status
//! telling failure, an unknown section refused.

use std::process::Command;

use fleet_local::demo::{run, Section, SECTIONS};
use fleet_testkit::Moto;

fn demo(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_fleet-local-demo"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running the demo: {e}"));
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_demo_proves_every_section_of_the_fleet() {
    let (status, out, err) = demo(&[]);
    assert_eq!(status, Some(0), "{out}\n{err}");
    for section in SECTIONS {
        assert!(
            out.contains(section.title),
            "{} missing:\n{out}",
            section.name
        );
    }
    assert_eq!(out.matches("\n✔ Proven (").count(), SECTIONS.len(), "{out}");
    assert!(!out.contains("FAILED"), "{out}");
    assert!(out.contains("\n8 of 8 sections proven in "), "{out}");
    // The seed's conversation, word for word.
    assert!(out.contains(
        "You:   List instances\nAlexa: You have the following 2 instances: splunk is stopped, web is running."
    ));
}

#[test]
fn an_unknown_section_is_refused_before_anything_runs() {
    let (status, out, err) = demo(&["alexa", "nope"]);
    assert_eq!(status, Some(2), "{out}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(
        err.trim(),
        "make demo: unknown section nope: choose from scheduler, tagging, otp, alexa, robot, approval, calls, dlq"
    );
}

#[test]
fn a_failed_or_panicking_section_fails_the_run_and_the_next_still_runs() {
    let moto = Moto::start();
    let sections = [
        Section {
            name: "fails",
            title: "a section that fails",
            run: |_| Box::pin(async { Err("it failed".to_owned()) }),
        },
        Section {
            name: "panics",
            title: "a section that panics",
            run: |_| Box::pin(async { panic!("the stand-in vanished") }),
        },
        Section {
            name: "proves",
            title: "a section that proves something",
            // It runs on a stand-in reset and seeded with the fleet's resources.
            run: |moto| {
                Box::pin(async move {
                    let tables = aws_sdk_dynamodb::Client::new(&moto.sdk_config())
                        .list_tables()
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    if tables.table_names().iter().any(|t| t == "otp-profiles") {
                        Ok("seeded".to_owned())
                    } else {
                        Err(format!("not seeded: {:?}", tables.table_names()))
                    }
                })
            },
        },
    ];
    assert_eq!(run(&moto, &sections), ["fails", "panics"]);
    // Twice: each section starts from a reset stand-in, so seeding again does not collide.
    assert_eq!(run(&moto, &sections[2..]), Vec::<&str>::new());
}
