#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine: the real components the tests run against, and npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS="strace libseccomp-dev python3-seccomp gcc libc6-dev bubblewrap runc busybox-static systemd util-linux iproute2 memcached nginx-light curl wrk bpftrace qemu-user gcc-aarch64-linux-gnu libc6-arm64-cross libc6-dev-arm64-cross"
# the container engine the exports are proven in (test/e2e/containers.test.ts, test/e2e/docker.test.ts; podman with --runtime runc)
PKGS="$PKGS podman docker.io"
# the HTML reports are laid out and measured in a real browser (test/report/html-layout.test.ts)
PKGS="$PKGS chromium"
# the corpus (test/e2e/corpus.test.ts): none of their services is started here (policy-rc.d, no systemd)
PKGS="$PKGS git haproxy lighttpd mosquitto mosquitto-clients postgresql python3 redis-server redis-tools sqlite3 tar"
missing=""
for p in $PKGS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
