#!/usr/bin/env python3
"""Verify a servicetrail audit export offline, with the Python standard library only.

    python3 tools/verify_export.py export.jsonl      (or export.csv)

For every event: hash == sha256(UTF-8 JSON of the event without "hash", keys sorted, separators
"," and ":", non-ASCII kept); and, per ticket in version order, prev_hash == the previous
event's hash (64 zeros for version 1). Exit 0 when every event verifies, 1 otherwise.
"""

import csv
import hashlib
import json
import sys

GENESIS = "0" * 64


def events(path):
    with open(path, newline="", encoding="utf-8") as handle:
        if path.endswith(".csv"):
            for row in csv.DictReader(handle):
                yield json.loads(row["event_json"])
        else:
            for line in handle:
                if line.strip():
                    yield json.loads(line)


def digest(event):
    body = {k: v for k, v in event.items() if k != "hash"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main(path):
    tickets, problems, count = {}, [], 0
    for event in events(path):
        count += 1
        if digest(event) != event["hash"]:
            problems.append(f"{event['ticket_id']} v{event['version']}: hash does not match content")
        tickets.setdefault(event["ticket_id"], []).append(event)
    for ticket, chain in tickets.items():
        chain.sort(key=lambda e: e["version"])
        previous = GENESIS if chain[0]["version"] == 1 else chain[0]["prev_hash"]  # a period may start mid-ticket
        for event in chain:
            if event["prev_hash"] != previous:
                problems.append(f"{ticket} v{event['version']}: prev_hash does not link to v{event['version'] - 1}")
            previous = event["hash"]
    for problem in problems:
        print(problem)
    print(f"{count} events, {len(tickets)} tickets: {'INTACT' if not problems else 'BROKEN'}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
