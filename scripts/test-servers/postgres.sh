#!/usr/bin/env bash
# A private PostgreSQL for the tests: a fresh cluster of its own in DIR (data, socket, log), listening only on
# POSTGRES_TEST_ADDRESS at a free port, so it never meets the system cluster of Debian's package or anyone
# else's server on this machine.
#
#   source scripts/test-servers/postgres.sh
#   postgres_start DIR     # installs postgresql if missing, starts the server, exports CQ_TEST_POSTGRES
#   postgres_stop          # stops only the server that postgres_start started, and removes DIR
#
# Tests connect as role cqtest (password cqtest) to database cqtest, which that role owns; the role may also
# create databases of its own. CQ_TEST_POSTGRES is the Npgsql connection string, CQ_TEST_POSTGRES_URL the
# same as a postgresql:// URL, and CQ_TEST_PSQL runs psql as the superuser postgres over the unix socket.
# The server refuses to run as root, so as root it runs as the OS user postgres of Debian's package, which
# must be able to reach DIR: a DIR inside a directory made by `mktemp -d` (mode 0700) needs that directory
# made searchable first (chmod o+x).

# IPv4 address to listen on and to put into the connection strings; another one lets clients in other
# network namespaces reach it. The unix socket in DIR is always there too.
POSTGRES_TEST_ADDRESS=${POSTGRES_TEST_ADDRESS:-127.0.0.1}
# Connection pools of many tests at once; the default of 100 is easily used up.
POSTGRES_TEST_MAX_CONNECTIONS=${POSTGRES_TEST_MAX_CONNECTIONS:-200}

# The newest server of Debian's packages; the wrappers in /usr/bin pick clusters of the system instead.
postgres_bin_dir() {
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] || continue
    if [[ -z "$best" ]] || [[ "$(printf '%s\n%s\n' "$best" "$d" | sort -V | tail -n 1)" == "$d" ]]; then best=$d; fi
  done
  [[ -n "$best" ]] || return 1
  echo "$best"
}

postgres_install() {
  if postgres_bin_dir >/dev/null; then return 0; fi
  echo "installing postgresql" >&2
  # Keep the package from starting the system-wide cluster that it creates during the install.
  local made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local status=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; } || status=$?
  if (( made_policy )); then rm -f /usr/sbin/policy-rc.d; fi
  return "$status"
}

postgres_free_port() {
  /usr/bin/python3 -c 'import socket, sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1]); s.close()' \
    "$POSTGRES_TEST_ADDRESS"
}

# Runs a command without the caller's PG* variables (PGHOST, PGPORT, PGSSLMODE, PGSERVICE, ...), which
# would otherwise steer our own client calls somewhere else.
postgres_clean_env() {
  local v names unset=()
  mapfile -t names < <(compgen -e)
  for v in "${names[@]}"; do
    if [[ "$v" == PG* ]]; then unset+=(-u "$v"); fi
  done
  env "${unset[@]}" "$@"
}

# Runs a command as the owner of the cluster: the OS user postgres when we are root, else ourselves. From /,
# since the tools complain when they cannot read the directory they start in.
postgres_as_owner() {
  if (( EUID == 0 )); then
    (cd / && postgres_clean_env runuser -u postgres -- "$@")
  else
    (cd / && postgres_clean_env "$@")
  fi
}

# The first directory on the way to $1 that the owner of the cluster cannot enter, if any; one shell for all.
postgres_blocked_at() {
  local prefix="" part parts prefixes=()
  IFS=/ read -ra parts <<<"$1"
  for part in "${parts[@]}"; do
    if [[ -n "$part" ]]; then prefix+="/$part"; prefixes+=("$prefix"); fi
  done
  postgres_as_owner sh -c 'for p; do if [ ! -x "$p" ]; then echo "$p"; exit 0; fi; done; exit 1' sh "${prefixes[@]}"
}

