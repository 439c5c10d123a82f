#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL 15 server started in a temporary folder.
#   scripts/with-postgres.sh pytest ...
# The server listens on 127.0.0.1 only, on a free port, and is stopped and deleted on exit.
# KIUNGO_DATABASE_URL points the command at it.
set -euo pipefail

find_pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(command -v initdb)"; return 0
  fi
  return 1
}

PG_BIN=$(find_pg_bin) || {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "PostgreSQL not found: installing Debian's postgresql-15" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >&2
    PG_BIN=$(find_pg_bin)
  else
    echo "PostgreSQL 15 (initdb, pg_ctl) is needed for the PostgreSQL test run." >&2
    echo "Install it (Debian: apt-get install postgresql-15) and run make test again." >&2
    exit 1
  fi
}

# initdb refuses to run as root: run the server as the 'postgres' system user then.
RUN_AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  RUN_AS=(runuser -u postgres --)
fi

WORK=$(mktemp -d /tmp/kiungo-pg.XXXXXX)
chmod 755 "$WORK"
[ "$(id -u)" = 0 ] && chown postgres "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

"${RUN_AS[@]}" "$PG_BIN/initdb" -D "$WORK/data" -U kiungo --auth=trust --no-locale \
  --encoding=UTF8 >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; exit 1; }
# fsync off: this server holds only test data and is deleted afterwards; it saves minutes.
"${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w -o \
  "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" \
  start >/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U kiungo kiungo

echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
export KIUNGO_DATABASE_URL="postgres://kiungo@127.0.0.1:$PORT/kiungo"
"$@"
