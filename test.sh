#!/usr/bin/env bash
# The README's test command. It builds the solution, starts the private servers the tests
# need on free loopback ports, runs every test, and stops the servers again, also on failure.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

results=TestResults
rm -rf "$results"
mkdir -p "$results"

# Private servers register their stop commands here; they run on any exit.
cleanup_steps=()
cleanup() { local s; for s in "${cleanup_steps[@]}"; do eval "$s" || true; done; }
trap cleanup EXIT

dotnet build ClusterQueue.sln -c Release -nologo -clp:ErrorsOnly

servers=$(mktemp -d "${TMPDIR:-/tmp}/cq-test-servers.XXXXXX")
cleanup_steps+=("rm -rf '$servers'")

# A private RabbitMQ on free loopback ports; the AMQP tests read CQ_TEST_AMQP_URL and fail without it.
source scripts/test-servers/rabbitmq.sh
cleanup_steps=("rabbitmq_stop" "${cleanup_steps[@]}")
rabbitmq_start "$servers/rabbitmq"

# A private SQS server on a free loopback port; the SQS tests read CQ_TEST_SQS_ENDPOINT and fail without it.
source scripts/test-servers/sqs.sh
cleanup_steps=("sqs_stop" "${cleanup_steps[@]}")
sqs_start "$servers/sqs"

# A private PostgreSQL on a free loopback port; the PostgreSQL tests read CQ_TEST_POSTGRES and fail without it.
# Its server runs as the postgres user, which must be able to enter the servers folder.
chmod o+x "$servers"
source scripts/test-servers/postgres.sh
cleanup_steps=("postgres_stop" "${cleanup_steps[@]}")
postgres_start "$servers/postgres"

# Python Celery for the interop tests; they read CQ_TEST_PYTHON and fail without it.
source scripts/test-servers/celery.sh
celery_prepare

# Chromium for the dashboard test, tmux for the console test; they read CQ_TEST_CHROMIUM and fail without it.
source scripts/test-servers/tools.sh
tools_prepare

status=0
dotnet test Cluster.Tests/Cluster.Tests.csproj -c Release --no-build -nologo \
  --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=normal" \
  --results-directory "$results" -- xUnit.ParallelizeTestCollections=true || status=$?

# One plain closing line that any reader of the log understands.
trx="$results/tests.trx"
if [[ -f "$trx" ]]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  passed=$(get passed); failed=$(get failed); total=$(get total); executed=$(get executed)
  skipped=$(( total - executed ))
  if (( ${failed:-0} > 0 )); then python3 scripts/trx-failures.py "$trx" || true; fi
  echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped} skipped"
  if (( ${executed:-0} == 0 )); then echo "no test ran" >&2; status=1; fi
  if (( skipped > 0 )); then echo "skipped tests are not allowed: every test must run" >&2; status=1; fi
else
  echo "no test results were written" >&2
  status=1
fi
exit "$status"
