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
