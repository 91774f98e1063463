#!/usr/bin/env bash
# A private RabbitMQ node for the tests: its own node name, cookie, data, logs, epmd and ports on
# 127.0.0.1, so it never meets a RabbitMQ or epmd that someone else runs on this machine.
#
#   source scripts/test-servers/rabbitmq.sh
#   rabbitmq_start DIR     # installs rabbitmq-server if missing, starts the node, exports CQ_TEST_AMQP_URL
#   rabbitmq_stop          # stops only the node that rabbitmq_start started
#
# Tests take one of the pre-made vhosts cq-test-1..N (CQ_TEST_AMQP_VHOSTS) each, so they can use
# fixed queue names without meeting each other; CQ_TEST_RABBITMQCTL runs rabbitmqctl against the node.

RABBITMQ_TEST_VHOSTS=${RABBITMQ_TEST_VHOSTS:-200}
# Address of the AMQP listener; another one lets clients in other network namespaces reach it.
# Erlang distribution and epmd stay on 127.0.0.1.
RABBITMQ_TEST_ADDRESS=${RABBITMQ_TEST_ADDRESS:-127.0.0.1}
# The scripts under /usr/sbin switch to the system rabbitmq user, whose home holds the system cookie;
# these run as the caller with the environment given here.
RABBITMQ_BIN=/usr/lib/rabbitmq/bin

rabbitmq_install() {
  if [[ -x /usr/sbin/rabbitmq-server ]]; then return 0; fi
  echo "installing rabbitmq-server" >&2
  # Keep the package from starting a system-wide broker during the install.
  local made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local status=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null; } || status=$?
  if (( made_policy )); then rm -f /usr/sbin/policy-rc.d; fi
  return "$status"
}

rabbitmq_free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs a RabbitMQ CLI tool with the private node's environment.
rabbitmq_env() {
  env HOME="$RABBITMQ_TEST_DIR/home" ERL_EPMD_PORT="$RABBITMQ_TEST_EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_CONF_ENV_FILE="$RABBITMQ_TEST_DIR/rabbitmq-env.conf" "$@"
}

rabbitmq_start() {
  local dir=$1
  rabbitmq_install || { echo "could not install rabbitmq-server" >&2; return 1; }
  mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
  dir=$(cd "$dir" && pwd)
  export RABBITMQ_TEST_DIR=$dir
  export RABBITMQ_TEST_EPMD_PORT; RABBITMQ_TEST_EPMD_PORT=$(rabbitmq_free_port)
  local amqp_port dist_port
  amqp_port=$(rabbitmq_free_port)
  dist_port=$(rabbitmq_free_port)
  export RABBITMQ_TEST_NODE="cq-test-$$@localhost"
  # A fresh cookie, readable only by us, as Erlang insists.
  head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$dir/home/.erlang.cookie"
  chmod 400 "$dir/home/.erlang.cookie"
  # No plugins at all (so no management listener), and the environment file of the machine is not read.
  echo "[]." >"$dir/enabled_plugins"
  : >"$dir/rabbitmq-env.conf"
  cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.1 = $RABBITMQ_TEST_ADDRESS:$amqp_port
loopback_users = none
log.console = false
log.file.level = warning
CONF
  RABBITMQ_NODENAME=$RABBITMQ_TEST_NODE RABBITMQ_NODE_IP_ADDRESS=$RABBITMQ_TEST_ADDRESS RABBITMQ_NODE_PORT=$amqp_port \
    RABBITMQ_DIST_PORT=$dist_port RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
    RABBITMQ_PLUGINS_EXPAND_DIR="$dir/plugins-expand" RABBITMQ_PID_FILE="$dir/rabbitmq.pid" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} -kernel inet_dist_listen_min $dist_port -kernel inet_dist_listen_max $dist_port" \
    rabbitmq_env setsid "$RABBITMQ_BIN/rabbitmq-server" >"$dir/log/stdout.log" 2>&1 &
  export RABBITMQ_TEST_LAUNCHER_PID=$!
  # await_startup gives up at once while the node is not yet known to epmd, so ask again until it answers.
  local deadline=$((SECONDS + 120))
  until rabbitmq_env "$RABBITMQ_BIN/rabbitmqctl" -q -n "$RABBITMQ_TEST_NODE" --timeout 60 await_startup >"$dir/log/await.log" 2>&1; do
    if (( SECONDS > deadline )) || ! kill -0 "$RABBITMQ_TEST_LAUNCHER_PID" 2>/dev/null; then
      echo "the private RabbitMQ did not start; its logs are in $dir/log" >&2
      tail -n 30 "$dir/log/stdout.log" "$dir/log/await.log" >&2 || true
      return 1
    fi
    sleep 1
  done
  rabbitmq_make_vhosts "$dir" || return 1
  cat >"$dir/rabbitmqctl" <<CTL
#!/usr/bin/env bash
exec env HOME="$dir/home" ERL_EPMD_PORT="$RABBITMQ_TEST_EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1 \\
  RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" $RABBITMQ_BIN/rabbitmqctl -n "$RABBITMQ_TEST_NODE" "\$@"
CTL
  chmod +x "$dir/rabbitmqctl"
  export CQ_TEST_AMQP_URL="amqp://guest:guest@$RABBITMQ_TEST_ADDRESS:$amqp_port/"
  export CQ_TEST_AMQP_VHOSTS=$RABBITMQ_TEST_VHOSTS
  export CQ_TEST_RABBITMQCTL="$dir/rabbitmqctl"
  echo "private RabbitMQ $RABBITMQ_TEST_NODE on $RABBITMQ_TEST_ADDRESS:$amqp_port" >&2
}

# One definitions import creates every vhost at once; a rabbitmqctl call per vhost costs a second each.
rabbitmq_make_vhosts() {
  local dir=$1 i vhosts="" permissions="" sep=""
  for (( i = 1; i <= RABBITMQ_TEST_VHOSTS; i++ )); do
    vhosts+="$sep{\"name\":\"cq-test-$i\"}"
    permissions+="$sep{\"user\":\"guest\",\"vhost\":\"cq-test-$i\",\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}"
    sep=","
  done
  echo "{\"vhosts\":[$vhosts],\"permissions\":[$permissions]}" >"$dir/definitions.json"
  rabbitmq_env "$RABBITMQ_BIN/rabbitmqctl" -q -n "$RABBITMQ_TEST_NODE" import_definitions "$dir/definitions.json" >"$dir/log/import.log" 2>&1 \
    || { echo "creating the test vhosts failed:" >&2; cat "$dir/log/import.log" >&2; return 1; }
}

rabbitmq_stop() {
  [[ -n "${RABBITMQ_TEST_NODE:-}" ]] || return 0
  rabbitmq_env timeout 60 "$RABBITMQ_BIN/rabbitmqctl" -q -n "$RABBITMQ_TEST_NODE" stop "$RABBITMQ_TEST_DIR/rabbitmq.pid" >/dev/null 2>&1 || true
  # Whatever is left of our own launcher (it ran in its own session), then our own epmd.
  if [[ -n "${RABBITMQ_TEST_LAUNCHER_PID:-}" ]] && kill -0 "$RABBITMQ_TEST_LAUNCHER_PID" 2>/dev/null; then
    kill -- "-$RABBITMQ_TEST_LAUNCHER_PID" 2>/dev/null || true
  fi
  rabbitmq_env /usr/bin/epmd -port "$RABBITMQ_TEST_EPMD_PORT" -kill >/dev/null 2>&1 || true
  rm -rf "$RABBITMQ_TEST_DIR"
  unset RABBITMQ_TEST_NODE
}
