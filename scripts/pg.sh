#!/usr/bin/env bash
# A throwaway local PostgreSQL for tests and the demo.
#
#   eval "$(scripts/pg.sh start [DIR])"   initdb if needed, start, print export lines
#   scripts/pg.sh restart [DIR]           stop and start again on the same port
#                                         (prints the same export lines)
#   scripts/pg.sh stop [DIR]              stop and remove DIR
#   eval "$(scripts/pg.sh standby DIR PRIMARY_DIR)"
#                                         a streaming standby of the server in
#                                         PRIMARY_DIR (pg_basebackup -R), started
#
# DIR defaults to ${RETENTION_PG_DIR:-/tmp/retention-pg}. It holds data/ (the
# cluster), log, env (the export lines) and the server's unix socket. The server
# listens on no TCP address, trusts every local user, and runs with fsync=off:
# never put anything you want to keep in it. Diagnostics go to stderr; stdout
# carries only the export lines.
set -euo pipefail

die() { echo "pg.sh: $*" >&2; exit 1; }

cmd=${1:-}
dir=$(realpath -m -- "${2:-${RETENTION_PG_DIR:-/tmp/retention-pg}}")
data=$dir/data

# Server binaries are not on PATH on Debian. pg_config (libpq-dev) names a
# bindir, but it may belong to a version whose server is not installed.
bindir=$(pg_config --bindir 2>/dev/null || true)
if [[ ! -x $bindir/pg_ctl ]]; then
  bindir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
[[ -x $bindir/pg_ctl ]] || die "no PostgreSQL server binaries found (run scripts/install-deps.sh)"

# initdb refuses to run as root, so as root the server belongs to `postgres`.
if [[ $(id -u) == 0 ]]; then
  # From / : the caller's folder may be closed to postgres (mktemp -d makes 0700 folders).
  as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
  as_pg() { "$@"; }
fi

# After a kill -9 the postmaster lingers as a zombie where nothing reaps
# orphans (containers whose PID 1 is no init); pg_ctl and postgres then take
# it for a live server. So a dead or zombie postmaster's pid file and socket
# lock are removed (postgres itself still refuses to start while old
# backends hold its shared memory).
clear_stale_pid() {
  local f=$data/postmaster.pid pid lock
  [[ -f $f ]] || return 0
  pid=$(sed -n 1p "$f")
  if [[ ! -e /proc/$pid || $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]]; then
    echo "pg.sh: postmaster $pid is gone; removing its pid file and socket" >&2
    lock="$(sed -n 5p "$f")/.s.PGSQL.$(sed -n 4p "$f")"
    rm -f -- "$f" "$lock" "$lock.lock"
  fi
}

running() {
  clear_stale_pid
  [[ -f $data/PG_VERSION ]] && as_pg "$bindir/pg_ctl" status -D "$data" >/dev/null 2>&1
}

