#!/usr/bin/env bash
# Full sync demo: starts the fake Zendesk Chat API (embedded default data set) on 127.0.0.1,
# runs `read` for every stream against it, and prints what was synced per stream.
# Usage: bash scripts/demo.sh            (env CHATS=N to change the number of chats)
set -euo pipefail
cd "$(dirname "$0")/.."

CHATS="${CHATS:-2000}"
echo "==> building (release; a first build takes about 5 minutes on 2 cores, later ones seconds)" >&2
cargo build --release --locked -p source-zendesk-chat -p zendesk-chat-sandbox

work="$(mktemp -d)"
sandbox_pid=""
cleanup() { [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

target/release/zendesk-chat-sandbox --port 0 --chats "$CHATS" --max-lifetime-secs 600 \
  > "$work/sandbox.out" 2> "$work/sandbox.err" &
sandbox_pid=$!
for _ in $(seq 1 100); do grep -q '^listening on' "$work/sandbox.out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$work/sandbox.out")"
[ -n "$url" ] || { echo "the fake API did not start" >&2; cat "$work/sandbox.err" >&2; exit 1; }
echo "==> fake Zendesk Chat API at $url ($CHATS chats)" >&2

cat > "$work/config.json" <<JSON
{"subdomain": "demo", "start_date": "2024-01-01T00:00:00Z", "base_url": "$url/api/v2/chat/",
 "credentials": {"credentials": "access_token", "access_token": "sandbox-token-0001"}}
JSON
target/release/source-zendesk-chat discover --config "$work/config.json" > "$work/catalog.out"
python3 - "$work/catalog.out" > "$work/catalog.json" <<'PY'
import json, sys
streams = json.loads(open(sys.argv[1]).readline())["catalog"]["streams"]
print(json.dumps({"streams": [{
    "stream": s,
    "sync_mode": "incremental" if "incremental" in s["supported_sync_modes"] else "full_refresh",
    "destination_sync_mode": "append"} for s in streams]}))
PY

echo "==> source-zendesk-chat read (all streams)" >&2
start=$(date +%s.%N)
target/release/source-zendesk-chat read --config "$work/config.json" --catalog "$work/catalog.json" \
  > "$work/read.out" 2> "$work/read.err"
end=$(date +%s.%N)
python3 - "$work/read.out" "$start" "$end" <<'PY'
import json, sys
records, states, errors = {}, {}, []
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m["type"] == "RECORD":
        records[m["record"]["stream"]] = records.get(m["record"]["stream"], 0) + 1
    elif m["type"] == "STATE":
        s = m["state"]["stream"]
        states[s["stream_descriptor"]["name"]] = s["stream_state"]
    elif m["type"] == "TRACE" and m["trace"]["type"] == "ERROR":
        errors.append(m["trace"]["error"]["message"])
def plural(n, word):
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"
print(f"{'stream':<20} {'records':>14}  final state")
for name in sorted(states):
    st = {k: v for k, v in states[name].items() if not k.startswith("__ab_")}
    state = json.dumps(st) if st else "(full refresh: no cursor)"
    print(f"{name:<20} {plural(records.get(name, 0), 'record'):>14}  {state}")
total = sum(records.values())
secs = float(sys.argv[3]) - float(sys.argv[2])
print(f"{'total':<20} {plural(total, 'record'):>14}  in {secs:.2f} s")
for e in errors:
    print("ERROR:", e)
sys.exit(1 if errors else 0)
PY

echo >&2
echo "==> what the data is for: a few KPIs computed from the synced chats (analytics/ has the SQL)" >&2
python3 - "$work/read.out" <<'PY'
import json, statistics, sys
from collections import Counter
chats = {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m["type"] == "RECORD" and m["record"]["stream"] == "chats":
        c = m["record"]["data"]
        chats[c["id"]] = c  # latest version per chat
live = [c for c in chats.values() if c.get("type") == "chat"]
firsts = [c["response_time"]["first"] for c in live
          if (c.get("response_time") or {}).get("first") is not None]
ratings = Counter(c.get("rating") or "unrated" for c in live if not c.get("missed"))
missed = sum(1 for c in live if c.get("missed"))
per_agent = Counter(n for c in live for n in (c.get("agent_names") or []))
print(f"chats: {len(live):,} (+ {len(chats) - len(live):,} offline messages); missed: {missed:,}"
      f" ({100 * missed / max(len(live), 1):.1f} %)")
if firsts:
    print(f"first response time: average {statistics.mean(firsts):.1f} s, median {statistics.median(firsts):.0f} s")
good, bad = ratings.get("good", 0), ratings.get("bad", 0)
print(f"satisfaction: {good:,} good, {bad:,} bad ({100 * good / max(good + bad, 1):.1f} % good)")
print("chats per agent (top 5):")
for name, n in per_agent.most_common(5):
    print(f"  {name:<24} {n:>5}")
PY
