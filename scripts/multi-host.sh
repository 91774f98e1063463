#!/usr/bin/env bash
# Proves that worker nodes on separate hosts form one cluster. Each host is a network namespace on a
# private bridge, so nodes reach each other and the broker only by their own addresses, never over
# loopback. Hosts: broker (RabbitMQ), w1 (seed), w2, w3 (one worker each), client (the CLI).
# Every worker runs with the broker pidbox off, so remote control can only travel over the cluster.
#
#   sudo scripts/multi-host.sh      # CQ_NODE_DLL=path/Cluster.Node.dll skips the build
#
# Last, a partition: w3 loses its link while running late-ack tasks; the majority downs it, no task is lost,
# and w3 joins again once the link is back.
#
# Prints one line per step and ends with 'multi-host: PASS' (exit 0) or 'multi-host: FAIL: ...' (exit 1).
# Everything it creates (namespaces, veths, bridge, processes, files) is removed on any exit.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# The pid in every name keeps parallel runs apart; their namespaces are separate, so the subnet may repeat.
run=$$
# Interface names have at most 15 characters, so they carry an index rather than the host's name.
bridge=cq${run}br
net=10.231.0
declare -A addr=([broker]=$net.2 [w1]=$net.11 [w2]=$net.12 [w3]=$net.13 [client]=$net.20)
hosts=(broker w1 w2 w3 client)
workers=(w1 w2 w3)
seed="akka.tcp://cluster-queue@${addr[w1]}:4053"
nodes="w1@host1,w2@host2,w3@host3"
declare -A worker_pid=()
exit_status=0
work=""
made_bridge=0
made_ns=()
# Background senders of the partition scenario.
bg_pids=()
reported=0
failed_at=""

step() { echo "multi-host: $*"; }
ns() { echo "cqmh-$run-$1"; }
veth() { echo "cq${run}v$1"; }

show_logs() {
  [[ -n "$work" ]] || return 0
  local f
  for f in "$work"/broker-start.log "$work"/w?/worker.log; do
    [[ -s "$f" ]] || continue
    echo "----- tail of ${f#"$work"/}"
    # Akka's lines carry whole stack traces; the start of each is enough to see what went wrong.
    tail -n 20 "$f" | cut -c 1-400
  done
}

fail() {
  echo "multi-host: FAIL: $*"
  reported=1
  show_logs
  exit 1
}

# SIGTERM (a warm shutdown) to the given workers, SIGKILL to any still running after 30 s.
# Sets exit_status to the last one's exit status.
stop_workers() {
  local w i pids=()
  for w in "$@"; do
    [[ -n "${worker_pid[$w]:-}" ]] || continue
    pids+=("${worker_pid[$w]}")
    kill -TERM "${worker_pid[$w]}" 2>/dev/null || true
  done
  for (( i = 0; i < 300; i++ )); do
    kill -0 "${pids[@]}" 2>/dev/null || break
    sleep 0.1
  done
  for w in "$@"; do
    [[ -n "${worker_pid[$w]:-}" ]] || continue
    kill -KILL "${worker_pid[$w]}" 2>/dev/null || true
    exit_status=0
    wait "${worker_pid[$w]}" 2>/dev/null || exit_status=$?
    unset "worker_pid[$w]"
  done
}