# Socket folder: DIR itself when the socket path (folder + /.s.PGSQL.NNNNN)
# fits the 107-byte limit of sun_path, else a short folder under /tmp whose
# name is remembered in DIR/sockdir (stop removes it).
socket_dir() {
  if [[ -f $dir/sockdir ]]; then cat "$dir/sockdir"
  elif (( ${#dir} + 15 <= 107 )); then echo "$dir"
  else
    local s; s=$(mktemp -d /tmp/retention-sock.XXXXXX)
    [[ $(id -u) == 0 ]] && chown postgres: "$s"
    echo "$s" >"$dir/sockdir"; echo "$s"
  fi
}

# A port is taken when a socket for it exists (ours or a system server's) or
# a server answers on it over TCP. Two throwaway servers in different socket
# folders could even share a port, since neither listens on TCP.
port_taken() {
  local p=$1 d rc=0
  for d in "$sock" /var/run/postgresql /tmp; do
    [[ -S $d/.s.PGSQL.$p ]] && return 0
  done
  "$bindir/pg_isready" -q -h localhost -p "$p" -t 2 >/dev/null 2>&1 || rc=$?
  [[ $rc == 0 || $rc == 1 ]]   # 0 accepting, 1 rejecting: somebody is there
}

print_env() {
  # postmaster.pid line 4 is the port, line 5 the socket folder.
  local port; port=$(sed -n 4p "$data/postmaster.pid")
  {
    printf 'export PGHOST=%q\n' "$(sed -n 5p "$data/postmaster.pid")"
    printf 'export PGPORT=%q\n' "$port"
    printf 'export PGUSER=postgres\n'
    printf 'export PGDATABASE=postgres\n'
  } >"$dir/env"
  cat "$dir/env"
}

prepare_dir() {
  mkdir -p "$dir"
  if [[ $(id -u) == 0 ]]; then
    chown postgres: "$dir"
    # postgres must be able to traverse every parent of DIR.
    local p="" part parts
    IFS=/ read -ra parts <<<"${dir#/}"
    for part in "${parts[@]}"; do
      p+=/$part
      runuser -u postgres -- test -x "$p" || { echo "pg.sh: chmod o+x $p" >&2; chmod o+x "$p"; }
    done
  fi
}

init_cluster() {
  prepare_dir
  sock=$(socket_dir)
  echo "pg.sh: initdb $data" >&2
  # initdb's chatter goes to DIR/log; the server appends to it later as
  # postgres, hence the chown.
  if ! as_pg "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C -N >"$dir/log" 2>&1; then
    cat "$dir/log" >&2; die "initdb failed"
  fi
  [[ $(id -u) == 0 ]] && chown postgres: "$dir/log"
  # In the config file rather than on pg_ctl's -o line, which goes through sh.
  cat >>"$data/postgresql.conf" <<EOF

# retention throwaway server (scripts/pg.sh)
listen_addresses = ''
unix_socket_directories = '$sock'
# Safe against a server crash (kill -9), not against an OS crash. Commits
# stay synchronous so crash-recovery tests see every committed batch.
fsync = off
# A few, for tests of a lock held by a prepared transaction.
max_prepared_transactions = 4
EOF
}

start_server() {  # $1: port
  echo "pg.sh: starting PostgreSQL on port $1, socket in $sock" >&2
  if ! as_pg "$bindir/pg_ctl" start -D "$data" -l "$dir/log" -w -t 60 -o "-p $1" >&2; then
    tail -n 20 "$dir/log" >&2 || true
    die "server did not start (log: $dir/log)"
  fi
}

previous_port() { sed -n 's/^export PGPORT=//p' "$dir/env" 2>/dev/null || true; }

case $cmd in
  start)
    if running; then print_env; exit 0; fi
    [[ -f $data/PG_VERSION ]] || init_cluster
    sock=$(socket_dir)
    port=$(previous_port)
    if [[ -z $port ]] || port_taken "$port"; then
      port=54329
      while port_taken "$port"; do port=$((port + 1)); done
    fi
    start_server "$port"
    print_env
    ;;
  standby)
    primary=$(realpath -m -- "${3:-}")
    [[ -n ${3:-} && -f $primary/env ]] || die "usage: $0 standby DIR PRIMARY_DIR (a running server of pg.sh)"
    if running; then print_env; exit 0; fi
    prepare_dir
    sock=$(socket_dir)
    phost=$(sed -n 's/^export PGHOST=//p' "$primary/env")
    pport=$(sed -n 's/^export PGPORT=//p' "$primary/env")
    echo "pg.sh: pg_basebackup of $primary into $data" >&2
    as_pg "$bindir/pg_basebackup" -D "$data" -R -X stream -c fast -h "$phost" -p "$pport" -U postgres >&2 ||
      die "pg_basebackup failed"
    # The copied configuration names the primary's socket folder; the later line wins.
    echo "unix_socket_directories = '$sock'" >>"$data/postgresql.conf"
    port=54329
    while port_taken "$port"; do port=$((port + 1)); done
    start_server "$port"
    print_env
    ;;
  restart)
    [[ -f $data/PG_VERSION ]] || die "no cluster in $dir (use start)"
    port=$(previous_port)
    [[ -n $port ]] || die "no $dir/env: cannot tell the port"
    sock=$(socket_dir)
    if running; then as_pg "$bindir/pg_ctl" stop -D "$data" -m fast -w >&2; fi
    start_server "$port"
    print_env
    ;;
  stop)
    [[ -e $dir ]] || exit 0
    if running; then
      as_pg "$bindir/pg_ctl" stop -D "$data" -m fast -w -t 60 >&2 ||
        as_pg "$bindir/pg_ctl" stop -D "$data" -m immediate -w >&2
    fi
    # Remove DIR only when it holds nothing but what start put there, so a
    # mistaken `stop /tmp` cannot wipe a shared folder.
    extra=$(find "$dir" -mindepth 1 -maxdepth 1 ! -name data ! -name log ! -name env \
              ! -name sockdir ! -name '.s.PGSQL.*' -printf '%f ' )
    [[ -z $extra ]] || die "not removing $dir: it also holds $extra"
    if [[ -f $dir/sockdir ]]; then rm -rf -- "$(cat "$dir/sockdir")"; fi
    rm -rf -- "$dir"
    ;;
  *)
    echo "usage: $0 start|restart|stop [DIR] | standby DIR PRIMARY_DIR   (DIR defaults to \$RETENTION_PG_DIR or /tmp/retention-pg)" >&2
    exit 64
    ;;
esac
