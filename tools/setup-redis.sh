#!/usr/bin/env bash
# Installs Debian's redis-server for the queue tests and bench/queue.js (test/queue.test.ts starts its own throwaway
# instances on free loopback ports; nothing is started here). Does nothing when redis-server is already present.
set -euo pipefail
if command -v redis-server >/dev/null; then exit 0; fi
if ! command -v apt-get >/dev/null; then
  echo "craft-text: please install redis-server (>= 6.2) for the queue tests" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "craft-text: run as root, or install redis-server" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
# Debian's package starts a system instance on port 6379; the tests don't use it.
command -v redis-server >/dev/null
