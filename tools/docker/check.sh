#!/usr/bin/env bash
# make docker-test: build the connector's Docker image and check that it behaves like the virtualenv.
#
#  1. installs docker.io (and debootstrap, when the base must be built) from Debian if missing, and
#     starts dockerd if no daemon answers (stopping it again at the end);
#  2. builds the local stand-in for airbyte/python-connector-base once (tools/docker/build_base.sh);
#  3. builds the image from the Dockerfile with --build-arg BASE_IMAGE=<local base>;
#  4. starts the emulator and runs spec, check (good and bad credentials), discover and read of every
#     stream both in the image (--network host, config mounted read-only under /secrets, as Airbyte
#     does) and from the virtualenv, and compares the outputs (tools/docker/compare.py);
#  5. removes the containers it started and the image it replaced; keeps the base for the next run.
#
# Needs the virtualenv (.venv, with the connector installed: make venv) and ../shared beside the
# repository. Outputs go to a temporary directory, kept only when the check fails.
# Environment: PYTHON (default .venv/bin/python), LOCAL_BASE_IMAGE, DOCKER_TEST_IMAGE,
# DOCKER_TEST_ALLOW_EMPTY (space-separated streams that may read no records), DOCKER_TEST_TIMEOUT
# (seconds one command may run, default 300), DOCKER_TEST_KEEP=1 (keep the outputs even on success).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$repo/tools/docker"
# shellcheck source=tools/docker/lib.sh
source "$here/lib.sh"
cd "$repo"

BASE_IMAGE_TAG=${LOCAL_BASE_IMAGE:-source-twilio-local-base:bookworm-py311}
IMAGE=${DOCKER_TEST_IMAGE:-source-twilio:docker-test}
PYTHON=${PYTHON:-$repo/.venv/bin/python}
RUN_LABEL="source-twilio.docker-test=$$"
RUN_TIMEOUT=${DOCKER_TEST_TIMEOUT:-300}
started=$(date +%s)

[ -x "$PYTHON" ] || die "$PYTHON is missing: create the virtualenv first (make venv)"

