//! `make demo`: the whole fleet against one local stand-in, in the order a new user meets it.
//! Each section wires its function as `main.rs` does (`wire` with the configuration read from
//! the variables of [`crate::fleet::FLEET`]) on a freshly reset stand-in, narrates what happens
//! and ends with one line saying what was proven, or why it failed. Where the stand-in lacks a
//! service (CloudTrail, Comprehend's batch sentiment, Translate, Lambda tasks in Step Functions,
//! Transcribe's transcript file), the section says what stands in for it.

mod alexa;
mod approval;
mod calls;
mod dlq;
mod otp;
mod robot;
mod scheduler;
mod tagging;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use aws_sdk_s3::error::DisplayErrorContext;
use fleet_core::FromVars;
use fleet_testkit::Moto;

use crate::fleet::{self, FLEET};

/// What a section proved (one line), or why it failed.
pub type Outcome = Result<String, String>;

type Run = for<'a> fn(&'a Moto) -> Pin<Box<dyn Future<Output = Outcome> + 'a>>;

/// One part of the demo: `make demo SECTION=<name>` runs it alone.
#[derive(Clone, Copy)]
pub struct Section {
    pub name: &'static str,
    pub title: &'static str,
    pub run: Run,
}

/// The sections, in the order a new user meets the fleet.
pub const SECTIONS: &[Section] = &[
    Section {
        name: "scheduler",
        title: "EC2 tag scheduler: a day of scheduled runs",
        run: |m| Box::pin(scheduler::run(m)),
    },
    Section {
        name: "tagging",
        title: "Tagging policy: the seed's three rules on a few instances",
        run: |m| Box::pin(tagging::run(m)),
    },
    Section {
        name: "otp",
        title: "OTP validator: send a code, read the SMS, verify it",
        run: |m| Box::pin(otp::run(m)),
    },
    Section {
        name: "alexa",
        title: "Alexa skill \"easy cloud\": the seed's conversation",
        run: |m| Box::pin(alexa::run(m)),
    },
    Section {
        name: "robot",
        title: "Robot publisher: one drive command to IoT Core",
        run: |m| Box::pin(robot::run(m)),
    },
    Section {
        name: "approval",
        title: "Approval worker: a promotion approved from the email",
        run: |m| Box::pin(approval::run(m)),
    },
    Section {
        name: "calls",
        title: "Call-center pipeline: a recording to its sentiment",
        run: |m| Box::pin(calls::run(m)),
    },
    Section {
        name: "dlq",
        title: "Dead-letter handler: a failed upload archived and classified",
        run: |m| Box::pin(dlq::run(m)),
    },
];

/// The sections `names` asks for (all when empty; comma- or space-separated), or the unknown
/// names' message.
pub fn select(names: &str) -> Result<Vec<Section>, String> {
    let wanted: Vec<&str> = names
        .split([',', ' '])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    if wanted.is_empty() {
        return Ok(SECTIONS.to_vec());
    }
    let unknown: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| !SECTIONS.iter().any(|s| s.name == *w))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = SECTIONS.iter().map(|s| s.name).collect();
        return Err(format!(
            "unknown section {}: choose from {}",
            unknown.join(", "),
            known.join(", ")
        ));
    }
    // In the fleet's order, each once.
    Ok(SECTIONS
        .iter()
        .filter(|s| wanted.contains(&s.name))
        .copied()
        .collect())
}

/// Runs `sections` one after another against `moto`, each on a reset stand-in holding the
/// fleet's local resources ([`fleet::create_resources`]). A section that fails or panics is
/// reported and the next one runs. Returns the names of the failed sections.
pub fn run(moto: &Moto, sections: &[Section]) -> Vec<&'static str> {
    let mut failed = Vec::new();
    for (i, section) in sections.iter().enumerate() {
        println!("\n══ {}/{} {} ══\n", i + 1, sections.len(), section.title);
        let started = Instant::now();
        let outcome = run_one(moto, section.run);
        let seconds = started.elapsed().as_secs_f64();
        match outcome {
            Ok(proven) => println!("\n✔ Proven ({seconds:.1} s): {proven}"),
            Err(why) => {
                println!("\n✘ FAILED ({seconds:.1} s): {why}");
                failed.push(section.name);
            }
        }
    }
    failed
}

/// One section in a thread of its own, so a panic (a stand-in that does not answer, say) fails
/// that section only.
fn run_one(moto: &Moto, run: Run) -> Outcome {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .map_err(|e| format!("a runtime: {e}"))?;
                runtime.block_on(async {
                    moto.reset();
                    fleet::create_resources(moto).await;
                    run(moto).await
                })
            })
            .join()
            .unwrap_or_else(|panic| {
                let text = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("a panic");
                Err(format!("panicked: {text}"))
            })
    })
}

/// The configuration `binary` reads from the variables the fleet's local table gives it (as
/// under `cargo lambda watch`), with `extra` on top.
pub fn config<C: FromVars>(moto: &Moto, binary: &str, extra: &[(&str, &str)]) -> Result<C, String> {
    let function = FLEET
        .iter()
        .find(|f| f.binary == binary)
        .ok_or_else(|| format!("{binary} is not in the fleet's table"))?;
    let mut vars: HashMap<String, String> = fleet::env(function, moto).into_iter().collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    C::from_vars(&vars).map_err(|e| format!("{binary}'s configuration: {e}"))
}

/// `Err(what)` unless `ok`.
pub fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

/// `.or_say("creating the stream")?`: a failed call as the section's failure, with its chain of
/// causes (the SDK's `DisplayErrorContext`).
pub trait OrSay<T> {
    fn or_say(self, what: &str) -> Result<T, String>;
}

impl<T, E: std::error::Error + 'static> OrSay<T> for Result<T, E> {
    fn or_say(self, what: &str) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {}", DisplayErrorContext(&e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_chosen_by_name_in_the_fleets_order() {
        let names = |s: Vec<Section>| s.iter().map(|s| s.name).collect::<Vec<_>>();
        assert_eq!(names(select("").unwrap()).len(), 8);
        assert_eq!(names(select("dlq,alexa").unwrap()), ["alexa", "dlq"]);
        assert_eq!(names(select(" otp  otp ").unwrap()), ["otp"]);
        assert_eq!(
            select("alexa,nope").err().unwrap(),
            "unknown section nope: choose from scheduler, tagging, otp, alexa, robot, approval, calls, dlq"
        );
    }
}
