#!/usr/bin/env bash
# Full sync demo: starts the fake Zendesk Chat API (embedded default data set) on 127.0.0.1, runs
# `read` for every stream against it and prints what was synced per stream; then loads the data
# with PyAirbyte into DuckDB, runs `dbt build` (dbt/) on it, prints the KPIs from the marts and
# writes the HTML report.
# Usage: bash scripts/demo.sh
# Env: CHATS=N      number of chats (default 2000)
#      KEEP=DIR     keep the config, catalog, sync output, state, DuckDB file and report in DIR
#      KPIS=0       stop after the sync summary (no PyAirbyte, dbt or report)
# The KPI part needs two venvs (.venv-tests for PyAirbyte, .venv-dbt for dbt; the same ones
# scripts/py-tests.sh uses): the first run creates them, about 4 minutes and 1.1 GB.
set -euo pipefail
cd "$(dirname "$0")/.."

CHATS="${CHATS:-2000}"
echo "==> building (release; a first build takes about 5 minutes on 2 cores, later ones seconds)" >&2
cargo build --release --locked -p source-zendesk-chat -p zendesk-chat-sandbox

if [ -n "${KEEP:-}" ]; then
  mkdir -p "$KEEP"
  work="$(cd "$KEEP" && pwd)"
else
  work="$(mktemp -d)"
