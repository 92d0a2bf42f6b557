#!/usr/bin/env bash
# The Python end-to-end tests (tests/py): the real connector binary driven by PyAirbyte against the
# fake Zendesk Chat API, synced into DuckDB and into a throwaway PostgreSQL 15 on 127.0.0.1, with
# the KPI queries of analytics/ checked against the fake API's generated data.
# Usage: bash scripts/py-tests.sh [pytest args]
# Env: PYTHON (default python3, 3.10+), VENV (default .venv-tests), PG_BIN (PostgreSQL bin dir).
# First run: creates the venv from tests/py/requirements.txt (about 3 min, 790 MB); later runs
# reuse it while the requirements file is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv-tests}"
REQ=tests/py/requirements.txt
stamp="$VENV/.requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> creating $VENV from $REQ (first time: about 3 minutes)"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
  echo "$want" > "$stamp"
fi

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
if [ ! -x "$PG_BIN/initdb" ] && ! command -v initdb >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing PostgreSQL 15 from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
  else
    echo "PostgreSQL 15 not found: install it (apt-get install postgresql-15) or set PG_BIN" >&2
    exit 1
  fi
fi
export PG_BIN

# The debug binaries `cargo test` builds (same features as the Rust tests: no extra compile after
# them); they land in target/debug/.
echo "==> building the connector and the fake API (debug, as for cargo test)"
cargo test --workspace --locked --no-run
export CONNECTOR_BIN="${CONNECTOR_BIN:-$PWD/target/debug/source-zendesk-chat}"
export SANDBOX_BIN="${SANDBOX_BIN:-$PWD/target/debug/zendesk-chat-sandbox}"

echo "==> pytest tests/py"
exec "$VENV/bin/python" -m pytest tests/py -p no:cacheprovider -W ignore::DeprecationWarning \
  -W ignore::FutureWarning "$@"