cleanup() {
  local status=$? n i pids
  trap - EXIT
  set +e
  if (( status != 0 && !reported )); then
    echo "multi-host: FAIL: ${failed_at:-exit status $status}"
    show_logs
  fi
  for i in "${bg_pids[@]}"; do kill -TERM "$i" 2>/dev/null; done
  stop_workers "${workers[@]}"
  if [[ -n "$work" && -f "$work/rabbitmq.env" ]]; then
    ip netns exec "$(ns broker)" bash -c 'source scripts/test-servers/rabbitmq.sh; source "$1"; rabbitmq_stop' \
      _ "$work/rabbitmq.env" >/dev/null 2>&1
  fi
  # Whatever still runs inside our namespaces was started by this run (epmd, a half-started broker).
  for n in "${made_ns[@]}"; do
    for (( i = 0; i < 50; i++ )); do
      pids=$(ip netns pids "$n" 2>/dev/null)
      [[ -n "$pids" ]] || break
      kill -KILL $pids 2>/dev/null
      sleep 0.1
    done
  done
  # Deleting the root end of a veth removes both ends at once; deleting the namespace alone does it later.
  for i in "${!hosts[@]}"; do ip link del "$(veth "$i")" 2>/dev/null; done
  for n in "${made_ns[@]}"; do ip netns del "$n" 2>/dev/null; done
  (( made_bridge )) && ip link del "$bridge" 2>/dev/null
  [[ -n "$work" ]] && rm -rf "$work"
  if (( status == 0 )); then step "PASS"; else exit 1; fi
}
trap cleanup EXIT
trap 'failed_at="line $LINENO: $BASH_COMMAND"' ERR
trap 'failed_at="interrupted"; exit 1' INT TERM

(( EUID == 0 )) || fail "run as root (it creates network namespaces)"
work=$(mktemp -d "${TMPDIR:-/tmp}/cq-multi-host.XXXXXX")
work=$(cd "$work" && pwd)
# One result backend for every host (the namespaces share the filesystem), so the client sees what any worker
# stored. SQLAlchemy's form: sqlite:/// followed by the absolute path.
results="sqlite:///$work/results.db"
# The partition must resolve within the script's time: the resolver acts 5 s after membership settles (20 s by
# default); the failure detector's pause is Akka's default, stated so the timing here does not move with it.
cat >"$work/partition.conf" <<'EOF'
akka.cluster.split-brain-resolver.stable-after = 5s
akka.cluster.failure-detector.acceptable-heartbeat-pause = 3s
EOF

# The broker's namespace has no way out, so install RabbitMQ (if missing) from here.
bash -c 'source scripts/test-servers/rabbitmq.sh && rabbitmq_install' || fail "could not install rabbitmq-server"

dll=${CQ_NODE_DLL:-}
# Every CQ_ variable is a setting to the nodes; this one is ours.
unset CQ_NODE_DLL
if [[ -n "$dll" ]]; then
  step "using $dll"
else
  step "building Cluster.Node"
  dotnet build Cluster.Node -c Release -nologo -clp:ErrorsOnly >"$work/build.log" 2>&1 \
    || { cat "$work/build.log"; fail "the build failed"; }
  dll=$PWD/Cluster.Node/bin/Release/net10.0/Cluster.Node.dll
fi
[[ -f "$dll" ]] || fail "no $dll"
dll=$(cd "$(dirname "$dll")" && pwd)/$(basename "$dll")

step "network: bridge $bridge, namespaces ${hosts[*]} on $net.0/24"
ip link add "$bridge" type bridge
made_bridge=1
ip link set "$bridge" up
for i in "${!hosts[@]}"; do
  h=${hosts[$i]}
  n=$(ns "$h")
  ip netns add "$n"
  made_ns+=("$n")
  ip link add "$(veth "$i")" type veth peer name eth0 netns "$n"
  ip link set "$(veth "$i")" master "$bridge" up
  ip -n "$n" link set lo up
  ip -n "$n" addr add "${addr[$h]}/24" dev eth0
  ip -n "$n" link set eth0 up
done

step "broker: starting RabbitMQ in $(ns broker) on ${addr[broker]}"
ip netns exec "$(ns broker)" env RABBITMQ_TEST_VHOSTS=2 RABBITMQ_TEST_ADDRESS="${addr[broker]}" bash -c '
  set -e
  source scripts/test-servers/rabbitmq.sh
  rabbitmq_start "$1/rabbitmq"
  declare -p RABBITMQ_TEST_NODE RABBITMQ_TEST_DIR RABBITMQ_TEST_EPMD_PORT RABBITMQ_TEST_LAUNCHER_PID \
    CQ_TEST_AMQP_URL >"$1/rabbitmq.env"' _ "$work" >"$work/broker-start.log" 2>&1 \
  || fail "RabbitMQ did not start in $(ns broker)"