# Whether process $1 runs in data directory $2, as a postmaster does. A zombie has no directory (PID 1 may take
# a while to reap it), and a pid from a stale pid file that now belongs to some other process has another one.
postgres_pid_in() {
  [[ "$(readlink "/proc/$1/cwd" 2>/dev/null)" == "$2" ]]
}

# The postmaster's pid if a server runs in data directory $1.
postgres_running() {
  local data=$1 pid=""
  [[ -f "$data/postmaster.pid" ]] || return 1
  pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && postgres_pid_in "$pid" "$data" || return 1
  echo "$pid"
}

# Stops the server whose data directory is $1, if one runs: a fast shutdown (which ends the sessions), and if
# that does not do it, the postmaster's process group (pg_ctl made it a session of its own) by force.
postgres_stop_server() {
  local data=$1 bin=$2 pid i
  pid=$(postgres_running "$data") || return 0
  postgres_as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  if postgres_pid_in "$pid" "$data"; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    for (( i = 0; i < 50; i++ )); do
      postgres_pid_in "$pid" "$data" || break
      sleep 0.1
    done
  fi
}

postgres_start() {
  local dir=$1
  if [[ -n "${POSTGRES_TEST_DIR:-}" ]] && postgres_running "$POSTGRES_TEST_DIR/data" >/dev/null; then
    echo "a private PostgreSQL already runs in $POSTGRES_TEST_DIR; postgres_stop it first" >&2
    return 1
  fi
  postgres_install || { echo "could not install postgresql" >&2; return 1; }
  local bin
  bin=$(postgres_bin_dir) || { echo "no PostgreSQL server under /usr/lib/postgresql/*/bin" >&2; return 1; }
  mkdir -p "$dir" || return 1
  # The physical path, as the server's /proc/PID/cwd shows it to postgres_stop_server.
  dir=$(cd "$dir" && pwd -P)
  export POSTGRES_TEST_DIR=$dir POSTGRES_TEST_BIN=$bin
  # The socket's path, DIR/run/.s.PGSQL.PORT, must fit into the 107 bytes of a unix socket address.
  if (( ${#dir} + 19 > 107 )); then
    echo "the path $dir is too long for the server's unix socket (at most 88 characters)" >&2
    return 1
  fi
  # What an earlier run left behind (one that was not stopped) goes: the cluster is made anew each time.
  postgres_stop_server "$dir/data" "$bin"
  rm -rf "$dir/data" "$dir/run" "$dir/psql" "$dir"/*.log
  if (( EUID == 0 )); then chown postgres:postgres "$dir"; fi
  local blocked
  if blocked=$(postgres_blocked_at "$dir"); then
    echo "the server's OS user $(id -un postgres 2>/dev/null || id -un) cannot enter $blocked, so it cannot use $dir;" \
      "make it searchable (chmod o+x $blocked) or choose another DIR" >&2
    return 1
  fi
  postgres_as_owner mkdir -m 700 "$dir/run" || return 1
  postgres_as_owner touch "$dir/postgres.log" || return 1

  # C.UTF-8 where the C library has it, so that upper() and friends know more than ASCII; the caller's own
  # locale may not exist here at all.
  local locale=C
  if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then locale=C.UTF-8; fi
  # No fsync: the data is thrown away at the end.
  postgres_as_owner env LC_ALL="$locale" "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale="$locale" \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$dir/initdb.log" 2>&1 \
    || { echo "initdb failed:" >&2; tail -n 30 "$dir/initdb.log" >&2; return 1; }
  # The superuser comes in over the socket in DIR, which only the cluster's owner and root can enter; over TCP
  # every role needs its password, and the superuser has none.
  cat >"$dir/data/pg_hba.conf" <<'HBA'
local all all trust
host all all 0.0.0.0/0 scram-sha-256
HBA
  chown --reference="$dir/data/postgresql.conf" "$dir/data/pg_hba.conf"
  echo "include 'cq-test.conf'" >>"$dir/data/postgresql.conf"

  # A port that was free a moment ago may be taken by the time the server binds it; then take another.
  local port attempt sockdir=${dir//\'/\'\'}/run
  for (( attempt = 1; ; attempt++ )); do
    port=$(postgres_free_port) || { echo "could not find a free port on $POSTGRES_TEST_ADDRESS" >&2; return 1; }
    cat >"$dir/data/cq-test.conf" <<CONF
listen_addresses = '$POSTGRES_TEST_ADDRESS'
port = $port
unix_socket_directories = '$sockdir'
max_connections = $POSTGRES_TEST_MAX_CONNECTIONS
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    chown --reference="$dir/data/postgresql.conf" "$dir/data/cq-test.conf"
    : >"$dir/postgres.log"
    if postgres_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >"$dir/pg_ctl.log" 2>&1; then
      break
    fi
    postgres_stop_server "$dir/data" "$bin"
    if (( attempt < 3 )) && grep -q 'could not bind' "$dir/postgres.log"; then continue; fi
    echo "the private PostgreSQL did not start; its log is $dir/postgres.log" >&2
    tail -n 30 "$dir/pg_ctl.log" "$dir/postgres.log" >&2 || true
    return 1
  done
  export POSTGRES_TEST_PORT=$port

  # pg_ctl waited for the server itself; this is the listener that clients use.
  local deadline=$((SECONDS + 30))
  until postgres_clean_env "$bin/pg_isready" -q -t 2 -h "$POSTGRES_TEST_ADDRESS" -p "$port" -d postgres -U postgres; do
    if (( SECONDS > deadline )); then
      echo "the private PostgreSQL does not answer on $POSTGRES_TEST_ADDRESS:$port; its log is $dir/postgres.log" >&2
      tail -n 30 "$dir/postgres.log" >&2 || true
      postgres_stop_server "$dir/data" "$bin"
      return 1
    fi
    sleep 0.2
  done

  cat >"$dir/psql" <<PSQL
#!/usr/bin/env bash
exec env -u PGSERVICE -u PGSERVICEFILE -u PGOPTIONS $(printf '%q' "$bin/psql") -X -h $(printf '%q' "$dir/run") -p $port -U postgres "\$@"
PSQL
  chmod +x "$dir/psql"
  "$dir/psql" -d postgres -q -v ON_ERROR_STOP=1 >"$dir/setup.log" 2>&1 <<'SQL' \
    || { echo "creating the test role and database failed:" >&2; cat "$dir/setup.log" >&2; postgres_stop_server "$dir/data" "$bin"; return 1; }
CREATE ROLE cqtest LOGIN CREATEDB PASSWORD 'cqtest';
CREATE DATABASE cqtest OWNER cqtest;
SQL
  export CQ_TEST_POSTGRES="Host=$POSTGRES_TEST_ADDRESS;Port=$port;Database=cqtest;Username=cqtest;Password=cqtest"
  export CQ_TEST_POSTGRES_URL="postgresql://cqtest:cqtest@$POSTGRES_TEST_ADDRESS:$port/cqtest"
  export CQ_TEST_PSQL="$dir/psql"
  echo "private PostgreSQL $("$bin/postgres" -V | awk '{print $3}') on $POSTGRES_TEST_ADDRESS:$port" >&2
}

postgres_stop() {
  [[ -n "${POSTGRES_TEST_DIR:-}" ]] || return 0
  local bin=${POSTGRES_TEST_BIN:-}
  if [[ -z "$bin" ]]; then bin=$(postgres_bin_dir) || bin=""; fi
  if [[ -n "$bin" ]]; then postgres_stop_server "$POSTGRES_TEST_DIR/data" "$bin"; fi
  rm -rf "$POSTGRES_TEST_DIR"
  unset POSTGRES_TEST_DIR POSTGRES_TEST_BIN POSTGRES_TEST_PORT CQ_TEST_POSTGRES CQ_TEST_POSTGRES_URL CQ_TEST_PSQL
}
