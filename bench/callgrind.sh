#!/usr/bin/env bash
# Instruction count of one `read` of `chats` (full refresh) under valgrind's callgrind: stable from
# run to run on a shared machine, so it compares two builds of this connector (before/after).
# Usage: bash bench/callgrind.sh [CHATS]       (default 20000; STREAMS=chats,chat_history ...)
# Prints the total instructions and records; the profile is left in bench/out/callgrind.out for
# `callgrind_annotate`. The build keeps symbols (target/prof) so the profile names functions.
set -euo pipefail
cd "$(dirname "$0")/.."

CHATS="${1:-20000}"
STREAMS="${STREAMS:-chats}"
command -v valgrind >/dev/null || { apt-get install -y valgrind >/dev/null; }
CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
  cargo build --release --locked --target-dir target/prof -p source-zendesk-chat -p zendesk-chat-sandbox >&2
bin=target/prof/release
out=bench/out
mkdir -p "$out"
work="$(mktemp -d)"
sandbox_pid=""
cleanup() { [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$bin/zendesk-chat-sandbox" --port 0 --chats "$CHATS" --max-lifetime-secs 900 \
  > "$work/sandbox.out" 2> "$work/sandbox.err" &
sandbox_pid=$!
for _ in $(seq 1 100); do grep -q '^listening on' "$work/sandbox.out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$work/sandbox.out")"
[ -n "$url" ] || { echo "the fake API did not start" >&2; cat "$work/sandbox.err" >&2; exit 1; }

cat > "$work/config.json" <<JSON
{"subdomain": "bench", "start_date": "2024-01-01T00:00:00Z", "base_url": "$url/api/v2/chat/",
 "requests_per_minute": 10000,
 "credentials": {"credentials": "access_token", "access_token": "sandbox-token-0001"}}
JSON
"$bin/source-zendesk-chat" discover --config "$work/config.json" > "$work/catalog.out"
python3 - "$work/catalog.out" "$STREAMS" > "$work/catalog.json" <<'PY'
import json, sys
wanted = sys.argv[2].split(",")
streams = json.loads(open(sys.argv[1]).readline())["catalog"]["streams"]
print(json.dumps({"streams": [{"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
                              for s in streams if s["name"] in wanted]}))
PY
valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
  "$bin/source-zendesk-chat" read --config "$work/config.json" --catalog "$work/catalog.json" \
  > "$work/read.out" 2> "$work/read.err"
records=$(grep -c '"type":"RECORD"' "$work/read.out" || true)
instructions=$(callgrind_annotate "$out/callgrind.out" 2>/dev/null | sed -n 's/^\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
echo "chats=$CHATS streams=$STREAMS records=$records instructions=$instructions"
