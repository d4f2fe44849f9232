# shellcheck shell=bash
# Helpers shared by tools/docker/*.sh (sourced, not run). Bash; the caller sets -euo pipefail.

log() { printf '[docker-test] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# as_root CMD...: run CMD as root (directly when we are root, else through sudo).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_command COMMAND DEBIAN_PACKAGE: install the package from Debian when the command is missing.
_APT_UPDATED=0
ensure_command() {
  local cmd=$1 pkg=$2
  command -v "$cmd" >/dev/null 2>&1 && return 0
  [ -x "/usr/sbin/$cmd" ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "'$cmd' is missing and this is not a Debian-like system: install '$pkg' by hand"
  log "installing $pkg (for $cmd) from Debian's packages"
  if [ "$_APT_UPDATED" -eq 0 ]; then
    as_root apt-get update -qq
    _APT_UPDATED=1
  fi
  local apt_log
  apt_log=$(mktemp -t apt-install.XXXXXX.log)
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >"$apt_log" 2>&1 \
    || { tail -n 20 "$apt_log" >&2; die "apt-get install $pkg failed"; }
  rm -f "$apt_log"
}

docker_answers() { docker info >/dev/null 2>&1; }

# ensure_docker_daemon: start dockerd when no daemon answers. Sets STARTED_DOCKERD_PID when we
# started it, so that the caller's exit trap can stop it again (stop_docker_daemon).
STARTED_DOCKERD_PID=""
DOCKERD_LOG=""
ensure_docker_daemon() {
  docker_answers && return 0
  # A docker client alone (some machines have one in /usr/local/bin) is not enough: we need the daemon.
  ensure_command dockerd docker.io
  local logfile
  logfile=$(mktemp -t dockerd.XXXXXX.log)
  DOCKERD_LOG=$logfile
  log "no Docker daemon answers: starting dockerd (log: $logfile)"
  # Not through as_root: $! must be dockerd itself (or sudo, which passes signals on), not a subshell.
  if [ "$(id -u)" -eq 0 ]; then
    dockerd >"$logfile" 2>&1 &
  else
    # shellcheck disable=SC2024 # the log file belongs to the caller
    sudo dockerd >"$logfile" 2>&1 &
  fi
  STARTED_DOCKERD_PID=$!
  for _ in $(seq 1 60); do
    docker_answers && { log "dockerd is up (pid $STARTED_DOCKERD_PID)"; return 0; }
    kill -0 "$STARTED_DOCKERD_PID" 2>/dev/null || break
    sleep 1
  done
  tail -n 20 "$logfile" >&2 || true
  die "dockerd did not come up (see $logfile)"
}

stop_docker_daemon() {
  [ -n "$STARTED_DOCKERD_PID" ] || return 0
  log "stopping the dockerd this script started (pid $STARTED_DOCKERD_PID)"
  as_root kill -TERM "$STARTED_DOCKERD_PID" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$STARTED_DOCKERD_PID" 2>/dev/null || break
    sleep 1
  done
  STARTED_DOCKERD_PID=""
  rm -f "$DOCKERD_LOG"
}
