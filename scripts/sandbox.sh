#!/usr/bin/env bash
# Every Terraform process of a run is sandboxed with bubblewrap; install it if missing.
set -euo pipefail
if [ "${RUN_SANDBOX:-on}" = off ]; then
  echo "sandbox: RUN_SANDBOX=off, runs are NOT isolated (see docs/security.md)"
  exit 0
fi
if ! command -v bwrap >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "error: bubblewrap is missing; install it (as root: apt-get install bubblewrap)," >&2
    echo "       or set RUN_SANDBOX=off to run Terraform without isolation (unsafe; see docs/security.md)" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
fi
echo "sandbox: $(bwrap --version)"
