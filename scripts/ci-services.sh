#!/usr/bin/env bash
# Makes sure the services the integration and e2e suites talk to are up on this machine:
#   PostgreSQL on 127.0.0.1:5432 and NATS with JetStream on 127.0.0.1:4222.
# A service that does not answer is started with the machine's own command, then waited for
# (up to CI_SERVICE_WAIT_S seconds, default 30). Exits non-zero, loudly, if one stays down.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
NATS_HOST=127.0.0.1
NATS_PORT=4222
WAIT_S="${CI_SERVICE_WAIT_S:-30}"

log() { printf '[ci-services] %s\n' "$*" >&2; }
die() {
  printf '\n[ci-services] ERROR: %s\n\n' "$*" >&2
  exit 1
}

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2 >/dev/null 2>&1; }

# Prints the server's INFO line if NATS answers on its port (and says hello back, so the server
# does not log a parser error for a silent client); fails otherwise.
nats_info() (
  { exec 3<>"/dev/tcp/$NATS_HOST/$NATS_PORT"; } 2>/dev/null || exit 1
  IFS= read -r -t 3 info <&3 || exit 1
  printf 'CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n' >&3 || exit 1
  IFS= read -r -t 3 pong <&3 || exit 1
  [[ "$info" == INFO* && "$pong" == PONG* ]] || exit 1
  printf '%s\n' "$info"
)

nats_up() { nats_info >/dev/null; }

# wait_for <name> <probe function>
wait_for() {
  local name="$1" probe="$2" deadline=$((SECONDS + WAIT_S))
  until "$probe"; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 1
  done
  log "$name is up"
}

# --- PostgreSQL -------------------------------------------------------------------------------
if pg_up; then
  log "PostgreSQL answers on $PG_HOST:$PG_PORT"
else
  log "PostgreSQL does not answer on $PG_HOST:$PG_PORT; starting it"
  command -v pg_ctlcluster >/dev/null || die "pg_ctlcluster not found: is PostgreSQL installed?"
  pg_version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$pg_version" ]] || die "no cluster under /etc/postgresql"
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start ||
    log "pg_ctlcluster returned non-zero (it may already be starting); waiting anyway"
  wait_for PostgreSQL pg_up ||
    die "PostgreSQL did not answer on $PG_HOST:$PG_PORT within ${WAIT_S}s (see /var/log/postgresql/)"
fi

# --- NATS with JetStream ----------------------------------------------------------------------
if nats_up; then
  log "NATS answers on $NATS_HOST:$NATS_PORT"
else
  log "NATS does not answer on $NATS_HOST:$NATS_PORT; starting it"
  [[ -x /usr/sbin/nats-server ]] || die "/usr/sbin/nats-server not found: is nats-server installed?"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a "$NATS_HOST" -p "$NATS_PORT" -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_for NATS nats_up ||
    die "NATS did not answer on $NATS_HOST:$NATS_PORT within ${WAIT_S}s (see /var/log/nats-server.log)"
fi

info="$(nats_info)" || die "NATS stopped answering on $NATS_HOST:$NATS_PORT"
if [[ "$info" != *'"jetstream":true'* ]]; then
  die "NATS on $NATS_HOST:$NATS_PORT runs without JetStream (restart it with -js); INFO: $info"
fi
version="$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' <<<"$info")"
log "NATS ${version:-?} has JetStream enabled"
