#!/bin/sh
# Runs a private PostgreSQL for the distributed topology: makes the cluster on
# first use and any missing database of the list (while listening on a socket
# only, so a TCP connection means the databases exist), then serves on
# 127.0.0.1:PORT.
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
[ -f "$data/PG_VERSION" ] || as_owner "$bin/initdb -D '$data' -A trust -U postgres >/dev/null"
# Every start: databases a newer topology added are made in an existing cluster too.
as_owner "$bin/pg_ctl -D '$data' -o \"-c listen_addresses='' -k $sockets\" -w start >/dev/null"
for db in "$@"; do
  exists=$(as_owner "$bin/psql -h $sockets -U postgres -tAc \"SELECT 1 FROM pg_database WHERE datname = '$db'\"")
  [ "$exists" = 1 ] || as_owner "$bin/psql -h $sockets -U postgres -qc 'CREATE DATABASE $db'"
done
as_owner "$bin/pg_ctl -D '$data' -m fast -w stop >/dev/null"
if [ "$(id -u)" = 0 ]; then
  exec su postgres -s /bin/sh -c "exec $bin/postgres -D '$data' -p $port -k $sockets -c listen_addresses=127.0.0.1"
fi
exec "$bin/postgres" -D "$data" -p "$port" -k "$sockets" -c listen_addresses=127.0.0.1
