//! Every sample in `events/alexa-skill/` is an Alexa request for this skill (or, for
//! 17-another-skill.json, for another one), with a user and both application ids.

use alexa_skill::RequestEnvelope;
use fleet_testkit::{event_files, load_event};

const SKILL: &str = "amzn1.ask.skill.5d1c3f0e-7a2b-4c9d-8e1f-0a2b3c4d5e6f";

#[test]
fn every_sample_is_an_alexa_request() {
    let files = event_files("alexa-skill");
    assert_eq!(files.len(), 18, "{files:?}");
    for file in files {
        let request: RequestEnvelope =
            fleet_core::event::parse(load_event(&file), "an Alexa request")
                .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(request.version, "1.0", "{file}");
        assert!(request.user_id().is_some(), "{file}");
        let ids = request.application_ids();
        assert_eq!(ids.len(), 2, "{file}");
        let for_us = ids.iter().all(|id| *id == SKILL);
        assert_eq!(for_us, !file.ends_with("17-another-skill.json"), "{file}");
    }
}
