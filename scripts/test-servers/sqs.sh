#!/usr/bin/env bash
# A private Amazon SQS for the tests: the npm package local-aws-sqs (an in-memory SQS that speaks both the
# JSON protocol of AWSSDK.SQS 4 and the Query protocol of boto3/kombu), run by node on a port of 127.0.0.1
# that the kernel picks, with the fixes in scripts/test-servers/sqs/server.js.
#
#   source scripts/test-servers/sqs.sh
#   sqs_start DIR     # installs local-aws-sqs into DIR, starts it, exports CQ_TEST_SQS_ENDPOINT and CQ_TEST_SQS_REGION
#   sqs_stop          # stops only the server that sqs_start started, and removes DIR
#
# It keeps everything in memory and checks no credentials or signatures: any access key and secret do.
# Clients reach it with endpoint CQ_TEST_SQS_ENDPOINT, region CQ_TEST_SQS_REGION and the key pair in
# CQ_TEST_SQS_ACCESS_KEY_ID / CQ_TEST_SQS_SECRET_ACCESS_KEY; the AWS_* variables are left alone.
# Queue URLs look like $CQ_TEST_SQS_ENDPOINT/123456789012/NAME. kombu/Celery: broker URL
# CQ_TEST_SQS_KOMBU_URL (sqs://KEY:SECRET@HOST:PORT) with transport options region=us-east-1 and
# is_secure=False; it needs python3-boto3, and a worker also python3-pycurl for its asynchronous receive.

SQS_TEST_PACKAGE_VERSION=2.0.2
# IPv4 address to listen on and to put into queue URLs; another one lets clients in other network
# namespaces reach it.
SQS_TEST_ADDRESS=${SQS_TEST_ADDRESS:-127.0.0.1}
SQS_TEST_SHIM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/sqs" && pwd)

# The package and the two small packages it requires, each at the version the fixes were made for.
sqs_install() {
  local prefix=$1
  if [[ "$(node -p "require('$prefix/node_modules/local-aws-sqs/package.json').version" 2>/dev/null)" == "$SQS_TEST_PACKAGE_VERSION" ]]; then
    return 0
  fi
  command -v node >/dev/null && command -v npm >/dev/null || { echo "sqs: node and npm are needed" >&2; return 1; }
  echo "installing local-aws-sqs $SQS_TEST_PACKAGE_VERSION" >&2
  mkdir -p "$prefix"
  npm install --no-audit --no-fund --ignore-scripts --no-update-notifier --loglevel=error --prefix "$prefix" \
    "local-aws-sqs@$SQS_TEST_PACKAGE_VERSION" aws-md5-of-message-attributes@1.0.0 aws-query-decoder@1.0.1 >"$prefix/npm.log" 2>&1 \
    || { echo "sqs: npm install failed:" >&2; tail -n 20 "$prefix/npm.log" >&2; return 1; }
}

sqs_start() {
  local dir=$1
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  export SQS_TEST_DIR=$dir
  sqs_install "$dir/npm" || return 1
  rm -f "$dir/port"
  # Its own session, so that sqs_stop can end it and anything it started as one process group.
  setsid node "$SQS_TEST_SHIM_DIR/server.js" "$dir/npm" "$SQS_TEST_ADDRESS" "$dir/port" </dev/null >"$dir/server.log" 2>&1 &
  export SQS_TEST_LAUNCHER_PID=$!
  # The port file appears once the server listens; then one real request must succeed.
  local deadline=$((SECONDS + 30)) port=""
  while :; do
    if [[ -s "$dir/port" ]]; then
      port=$(<"$dir/port")
      if curl -sf -m 5 --noproxy '*' -o /dev/null -X POST "http://$SQS_TEST_ADDRESS:$port/" \
        -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: AmazonSQS.ListQueues' -d '{}'; then
        break
      fi
    fi
    if (( SECONDS > deadline )) || ! kill -0 "$SQS_TEST_LAUNCHER_PID" 2>/dev/null; then
      echo "the private SQS server did not start; its log is $dir/server.log" >&2
      tail -n 30 "$dir/server.log" >&2 || true
      sqs_stop_server
      return 1
    fi
    sleep 0.2
  done
  export CQ_TEST_SQS_ENDPOINT="http://$SQS_TEST_ADDRESS:$port"
  export CQ_TEST_SQS_REGION=us-east-1
  export CQ_TEST_SQS_ACCESS_KEY_ID=cq-test
  export CQ_TEST_SQS_SECRET_ACCESS_KEY=cq-test
  export CQ_TEST_SQS_ACCOUNT_ID=123456789012
  export CQ_TEST_SQS_KOMBU_URL="sqs://$CQ_TEST_SQS_ACCESS_KEY_ID:$CQ_TEST_SQS_SECRET_ACCESS_KEY@$SQS_TEST_ADDRESS:$port"
  echo "private SQS (local-aws-sqs $SQS_TEST_PACKAGE_VERSION) on $CQ_TEST_SQS_ENDPOINT" >&2
}

# Ends our own server: its whole process group, then, if it ignores that, by force.
sqs_stop_server() {
  [[ -n "${SQS_TEST_LAUNCHER_PID:-}" ]] || return 0
  if kill -0 "$SQS_TEST_LAUNCHER_PID" 2>/dev/null; then
    kill -- "-$SQS_TEST_LAUNCHER_PID" 2>/dev/null || true
    local i
    for (( i = 0; i < 50; i++ )); do
      kill -0 "$SQS_TEST_LAUNCHER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$SQS_TEST_LAUNCHER_PID" 2>/dev/null; then kill -KILL -- "-$SQS_TEST_LAUNCHER_PID" 2>/dev/null || true; fi
  fi
  wait "$SQS_TEST_LAUNCHER_PID" 2>/dev/null || true
  unset SQS_TEST_LAUNCHER_PID
}

sqs_stop() {
  sqs_stop_server
  if [[ -n "${SQS_TEST_DIR:-}" ]]; then rm -rf "$SQS_TEST_DIR"; fi
  unset SQS_TEST_DIR CQ_TEST_SQS_ENDPOINT CQ_TEST_SQS_KOMBU_URL
}