# CQ_TEST_AMQP_URL ends in '/'; the vhost name follows it.
url=$(source "$work/rabbitmq.env" && echo "${CQ_TEST_AMQP_URL}cq-test-1")
[[ "$url" == "amqp://guest:guest@${addr[broker]}:"* ]] || fail "unexpected broker URL $url"
step "broker: $url"

start_worker() {
  local w=$1 dir=$work/$1
  local args=(worker -b "$url" -n "$w@host${w#w}" --cluster-host "${addr[$w]}" --cluster-port 4053
    --acks-late -c 2 -l info --config "$work/partition.conf" --result-backend "$results")
  [[ "$w" == w1 ]] || args+=(--seed "$seed")
  mkdir -p "$dir"
  # A 4 s AMQP heartbeat makes RabbitMQ drop a cut-off worker's connection, and requeue its unacked tasks, in
  # seconds rather than minutes.
  (cd "$dir" && exec ip netns exec "$(ns "$w")" env CQ_CONTROL__PIDBOX=off CQ_NODE__STATE_DB="$dir/state.db" \
    CQ_BROKER__HEARTBEAT=4s dotnet "$dll" "${args[@]}") >>"$dir/worker.log" 2>&1 &
  worker_pid[$w]=$!
}

# Runs the CLI in the client namespace against the cluster; its output goes to $work/out.
client() {
  mkdir -p "$work/client"
  local status=0
  (cd "$work/client" && exec ip netns exec "$(ns client)" timeout 60 dotnet "$dll" "$@" -b "$url" \
    --seed "$seed" --cluster-host "${addr[client]}") >"$work/out" 2>&1 || status=$?
  return "$status"
}

# Polls status until exactly the given nodes are Up.
await_up() {
  local want=$1 deadline=$((SECONDS + 90)) up
  while :; do
    up=""
    if client status --carrier cluster; then
      up=$(sed -n 's/^->  \(w[0-9]@host[0-9]\): Up .*/\1/p' "$work/out" | sort | paste -sd, -)
    fi
    [[ "$up" == "$want" ]] && return 0
    for w in "${!worker_pid[@]}"; do
      kill -0 "${worker_pid[$w]}" 2>/dev/null || fail "worker $w exited while waiting for $want to be Up"
    done
    if (( SECONDS > deadline )); then
      cat "$work/out"
      fail "status did not show $want Up within 90 s (Up: ${up:-none})"
    fi
    sleep 1
  done
}

