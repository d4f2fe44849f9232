#!/usr/bin/env bash
# Build the local stand-in for airbyte/python-connector-base 4.0.x (no image registry is reachable
# here): a minimal Debian bookworm made with debootstrap, with Python 3.11, pip and venv, the
# `airbyte` user and group (uid/gid 1000), /airbyte (owned by airbyte) and /custom_cache like the
# official base, UTC as time zone and the host's CA bundle. Then `docker import`.
#
# Idempotent: does nothing when the image tag already exists (`docker rmi` it to rebuild).
#   tools/docker/build_base.sh [TAG]      default TAG: $LOCAL_BASE_IMAGE or source-twilio-local-base:bookworm-py311
# Environment: DEBIAN_MIRROR overrides the mirror found in the host's apt sources.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/docker/lib.sh
source "$here/lib.sh"

TAG=${1:-${LOCAL_BASE_IMAGE:-source-twilio-local-base:bookworm-py311}}
SUITE=bookworm
PACKAGES=python3,python-is-python3,python3-venv,python3-pip,ca-certificates,tzdata
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

docker_answers || die "no Docker daemon answers (tools/docker/check.sh starts one when needed)"
if docker image inspect "$TAG" >/dev/null 2>&1; then
  log "base image $TAG exists: reusing it"
  exit 0
fi

ensure_command debootstrap debootstrap

# The first Debian archive URI that the host's apt sources use for $SUITE (one-line .list files and
# deb822 .sources files; the files apt itself reads, so *.disabled files are ignored).
find_debian_mirror() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    awk -v suite="$SUITE" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }   # skip [ options ]
        if ($(i + 1) == suite) { print $i; exit }
      }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk -v suite="$SUITE" '
      BEGIN { RS = ""; FS = "\n" }          # one deb822 stanza per record
      {
        types = ""; uris = ""; suites = ""; enabled = "yes"
        for (n = 1; n <= NF; n++) {
          line = $n
          if (line ~ /^#/) continue
          split(line, kv, ":[ \t]*")
          key = tolower(kv[1]); value = substr(line, length(kv[1]) + 2); sub(/^[ \t]+/, "", value)
          if (key == "types") types = value
          else if (key == "uris") uris = value
          else if (key == "suites") suites = value
          else if (key == "enabled") enabled = tolower(value)
        }
        if (enabled == "no" || (" " types " ") !~ / deb /) next
        if ((" " suites " ") ~ (" " suite " ")) { split(uris, u, /[ \t]+/); print u[1]; exit }
      }' "$f"
  done
}

MIRROR=${DEBIAN_MIRROR:-$(find_debian_mirror | head -n 1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

[ -r "$HOST_CA_BUNDLE" ] || die "the host CA bundle $HOST_CA_BUNDLE is missing"

rootfs=$(mktemp -d -t source-twilio-base.XXXXXX)
cleanup_rootfs() {
  # debootstrap mounts /proc and /sys in the target while it works; never delete through a mount.
  local mount_point
  awk -v r="$rootfs" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r | while read -r mount_point; do
    as_root umount -l "$mount_point" || true
  done
  as_root rm -rf --one-file-system "$rootfs"
}
trap cleanup_rootfs EXIT

log "debootstrap $SUITE from $MIRROR into $rootfs (a few minutes)"
start=$(date +%s)
as_root debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$MIRROR" \
  >"$rootfs.debootstrap.log" 2>&1 || { tail -n 30 "$rootfs.debootstrap.log" >&2; die "debootstrap failed"; }
rm -f "$rootfs.debootstrap.log"

log "adding the airbyte user, /airbyte, UTC and the host CA bundle"
as_root chroot "$rootfs" /bin/sh -euc '
  groupadd --system --gid 1000 airbyte
  useradd --uid 1000 --gid 1000 --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin airbyte
  mkdir --mode 755 /airbyte /custom_cache
  chown airbyte:airbyte /airbyte
  ln -snf /usr/share/zoneinfo/Etc/UTC /etc/localtime
  echo Etc/UTC > /etc/timezone
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old /var/log/*.log \
    /usr/share/doc/* /usr/share/man/* /usr/share/info/*
'
# Needed for the package index to be reachable from a build on machines whose egress re-signs TLS.
as_root cp "$HOST_CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"

log "docker import -> $TAG"
as_root tar --numeric-owner -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'LABEL io.airbyte.base_image=local-stand-in-for-python-connector-base-4.0.x' \
  --change 'CMD ["python"]' \
  - "$TAG" >/dev/null
log "base image $TAG built in $(($(date +%s) - start)) s, $(docker image inspect -f '{{.Size}}' "$TAG" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
