#!/bin/sh
# Runs a private PostgreSQL for the distributed topology: makes the cluster and
# one database per service on first use (while listening on a socket only, so
# a TCP connection means the databases exist), then serves on 127.0.0.1:PORT.
# Usage: postgres.sh DATA_DIRECTORY PORT DATABASE...
# initdb refuses root, so as root the server runs as the postgres user.
set -eu
data=$1 port=$2; shift 2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || bin=$(dirname "$(command -v postgres)")
as_owner() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi; }
mkdir -p "$data"
if [ "$(id -u)" = 0 ]; then
  chown postgres "$data"
  # The postgres user must be able to pass through the directories above its data
  # (traverse only, not list): open those of ours that are closed.
  dir=$(dirname "$data")
  while [ "$dir" != "/" ]; do [ -O "$dir" ] && chmod o+x "$dir"; dir=$(dirname "$dir"); done
fi
sockets=$(mktemp -d) && chmod 777 "$sockets"
if [ ! -f "$data/PG_VERSION" ]; then
  as_owner "$bin/initdb -D '$data' -A trust -U postgres >/dev/null"
  as_owner "$bin/pg_ctl -D '$data' -o \"-c listen_addresses='' -k $sockets\" -w start >/dev/null"
  for db in "$@"; do as_owner "$bin/psql -h $sockets -U postgres -qc 'CREATE DATABASE $db'"; done
  as_owner "$bin/pg_ctl -D '$data' -m fast -w stop >/dev/null"
fi
if [ "$(id -u)" = 0 ]; then
  exec su postgres -s /bin/sh -c "exec $bin/postgres -D '$data' -p $port -k $sockets -c listen_addresses=127.0.0.1"
fi
exec "$bin/postgres" -D "$data" -p "$port" -k "$sockets" -c listen_addresses=127.0.0.1