# Up in the membership comes before a worker has started its control handlers; wait until each answers.
await_ping() {
  local want=$1 deadline=$((SECONDS + 60)) n names
  IFS=, read -ra names <<<"$want"
  while :; do
    n=0
    if client inspect ping --carrier cluster -d "$want" -t 5; then n=$(replies); fi
    (( n == ${#names[@]} )) && return 0
    if (( SECONDS > deadline )); then
      cat "$work/out"
      fail "not every one of $want answered inspect ping within 60 s"
    fi
    sleep 1
  done
}

# Counts the '->  <node>: OK' replies of our workers in $work/out.
replies() { grep -cE "^->  (w1@host1|w2@host2|w3@host3): OK" "$work/out" || true; }

step "workers: starting w1 (seed) in $(ns w1) on ${addr[w1]}"
start_worker w1
step "workers: starting w2, w3 with --seed $seed"
start_worker w2
start_worker w3
await_up "w1@host1,w2@host2,w3@host3"
step "status: w1@host1, w2@host2, w3@host3 Up, seen from $(ns client)"
await_ping "$nodes"
step "inspect ping: 3 replies over the cluster"

# The pidbox is off everywhere, so the broker carrier must find nobody.
status=0
client inspect ping --carrier broker -t 2 || status=$?
(( status == 69 )) && grep -q "No nodes replied within time constraint" "$work/out" \
  || { cat "$work/out"; fail "inspect ping over the broker pidbox: want no reply (exit 69), got exit $status"; }
step "pidbox: off on every worker (inspect ping over the broker gets no reply)"

client control rate_limit tasks.add 7/s --carrier cluster -d "$nodes" -t 10 \
  || { cat "$work/out"; fail "control rate_limit failed"; }
n=$(grep -c "new rate limit set successfully" "$work/out" || true)
(( n == 3 )) || { cat "$work/out"; fail "control rate_limit got $n replies, want 3"; }
step "control rate_limit: 3 replies over the cluster"

client inspect active --carrier cluster -d "$nodes" -t 10 || { cat "$work/out"; fail "inspect active failed"; }
n=$(replies)
(( n == 3 )) || { cat "$work/out"; fail "inspect active got $n replies, want 3"; }
step "inspect active: 3 replies"

step "revocation: stopping w3 (SIGTERM)"
stop_workers w3
step "revocation: w3 exited with status $exit_status"
await_up "w1@host1,w2@host2"
task_id=$(cat /proc/sys/kernel/random/uuid)
client control revoke "$task_id" --carrier cluster -d w1@host1,w2@host2 -t 10 \
  || { cat "$work/out"; fail "control revoke failed"; }
n=$(replies)
(( n == 2 )) || { cat "$work/out"; fail "control revoke got $n replies, want 2"; }
step "revocation: revoked $task_id on w1, w2 while w3 was down"
start_worker w3
await_up "w1@host1,w2@host2,w3@host3"
await_ping w3@host3
step "revocation: w3 rejoined with its old state db and answers"
client inspect revoked --carrier cluster -d w3@host3 -t 10 || { cat "$work/out"; fail "inspect revoked failed"; }
grep -q "$task_id" "$work/out" || { cat "$work/out"; fail "w3 does not hold the id revoked while it was down"; }
step "revocation: w3 holds $task_id"

# Partition: w3's link goes down while it runs late-ack tasks. The majority (w1, w2) downs and removes it, the
# broker requeues what w3 held unacked, so every task still succeeds; w3 keeps running, starts again and joins
# as soon as the link is back.

# The CLI in the client namespace for commands that reach only the broker and the result backend.
cli() {
  mkdir -p "$work/client"
  (cd "$work/client" && exec ip netns exec "$(ns client)" timeout 60 dotnet "$dll" "$@")
}

# Sets member to the status of $1 that status over the cluster shows, 'absent' when not listed; fails when
# status itself fails (which says nothing about the member).
member=""
member_status() {
  client status --carrier cluster || return 1
  member=$(sed -n "s/^->  $1: \([A-Za-z]*\) .*/\1/p" "$work/out")
  member=${member:-absent}
}

w3_alive() {
  kill -0 "${worker_pid[w3]}" 2>/dev/null && return 0
  local s=0
  wait "${worker_pid[w3]}" || s=$?
  unset "worker_pid[w3]"
  fail "w3 exited (status $s) during the partition instead of starting again and rejoining"
}

for i in "${!hosts[@]}"; do [[ "${hosts[$i]}" == w3 ]] && w3_link=$(veth "$i"); done
tasks=40 lanes=4
# One by one the tasks go out slower than the pool of 6 runs them, so nobody consumes while they are sent: then
# each worker reserves a full window of unacked tasks at once, and w3 holds several when its link goes down.
client control cancel_consumer celery --carrier cluster -d "$nodes" -t 10 || { cat "$work/out"; fail "control cancel_consumer failed"; }
n=$(replies)
(( n == 3 )) || { cat "$work/out"; fail "control cancel_consumer got $n replies, want 3"; }
step "partition: sending $tasks late-ack tasks.sleep(1) from $(ns client) ($lanes senders) with consumers cancelled"
for (( l = 0; l < lanes; l++ )); do
  (
    for (( k = 0; k < tasks / lanes; k++ )); do
      cli call tasks.sleep -a '[1]' -b "$url" --result-backend "$results" || exit 1
    done
  ) >"$work/ids.$l" 2>"$work/send.$l.log" &
  bg_pids+=($!)
done
for i in "${bg_pids[@]}"; do
  wait "$i" || { cat "$work"/send.*.log; fail "sending the tasks failed"; }
done
bg_pids=()
mapfile -t ids < <(cat "$work"/ids.* | grep -E '^[0-9a-f-]{36}$')
(( ${#ids[@]} == tasks )) || { cat "$work"/ids.* "$work"/send.*.log; fail "call printed ${#ids[@]} task ids, want $tasks"; }
client control add_consumer celery --carrier cluster -d "$nodes" -t 10 || { cat "$work/out"; fail "control add_consumer failed"; }
n=$(replies)
(( n == 3 )) || { cat "$work/out"; fail "control add_consumer got $n replies, want 3"; }
step "partition: $tasks tasks sent, consumers added again"
deadline=$((SECONDS + 30))
until client inspect active --carrier cluster -d w3@host3 -t 5 && grep -q "tasks.sleep" "$work/out"; do
  (( SECONDS <= deadline )) || { cat "$work/out"; fail "w3 was not seen running a task within 30 s"; }
  sleep 0.2
done
ip link set "$w3_link" down
cut_at=$SECONDS
step "partition: w3 runs $(grep -c 'tasks.sleep' "$work/out") task(s); its link $w3_link is down"

deadline=$((cut_at + 30))
while ! { member_status w3@host3 && [[ "$member" == Unreachable ]]; }; do
  w3_alive
  (( SECONDS <= deadline )) || { cat "$work/out"; fail "w3 was not Unreachable within 30 s of the cut (status: ${member:-none})"; }
  # Unreachable lasts only about stable-after (5 s) before the majority downs w3.
  sleep 0.2
done
step "partition: w3 is Unreachable after $((SECONDS - cut_at)) s"
deadline=$((SECONDS + 60))
while ! { member_status w3@host3 && [[ "$member" == absent ]]; }; do
  w3_alive
  (( SECONDS <= deadline )) || { cat "$work/out"; fail "w3 was not downed and removed within 60 s (status: $member)"; }
  sleep 1
done
step "partition: w3 downed and removed after $((SECONDS - cut_at)) s"

# Every task must succeed on one worker or another; a task w3 took and could not ack is run again elsewhere.
deadline=$((SECONDS + 90))
pending=("${ids[@]}")
while :; do
  left=()
  for id in "${pending[@]}"; do
    cli result "$id" --json --result-backend "$results" >/dev/null 2>&1 || left+=("$id")
  done
  pending=("${left[@]}")
  (( ${#pending[@]} == 0 )) && break
  w3_alive
  if (( SECONDS > deadline )); then
    for id in "${pending[@]}"; do cli result "$id" --json --result-backend "$results" 2>&1 || true; done
    fail "${#pending[@]} of $tasks tasks did not reach SUCCESS within 90 s"
  fi
  sleep 1
done
runs=""
for w in "${workers[@]}"; do
  runs+=" $w $(grep 'tasks.sleep\[' "$work/$w/worker.log" | grep -c 'succeeded' || true),"
done
twice=$(cat "$work"/w?/worker.log | grep 'succeeded' | grep -o 'tasks.sleep\[[^]]*\]' | sort | uniq -d | wc -l || true)
step "partition: all $tasks tasks SUCCESS after $((SECONDS - cut_at)) s; ran on${runs%,}; $twice ran twice"

# Downed by the majority, w3 must also have noticed and started again rather than ended.
deadline=$((SECONDS + 30))
until grep -q "downed by the cluster; starting again and rejoining" "$work/w3/worker.log"; do
  w3_alive
  (( SECONDS <= deadline )) || fail "w3 did not report being downed within 30 s"
  sleep 1
done
w3_alive
step "partition: w3 was downed by the cluster and keeps running"

ip link set "$w3_link" master "$bridge" up
ip -n "$(ns w3)" addr show dev eth0 | grep -q "inet ${addr[w3]}/" || ip -n "$(ns w3)" addr add "${addr[w3]}/24" dev eth0
healed_at=$SECONDS
step "partition: link $w3_link up again"
await_up "w1@host1,w2@host2,w3@host3"
await_ping w3@host3
step "partition: w3 joined again after $((SECONDS - healed_at)) s and answers"
