#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit and integration tests (the real binary against
# the fake Zendesk Chat API), then the Docker image and Airbyte's standard tests.
# Usage: bash scripts/test.sh          SKIP_DOCKER=1 skips the Docker/Airbyte part, SKIP_PY=1 the
#                                      PyAirbyte/KPI tests (neither is skipped in CI).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> layout (file and function sizes) and unused dependencies (cargo machete)"
python3 scripts/check_layout.py
command -v cargo-machete >/dev/null || cargo install --locked --quiet cargo-machete --version 0.9.2
cargo machete
echo "==> cargo test"
cargo test --workspace --locked

if [ "${SKIP_PY:-0}" = "1" ] && [ "${CI:-}" != "true" ]; then
  echo "==> SKIP_PY=1: the PyAirbyte and KPI tests were NOT run"
else
  echo "==> PyAirbyte + KPI tests (DuckDB and PostgreSQL)"
  py_start=$(date +%s)
  bash scripts/py-tests.sh -q
  echo "==> PyAirbyte + KPI tests took $(( $(date +%s) - py_start )) s"
fi

if [ "${SKIP_DOCKER:-0}" = "1" ] && [ "${CI:-}" != "true" ]; then
  echo "==> SKIP_DOCKER=1: the Docker image and Airbyte standard tests were NOT run"
  exit 0
fi
echo "==> Docker image + Airbyte standard tests"
cargo build --release --locked -p zendesk-chat-sandbox
SANDBOX_BIN="$PWD/target/release/zendesk-chat-sandbox" bash scripts/docker/run-airbyte-tests.sh
