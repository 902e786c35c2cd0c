"""Seeds for the fuzz corpora (fuzz/corpus/<target>/seed-*): the inputs the project already knows,
from events/ and the test fixtures. Existing corpus files (what earlier runs found) are kept."""
import glob
import hashlib
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    folder = os.path.join(ROOT, "fuzz", "corpus", target)
    os.makedirs(folder, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def events(folder):
    for path in sorted(glob.glob(os.path.join(ROOT, "events", folder, "*.json"))):
        with open(path) as f:
            yield json.load(f)


# Schedule tags: the example fleet's values (crates/testkit/src/seed.rs) and the README's.
with open(os.path.join(ROOT, "crates", "testkit", "src", "seed.rs")) as f:
    import re

    for tag in re.findall(r'seed\("[^"]*", "([^"]*)"', f.read()):
        write("schedule", tag)
for tag in ["Mon - Fri 08:00 - 19:15 Europe/Amsterdam", "Fri-Mon 22:00-24:00", "-18:30T", "#paused"]:
    write("schedule", tag)

# S3 keys as events carry them.
for event in events("call-center"):
    for record in event.get("Records", []):
        key = record.get("s3", {}).get("object", {}).get("key")
        if key:
            write("s3_key", key)

# Transcript text for the chunker (first byte: the limit).
for path in glob.glob(os.path.join(ROOT, "crates", "call-center", "fixtures", "transcripts", "*.json")):
    with open(path) as f:
        data = json.load(f)
    for transcript in data.get("results", {}).get("transcripts", []):
        write("chunker", bytes([60]) + transcript.get("transcript", "").encode())

# Robot command bodies.
for event in events("robot-publisher"):
    body = event.get("body")
    if isinstance(body, str):
        write("robot_command", body)

# Approval links: id, approver, a signature. The first is the input that found upper-case
# signatures verifying (a regression case; its own signature's letters in upper case).
write("approval_link", "\n\nbeb332c5e190fcbd2be0829cF11a206f6be1ef089986812adea3ef9298f89772")
for event in events("approval-worker"):
    sig = (event.get("queryStringParameters") or {}).get("sig", "")
    write("approval_link", f"id-1\nmanager@example.com\n{sig}")

# Explain: 7 bytes (minutes since 2026, window length, state), then a tag; each tag at a few
# instants and states.
for tag in ["08:00-19:15", "Mon-Fri 08:00-19:15 Europe/Amsterdam", "-19:15T", "-07:55", "#08:00-19:15",
            "Fri-Mon 22:00-24:00 America/New_York"]:
    for minutes, state in [(462 * 24 * 60 + 8 * 60 + 5, 3), (462 * 24 * 60 + 19 * 60 + 20, 1), (35000, 7)]:
        write("explain", minutes.to_bytes(4, "little") + (10).to_bytes(2, "little") + bytes([state]) + tag.encode())

# Rule rows: the seed's three rules, tab-separated, after a PROTECTED_TAG_KEYS line.
write("tagging_rules", "Owner, CostCentre\n1\tProjectCode\tUpdate\tY\tProj007\n2\tCreatedBy\tUserLookup\tY\t\u0001\n"
      "3\tExpires\tFunction\tN\ttoday()\n4\tschedule\tUpdate\tY\tx\n5\tOwner\tUpdate\tN\tme\n")

# OTP bodies: first byte picks send (0), verify (1), MFA verify (2).
for event in events("otp-validator"):
    body = event.get("body")
    if isinstance(body, str) and event.get("path"):
        for endpoint in range(3):
            write("otp_api", bytes([endpoint]) + body.encode())

# Alexa requests: every sample envelope.
for event in events("alexa-skill"):
    write("alexa_request", json.dumps(event))

# Approval form posts: first byte's bits pick GET, a tampered signature, a second POST.
for body in ["comment=Well+deserved%21&decision=approve", "decision=reject&comment=not+yet", "decision=",
             "decision=approve&decision=reject", "comment=%3Cscript%3E"]:
    for flags in [0, 2, 4]:
        write("approval_form", bytes([flags]) + body.encode())

# DLQ messages: the bodies the samples carry, and the samples as whole payloads.
for event in events("dlq-handler"):
    write("dlq_message", json.dumps(event))
    for record in event.get("Records", []):
        body = record.get("body") or record.get("Sns", {}).get("Message")
        if body:
            write("dlq_message", body)

# Transcribe output: the analyser's fixtures.
for path in glob.glob(os.path.join(ROOT, "crates", "call-center", "fixtures", "transcripts", "*.json")):
    with open(path) as f:
        write("transcript", f.read())
