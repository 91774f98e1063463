"""Sends one scenario's tasks as a Python Celery client and prints what it saw as one JSON line.

    CELERY_BROKER_URL=amqp://... /usr/bin/python3 client.py SCENARIO

A scenario that goes wrong prints {"error": ...} and exits 1, so the calling test shows the reason.
"""
import datetime
import json
import sys
import time
import traceback

from celery import chord as celery_chord
from celery import group as celery_group
from celery import signature
from celery.exceptions import TaskRevokedError

from tasks import app

TIMEOUT = 60


def describe(exc):
    return {"exc_class": type(exc).__name__, "exc_module": type(exc).__module__, "message": str(exc),
            "args": [str(a) for a in exc.args]}


def add():
    return {"result": app.send_task("tasks.add", (2, 2)).get(timeout=TIMEOUT)}


def fail():
    result = app.send_task("tasks.fail", ("boom from python",))
    try:
        value = result.get(timeout=TIMEOUT)
    except Exception as exc:  # the worker's exception, rebuilt by Celery
        return {"raised": describe(exc), "state": result.state}
    return {"returned": value}


def countdown():
    started = time.monotonic()
    value = app.send_task("tasks.add", (1, 2), countdown=2).get(timeout=TIMEOUT)
    return {"result": value, "elapsed": time.monotonic() - started}


def expired():
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=30)
    result = app.send_task("tasks.add", (1, 1), expires=past)
    try:
        value = result.get(timeout=TIMEOUT)
    except TaskRevokedError as exc:
        return {"raised": describe(exc), "state": result.state, "id": result.id}
    return {"returned": value, "state": result.state}


def priority():
    results = [app.send_task("tasks.add", (n, 0), priority=n) for n in (0, 5, 9)]
    return {"results": [r.get(timeout=TIMEOUT) for r in results]}


def send_priorities():
    # Sent before any worker consumes, in no particular order; the worker is started afterwards.
    sent = [app.send_task("tasks.add", (p, 0), priority=p) for p in (0, 3, 9, 5, 1)]
    return {"sent": [{"id": r.id, "priority": p} for r, p in zip(sent, (0, 3, 9, 5, 1))]}


def ignore_result():
    ignored = app.send_task("tasks.add", (5, 5), ignore_result=True)
    # The worker runs one task at a time, so the follow-up's result comes after anything the first one sent.
    after = app.send_task("tasks.add", (1, 1)).get(timeout=TIMEOUT)
    return {"ignored_id": ignored.id, "ignored_state": ignored.state, "after": after}


def chain():
    workflow = signature("tasks.add", args=(2, 2), app=app) | signature("tasks.mul", args=(10,), app=app)
    result = workflow.apply_async()
    value = result.get(timeout=TIMEOUT)
    return {"result": value, "parent_result": result.parent.get(timeout=TIMEOUT), "id": result.id, "parent_id": result.parent.id}


def group():
    result = celery_group(signature("tasks.add", args=(i, i), app=app) for i in range(5)).apply_async()
    return {"result": result.get(timeout=TIMEOUT), "id": result.id, "members": [r.id for r in result.results]}


def chord():
    # Needs a result store (CQ_INTEROP_RESULT_BACKEND): the client sends celery.chord_unlock, which polls it.
    header = [signature("tasks.add", args=(i, i), app=app) for i in range(10)]
    result = celery_chord(header, signature("tasks.xsum", app=app)).apply_async()
    return {"result": result.get(timeout=TIMEOUT), "id": result.id}


def link():
    callback = signature("tasks.mul", args=(10,), app=app)
    callback_result = callback.freeze()  # gives the callback its task id, so its result can be read
    result = app.send_task("tasks.add", (2, 3), link=callback)
    return {"result": result.get(timeout=TIMEOUT), "callback": callback_result.get(timeout=TIMEOUT)}


def send_add():
    # Without a result backend (SQS): the calling test reads the outcome from the worker's side.
    sent = app.send_task("tasks.add", (2, 2))
    return {"id": sent.id}


def echo_types():
    # Sent with task_serializer and task_compression from CQ_INTEROP_SERIALIZER and CQ_INTEROP_COMPRESSION.
    echoed = app.send_task("tasks.echo", (1, 2.5, "h\u00e9llo \U0001F600", [1, {"a": None}], True, "yes", "null", "1e3"),
                           {"big": 2**63 - 1, "neg": -129, "f": 1.0}).get(timeout=TIMEOUT)
    added = app.send_task("tasks.add", (2, 2)).get(timeout=TIMEOUT)
    return {"echo": echoed, "add": added, "serializer": app.conf.task_serializer, "compression": app.conf.task_compression}


SCENARIOS = {f.__name__: f for f in (add, fail, countdown, expired, priority, send_priorities, ignore_result, chain, group,
                                     chord, link, send_add, echo_types)}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print(json.dumps({"error": f"usage: client.py {{{'|'.join(SCENARIOS)}}}"}))
        return 2
    try:
        print(json.dumps(SCENARIOS[sys.argv[1]]()))
        return 0
    except Exception as exc:
        print(json.dumps({"error": describe(exc), "traceback": traceback.format_exc()}))
        return 1


if __name__ == "__main__":
    sys.exit(main())
