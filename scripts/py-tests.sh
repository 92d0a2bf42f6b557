#!/usr/bin/env bash
# The Python end-to-end tests (tests/py): the real connector binary driven by PyAirbyte against the
# fake Zendesk Chat API, synced into DuckDB and into a throwaway PostgreSQL 15 on 127.0.0.1, then
# `dbt build` of dbt/ on both, the marts checked against the fake API's generated data, and the
# HTML report rendered in headless Chromium.
# Usage: bash scripts/py-tests.sh [pytest args]
# Env: PYTHON (default python3, 3.10+), VENV (default .venv-tests), DBT_VENV (default .venv-dbt),
# PG_BIN (PostgreSQL bin dir), CHROMIUM (default: chromium on PATH).
# First run: creates the venvs from tests/py/requirements.txt (about 3 min, 790 MB) and
# dbt/requirements.txt (about 1 min, 330 MB); later runs reuse them while the requirements files
# are unchanged. Installs PostgreSQL 15 and Chromium from Debian when root and absent.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv-tests}"
. scripts/venv.sh
venv "$VENV" tests/py/requirements.txt
DBT_VENV="${DBT_VENV:-.venv-dbt}"
venv "$DBT_VENV" dbt/requirements.txt
export DBT_BIN="$PWD/$DBT_VENV/bin/dbt" DBT_PYTHON="$PWD/$DBT_VENV/bin/python"

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

if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing Chromium from Debian (for the report test)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium not found: install it (apt-get install chromium) or set CHROMIUM" >&2
    exit 1
  fi
fi
export CHROMIUM="${CHROMIUM:-$(command -v chromium)}"

# The debug binaries `cargo test` builds (same features as the Rust tests: no extra compile after
# them); they land in target/debug/.
echo "==> building the connector and the fake API (debug, as for cargo test)"
cargo test --workspace --locked --no-run
export CONNECTOR_BIN="${CONNECTOR_BIN:-$PWD/target/debug/source-zendesk-chat}"
export SANDBOX_BIN="${SANDBOX_BIN:-$PWD/target/debug/zendesk-chat-sandbox}"

echo "==> pytest tests/py"
exec "$VENV/bin/python" -m pytest tests/py -p no:cacheprovider -W ignore::DeprecationWarning \
  -W ignore::FutureWarning "$@"