out=$(mktemp -d -t source-twilio-docker-test.XXXXXX)
secrets="$out/secrets"
emulator_pid=""
cleanup() {
  local status=$?
  set +e
  if docker_answers; then
    local containers
    containers=$(docker ps -aq --filter "label=$RUN_LABEL")
    # shellcheck disable=SC2086
    [ -z "$containers" ] || docker rm -f $containers >/dev/null
  fi
  if [ -n "$emulator_pid" ]; then
    kill "$emulator_pid" 2>/dev/null
    wait "$emulator_pid" 2>/dev/null
  fi
  stop_docker_daemon
  if [ "$status" -ne 0 ]; then
    log "FAILED; outputs kept in $out"
  elif [ -n "${DOCKER_TEST_KEEP:-}" ]; then
    log "outputs kept in $out"
  else
    rm -rf "$out"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. Docker
ensure_command docker docker.io
ensure_docker_daemon

# 2. The local base (built once, then reused)
base_note="reused"
if ! docker image inspect "$BASE_IMAGE_TAG" >/dev/null 2>&1; then
  t=$(date +%s)
  "$here/build_base.sh" "$BASE_IMAGE_TAG"
  base_note="built in $(($(date +%s) - t)) s"
fi

# 3. The connector image. The build stage is tagged too (IMAGE-build): it holds the layer cache of the
# dependencies, and the images a rebuild replaces can then be removed by id instead of piling up.
log "docker build --build-arg BASE_IMAGE=$BASE_IMAGE_TAG -t $IMAGE ."
build_image="$IMAGE-build"
old_images=$(docker image inspect -f '{{.Id}}' "$build_image" "$IMAGE" 2>/dev/null || true)
t=$(date +%s)
for target in build final; do
  if [ "$target" = build ]; then args=(--target build -t "$build_image"); else args=(-t "$IMAGE"); fi
  docker build --network host --build-arg BASE_IMAGE="$BASE_IMAGE_TAG" "${args[@]}" "$repo" >>"$out/build.log" 2>&1 \
    || { tail -n 40 "$out/build.log" >&2; die "docker build failed (log: $out/build.log)"; }
done
build_seconds=$(($(date +%s) - t))
new_images=$(docker image inspect -f '{{.Id}}' "$build_image" "$IMAGE")
for old in $old_images; do
  grep -qx "$old" <<<"$new_images" || docker rmi "$old" >/dev/null 2>&1 || true
done
image_bytes=$(docker image inspect -f '{{.Size}}' "$IMAGE")
base_bytes=$(docker image inspect -f '{{.Size}}' "$BASE_IMAGE_TAG")
mb() { awk -v b="$1" 'BEGIN { printf "%.0f MB", b / 1e6 }'; }
log "image $IMAGE built in ${build_seconds} s: $(mb "$image_bytes") ($(mb "$base_bytes") base + $(mb $((image_bytes - base_bytes))) connector)"

# What the image is, before what it does: non-root, and nothing in it but main.py beside the venv.
user=$(docker image inspect -f '{{.Config.User}}' "$IMAGE")
[ "$user" = airbyte ] || die "the image runs as '$user', not airbyte"
contents=$(docker run --rm --label "$RUN_LABEL" --network none --entrypoint sh "$IMAGE" \
  -c 'id -un; ls -A /airbyte/integration_code; ls /airbyte/venv/bin | grep -cx "pip[0-9.]*" || true' | tr '\n' ' ')
[ "$contents" = "airbyte main.py 0 " ] || die "unexpected image contents (user, code, pip scripts): $contents"

# 4. The protocol commands, in the image and from the virtualenv
log "starting the emulator"
"$PYTHON" -m integration_tests.emulator --port 0 --info-file "$out/emulator.json" >"$out/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 1 60); do
  grep -q "listening on" "$out/emulator.log" 2>/dev/null && break
  kill -0 "$emulator_pid" 2>/dev/null || { cat "$out/emulator.log" >&2; die "the emulator exited"; }
  sleep 0.5
done
grep -q "listening on" "$out/emulator.log" || die "the emulator did not start within 30 s"

# Configs as Airbyte mounts them: files readable by the image's user in a directory mounted read-only.
mkdir -m 755 "$secrets"
bad_token=deadbeefdeadbeefdeadbeefdeadbeef
"$PYTHON" - "$out/emulator.json" "$secrets" "$bad_token" <<'EOF'
import json, pathlib, sys
info = json.loads(pathlib.Path(sys.argv[1]).read_text())
secrets = pathlib.Path(sys.argv[2])
assert info["auth_token"] != sys.argv[3]
def config(token):
    return {"account_sid": info["account_sid"], "credentials": {"auth_type": "auth_token", "auth_token": token},
            "start_date": "2024-01-01T00:00:00Z"}
(secrets / "config.json").write_text(json.dumps(config(info["auth_token"])))
(secrets / "config_bad_token.json").write_text(json.dumps(config(sys.argv[3])))
(secrets / "url").write_text(info["url"])
EOF
url=$(cat "$secrets/url")
token=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["auth_token"])' "$out/emulator.json")
chmod 644 "$secrets"/*

# run_both NAME COMMAND [--flag FILE]...: FILE is a file of $secrets, /secrets/FILE in the container.
run_both() {
  local name=$1 command=$2 venv_rc docker_rc t0 t1 t2
  shift 2
  local venv_args=("$command") docker_args=("$command")
  while [ $# -gt 0 ]; do
    venv_args+=("$1" "$secrets/$2")
    docker_args+=("$1" "/secrets/$2")
    shift 2
  done
  t0=$(date +%s.%N)
  set +e
  SOURCE_TWILIO_EMULATOR_URL="$url" timeout "$RUN_TIMEOUT" "$PYTHON" "$repo/main.py" "${venv_args[@]}" \
    >"$out/$name.venv.out" 2>"$out/$name.venv.err"
  venv_rc=$?
  t1=$(date +%s.%N)
  # docker run passes the timeout's SIGTERM on to the connector; the exit trap removes what remains.
  timeout "$RUN_TIMEOUT" docker run --rm --label "$RUN_LABEL" --network host -e SOURCE_TWILIO_EMULATOR_URL="$url" \
    -v "$secrets:/secrets:ro" "$IMAGE" "${docker_args[@]}" >"$out/$name.docker.out" 2>"$out/$name.docker.err"
  docker_rc=$?
  set -e
  t2=$(date +%s.%N)
  log "$name: virtualenv $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s (exit $venv_rc)," \
    "docker $(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }') s (exit $docker_rc)"
  if [ "$venv_rc" -eq 124 ] || [ "$docker_rc" -eq 124 ]; then
    die "$name: did not finish within $RUN_TIMEOUT s (DOCKER_TEST_TIMEOUT)"
  fi
  if [ "$venv_rc" -ne 0 ] || [ "$docker_rc" -ne 0 ]; then
    tail -n 5 "$out/$name.venv.err" "$out/$name.docker.err" >&2
    die "$name: both runs must exit 0"
  fi
}

compare() { "$PYTHON" "$here/compare.py" "$@"; }

clock_start=$(date +%s)
run_both spec spec
compare spec "$out/spec.venv.out" "$out/spec.docker.out"

run_both check check --config config.json
compare check "$out/check.venv.out" "$out/check.docker.out" --expect-status SUCCEEDED

run_both check_bad_token check --config config_bad_token.json
compare check "$out/check_bad_token.venv.out" "$out/check_bad_token.docker.out" --expect-status FAILED

run_both discover discover --config config.json
compare discover "$out/discover.venv.out" "$out/discover.docker.out"

compare catalog "$out/discover.docker.out" >"$secrets/catalog.json"
chmod 644 "$secrets/catalog.json"
run_both read read --config config.json --catalog catalog.json
allow_empty=()
for stream in ${DOCKER_TEST_ALLOW_EMPTY:-}; do allow_empty+=(--allow-empty "$stream"); done
compare read "$out/read.venv.out" "$out/read.docker.out" --catalog "$secrets/catalog.json" \
  --clock "$clock_start" "$(date +%s)" "${allow_empty[@]}"

# Secrets stay masked in everything either run printed.
leaks=$(grep -lF -e "$token" -e "$bad_token" "$out"/*.out "$out"/*.err || true)
[ -z "$leaks" ] || die "a secret appears in: $leaks"

# 5. Summary (the cleanup trap removes containers and outputs)
log "PASSED: base $base_note," \
  "image build ${build_seconds} s, image $(mb "$image_bytes"), total $(($(date +%s) - started)) s"
