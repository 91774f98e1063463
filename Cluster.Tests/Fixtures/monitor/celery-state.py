"""Folds the celeryev events of the Celery 5.2.6 capture with Celery's own State, for the monitor's golden test.

    zcat raw-firehose-stream.jsonl.gz | /usr/bin/python3 celery-state.py events.jsonl expected-state.json

Writes the events, one JSON object per line in publish order (task.multi batches flattened), and what
celery.events.state.State makes of them: each task's state, name, worker and retries, and each worker's
processed and active counts.
"""
import base64
import json
import sys

from celery.events.state import State

events_path, expected_path = sys.argv[1], sys.argv[2]
events = []
for line in sys.stdin:
    record = json.loads(line)
    headers = record.get("props_plain", {}).get("headers", {})
    if record.get("source") != "firehose" or headers.get("exchange_name") != "celeryev":
        continue
    body = json.loads(base64.b64decode(record["body_b64"]))
    events.extend(body if isinstance(body, list) else [body])

state = State()
for event in events:
    # The receiver stamps local_received, as celery's EventReceiver does.
    state.event(dict(event, local_received=event["timestamp"]))

with open(events_path, "w") as out:
    for event in events:
        out.write(json.dumps(event) + "\n")

expected = {
    "tasks": {
        uuid: {"state": task.state, "name": task.name, "worker": task.worker.hostname if task.worker else None,
               "retries": task.retries}
        for uuid, task in state.tasks.items()
    },
    "workers": {name: {"processed": w.processed, "active": w.active} for name, w in state.workers.items()},
}
with open(expected_path, "w") as out:
    json.dump(expected, out, indent=1, sort_keys=True)
print(f"{len(events)} events, {len(expected['tasks'])} tasks, {len(expected['workers'])} workers", file=sys.stderr)