fi
sandbox_pid=""
cleanup() {
  [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

target/release/zendesk-chat-sandbox --port 0 --chats "$CHATS" --max-lifetime-secs 1800 \
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
grep '"type":"STATE"' "$work/read.out" > "$work/state.jsonl" || true
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
total = sum(records.values())
secs = float(sys.argv[3]) - float(sys.argv[2])
rows = []
for name in sorted(states):
    st = {k: v for k, v in states[name].items() if not k.startswith("__ab_")}
    rows.append((name, plural(records.get(name, 0), "record"),
                 json.dumps(st) if st else "(full refresh: no cursor)"))
rows.append(("total", plural(total, "record"), f"in {secs:.2f} s"))
w_name = max(len(r[0]) for r in rows + [("stream",)])
w_rec = max(len(r[1]) for r in rows + [("", "records")])
print(f"{'stream':<{w_name}}  {'records':>{w_rec}}  final state")
for name, recs, state in rows:
    print(f"{name:<{w_name}}  {recs:>{w_rec}}  {state}")
print("Final cursors: every export (chats and its child streams, agent_timeline, conversions,"
      " department_events) stops at what it read in order: its last record, or the start of the"
      " last time slice, which found nothing after the data; none passes now - 5.5 min (the"
      " live-edge ceiling: the last minutes of an export are not final). agents and bans keep the"
      " last id. The next incremental sync (--state) starts there.")
for e in errors:
    print("ERROR:", e)
sys.exit(1 if errors else 0)
PY

if [ "${KPIS:-1}" = "0" ]; then
  [ -n "${KEEP:-}" ] && echo "kept in $work: config.json, catalog.json, read.out (sync output), read.err (logs), state.jsonl (state)"
  exit 0
fi

echo >&2
echo "==> KPIs: PyAirbyte loads the sync into DuckDB, dbt builds the marts (dbt/)" >&2
setup_start=$(date +%s)
. scripts/venv.sh
venv .venv-tests tests/py/requirements.txt
venv .venv-dbt dbt/requirements.txt
setup_secs=$(( $(date +%s) - setup_start ))
[ "$setup_secs" -gt 20 ] && echo "==> venvs set up in ${setup_secs} s (first run only)" >&2

db="$work/zendesk_chat.duckdb"
rm -f "$db"
AIRBYTE_LOGGING_ROOT="$work/airbyte-logs" .venv-tests/bin/python dbt/load_with_pyairbyte.py \
  --config "$work/config.json" --connector target/release/source-zendesk-chat --db "$db" \
  --full-refresh > "$work/pyairbyte.log" 2>&1 || { tail -20 "$work/pyairbyte.log" >&2; exit 1; }
tail -1 "$work/pyairbyte.log" >&2

cat > "$work/profiles.yml" <<YAML
zendesk_chat:
  target: duckdb
  outputs:
    duckdb: {type: duckdb, path: "$db", schema: zendesk_chat_kpis, threads: 2}
YAML
.venv-dbt/bin/dbt build --project-dir dbt --profiles-dir "$work" --target-path "$work/dbt-target" \
  --log-path "$work/dbt-logs" > "$work/dbt-build.log" 2>&1 || { tail -40 "$work/dbt-build.log" >&2; exit 1; }
echo "==> dbt build: $(grep -o 'PASS=.*' "$work/dbt-build.log" | tail -1)" >&2

.venv-dbt/bin/python - "$db" <<'PY'
import sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
cur = con.execute("SELECT * FROM zendesk_chat_kpis.zendesk_chat__overall")
o = dict(zip([d[0] for d in cur.description], cur.fetchone()))
agents = con.execute("""SELECT agent_name, chats_handled, median_first_response_s
    FROM zendesk_chat_kpis.zendesk_chat__agents ORDER BY chats_handled DESC, agent_name LIMIT 5""").fetchall()
s = lambda v: "–" if v is None else f"{v:,.2f} s"
pct = lambda v: "–" if v is None else f"{100 * v:.2f} %"
rows = [
    ("chats (not deleted)", f"{o['chats']:,}", "live chats + offline messages"),
    ("live chats", f"{o['live_chats']:,}", f"answered {o['answered_chats']:,}, missed {o['missed_chats']:,}"),
    ("missed rate", pct(o["missed_rate"]), "missed / live chats"),
    ("offline messages", f"{o['offline_messages']:,}", f"read {o['read_offline_messages']:,}, unread (open) {o['open_chats']:,}"),
    ("first response", s(o["avg_first_response_s"]),
     f"average over {o['responded_chats']:,} chats; median {s(o['median_first_response_s'])}, p90 {s(o['p90_first_response_s'])}"),
    ("waiting time", s(o["avg_waiting_time_s"]),
     f"average over {o['waited_chats']:,} chats; median {s(o['median_waiting_time_s'])}, p90 {s(o['p90_waiting_time_s'])}"),
    ("duration, answered", s(o["avg_answered_duration_s"]), f"average; missed chats {s(o['avg_missed_duration_s'])}"),
    ("satisfaction", pct(o["satisfaction_rate"]), f"good / rated: {o['good_ratings']:,} good, {o['bad_ratings']:,} bad ({o['rated_chats']:,} of {o['answered_chats']:,} answered rated)"),
]
w0 = max(len(r[0]) for r in rows)
w1 = max(len(r[1]) for r in rows)
print("KPIs (dbt marts zendesk_chat__overall, zendesk_chat__agents):")
for a, b, c in rows:
    print(f"  {a:<{w0}}  {b:>{w1}}  {c}")
print("  chats per agent (top 5), median first response:")
wn = max(len(a[0]) for a in agents)
for name, n, med in agents:
    print(f"    {name:<{wn}}  {n:>7,}  {s(med)}")
PY

if [ -n "${KEEP:-}" ]; then report="$work/report.html"; else mkdir -p target/demo; report="$PWD/target/demo/report.html"; fi
.venv-dbt/bin/python dbt/report/build_report.py --duckdb "$db" --out "$report" >/dev/null
echo "report: $report (one self-contained HTML file)"
if [ -n "${KEEP:-}" ]; then
  echo "kept in $work: config.json, catalog.json, read.out (sync output), read.err (logs), state.jsonl (state)," \
       "zendesk_chat.duckdb (PyAirbyte's tables in schema main, the marts in zendesk_chat_kpis), profiles.yml, report.html"
fi
