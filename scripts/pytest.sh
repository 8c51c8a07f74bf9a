#!/usr/bin/env bash
# Runs the whole suite against PostgreSQL and Redis on 127.0.0.1.
# Extra arguments go to pytest: make test ARGS="tests/onboarding -k wizard"
set -uo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hangar}
export CELERY_BROKER_URL=${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/15}
export DEBUG=false SECRET_KEY=test-only-secret-key
.venv/bin/python -m pytest "$@"
status=$?
if [ "$status" = 5 ]; then
  echo "error: pytest collected no tests" >&2
fi
exit "$status"
