"""The demo task library in Python: the same names and signatures as samples/DemoTasks, for the interop tests.

The broker URL comes from CELERY_BROKER_URL; results travel over rpc://, as they do for ClusterQueue's client.
"""
import os
import time

from celery import Celery

try:
    BROKER_URL = os.environ["CELERY_BROKER_URL"]
except KeyError:
    raise SystemExit("CELERY_BROKER_URL is not set: it names the RabbitMQ the interop tests started") from None

app = Celery("tasks", broker=BROKER_URL)
app.conf.result_backend = "rpc://"
if BROKER_URL.startswith("sqs://"):
    # The URL's host:port is the local SQS server (plain http); each test keeps its queues apart by a prefix.
    app.conf.broker_transport_options = {
        "region": "us-east-1",
        "is_secure": False,
        "queue_name_prefix": os.environ.get("CQ_INTEROP_SQS_PREFIX", ""),
    }
    # rpc:// has no place on SQS (a reply queue per client, never deleted); the test reads results on its side.
    app.conf.result_backend = None
# Set by the chord tests: rpc:// cannot join a chord, and a file:// directory is a store both sides share.
if os.environ.get("CQ_INTEROP_RESULT_BACKEND"):
    app.conf.result_backend = os.environ["CQ_INTEROP_RESULT_BACKEND"]
    app.conf.result_chord_retry_interval = 0.2
# Tests read results as JSON; pickle is never accepted from the wire.
app.conf.accept_content = ["json"]
app.conf.task_serializer = "json"
app.conf.result_serializer = "json"
# Set by the serializer tests: what this app sends tasks with and accepts (results stay JSON either way).
if os.environ.get("CQ_INTEROP_ACCEPT"):
    app.conf.accept_content = os.environ["CQ_INTEROP_ACCEPT"].split(",")
if os.environ.get("CQ_INTEROP_SERIALIZER"):
    app.conf.task_serializer = os.environ["CQ_INTEROP_SERIALIZER"]
if os.environ.get("CQ_INTEROP_COMPRESSION"):
    app.conf.task_compression = os.environ["CQ_INTEROP_COMPRESSION"]
# Set by the auth serializer tests: a folder with key.pem, cert.pem and store/ (Celery's message signing). Signing
# makes auth the only task serializer; results stay unsigned JSON, as in Celery, so the client accepts those.
if os.environ.get("CQ_INTEROP_SECURITY_DIR"):
    SECURITY_DIR = os.environ["CQ_INTEROP_SECURITY_DIR"]
    app.conf.update(
        security_key=os.path.join(SECURITY_DIR, "key.pem"),
        security_certificate=os.path.join(SECURITY_DIR, "cert.pem"),
        security_cert_store=os.path.join(SECURITY_DIR, "store", "*.pem"),
        task_serializer="auth",
        accept_content=["auth"],
        result_accept_content=["json"],
    )
    app.setup_security()
# Set by the priority test: the task queue is then declared with x-max-priority, as the worker declares it.
if os.environ.get("CQ_INTEROP_MAX_PRIORITY"):
    app.conf.task_queue_max_priority = int(os.environ["CQ_INTEROP_MAX_PRIORITY"])


@app.task(name="tasks.add")
def add(x, y):
    return x + y


@app.task(name="tasks.mul")
def mul(x, y):
    return x * y


@app.task(name="tasks.xsum")
def xsum(numbers):
    return sum(numbers)


@app.task(name="tasks.noop")
def noop():
    return None


@app.task(name="tasks.echo")
def echo(*args, **kwargs):
    return [list(args), kwargs]


@app.task(name="tasks.sleep")
def sleep(seconds):
    time.sleep(seconds)
    return seconds


@app.task(name="tasks.fail")
def fail(message):
    raise ValueError(message)


@app.task(name="tasks.flaky", bind=True, max_retries=10)
def flaky(self, key, failures):
    # The retry count travels in the message, so every pool process agrees on it (C# keeps a per-process count).
    if self.request.retries < failures:
        raise self.retry(
            countdown=0.2,
            exc=RuntimeError(f"flaky failure {self.request.retries + 1} of {failures} for '{key}'"),
        )
    return f"{key} succeeded after {failures} failure{'' if failures == 1 else 's'}"
