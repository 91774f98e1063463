"""Reads and writes results through Celery's own FilesystemBackend, with no broker, and prints one JSON line.

    /usr/bin/python3 filesystem_backend.py read DIR TASK_ID FAILED_ID GROUP_ID
    /usr/bin/python3 filesystem_backend.py write DIR TASK_ID GROUP_ID MEMBER_ID...

A run that goes wrong prints {"error": ...} and exits 1, so the calling test shows the reason.
"""
import json
import sys
import traceback
from types import SimpleNamespace

from celery import Celery
from celery.result import GroupResult


def make_app(directory):
    # The broker is never contacted: results go straight to the directory.
    app = Celery("filesystem_interop", broker="memory://", backend="file://" + directory)
    app.conf.result_extended = True
    app.conf.accept_content = ["json"]
    app.conf.result_serializer = "json"
    return app


def read(directory, task_id, failed_id, group_id):
    app = make_app(directory)
    result = app.AsyncResult(task_id)
    meta = app.backend.get_task_meta(task_id)
    failed = app.AsyncResult(failed_id)
    group = GroupResult.restore(group_id, app=app)
    return {
        "state": result.state,
        "result": result.get(timeout=10),
        "meta": {key: value for key, value in meta.items() if key != "date_done"},
        "date_done": result.date_done.isoformat() if result.date_done else None,
        "failed_state": failed.state,
        "failed_exception": type(failed.result).__name__,
        "failed_message": str(failed.result),
        "group_id": group.id if group else None,
        "group_members": [r.id for r in group.results] if group else None,
        "missing_group": GroupResult.restore("never-saved-" + group_id, app=app) is None,
    }


def write(directory, task_id, group_id, *member_ids):
    app = make_app(directory)
    # What a worker's request carries into the result_extended fields.
    request = SimpleNamespace(task="tasks.add", args=[2, 2], kwargs={"k": "v"}, hostname="py@host", retries=1,
                              delivery_info={"routing_key": "celery"}, children=[], group=None, parent_id=None)
    app.backend.store_result(task_id, {"sum": 4, "text": "h\u00e9llo"}, "SUCCESS", request=request)
    GroupResult(group_id, [app.AsyncResult(m) for m in member_ids], app=app).save()
    return {"written": True}


SCENARIOS = {"read": read, "write": write}


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in SCENARIOS:
        print(json.dumps({"error": f"usage: filesystem_backend.py {{{'|'.join(SCENARIOS)}}} DIR ..."}))
        return 2
    try:
        print(json.dumps(SCENARIOS[sys.argv[1]](*sys.argv[2:])))
        return 0
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}))
        return 1


if __name__ == "__main__":
    sys.exit(main())
