//! `make demo` (`fleet-local-demo [SECTION…]`): the whole fleet against a local AWS stand-in, no
//! AWS account needed; `make demo SECTION=alexa` (or several, comma-separated) runs only those
//! sections. Exits 1 when any section failed, 2 for an unknown section.

use std::process::ExitCode;
use std::time::Instant;

use fleet_local::demo::{run, select, SECTIONS};
use fleet_testkit::Moto;

fn main() -> ExitCode {
    let names = std::env::args().skip(1).collect::<Vec<_>>().join(",");
    let sections = match select(&names) {
        Ok(sections) => sections,
        Err(e) => {
            eprintln!("make demo: {e}");
            return ExitCode::from(2);
        }
    };
    println!("Starting the local AWS stand-in (moto server)...");
    let moto = Moto::start();
    println!("Stand-in at {}.", moto.endpoint());
    let started = Instant::now();
    let failed = run(&moto, &sections);
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "\n{} of {} sections proven in {seconds:.1} s{}",
        sections.len() - failed.len(),
        sections.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!("; failed: {}", failed.join(", "))
        }
    );
    if sections.len() < SECTIONS.len() {
        println!("(`make demo` without SECTION runs all {}.)", SECTIONS.len());
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
