#!/usr/bin/env bash
# The whole suite: virtual environment, dev dependencies, PostgreSQL, then pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh dev
scripts/provision-postgres.sh
scripts/provision-kafka.sh
scripts/provision-browser.sh
scripts/provision-fonts.sh
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
exec .venv/bin/python -m pytest "$@"
