#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through Playwright; install it if missing.
set -euo pipefail
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "error: chromium is missing; install it (as root: apt-get install chromium)" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "browser: $(chromium --version 2>/dev/null | head -n 1)"
