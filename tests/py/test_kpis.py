"""The dbt package (dbt/) on a sandbox sync loaded through PyAirbyte into DuckDB and into
PostgreSQL (fixtures ``dbt_duckdb``, ``dbt_postgres``: `dbt build`, models and their tests), the
marts compared with the same KPIs computed here, independently, from the fake API's generated data
(``expected``): counts exactly, times and rates within 1e-9, overall, per chat, day, week,
department and day, agent and day, and agent."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from collections import defaultdict

import duckdb
import pytest

from conftest import SESSION_TMP, Marts, duckdb_profile, duckdb_query, run_dbt

TOLERANCE = 1e-9


# ---------------------------------------------------------------------------------------------
# The same KPIs from the generated data


def truthy(v) -> bool:
    return v is True or v == 1 or (isinstance(v, str) and v.lower() in ("true", "t", "1", "1.0"))


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def kept(expected) -> list[dict]:
    """Chats not deleted (each chat once: the generated data has no duplicates)."""
    return [c for c in expected["chats"] if not truthy(c.get("deleted"))]


def status(c: dict) -> str:
    if c["type"] == "offline_msg":
        return "open" if truthy(c.get("unread")) else "offline_message"
    if truthy(c.get("missed")):
        return "missed"
    return "open" if c.get("end_timestamp") is None else "answered"


def waiting_time(c: dict):
    """Visitor's first message to the first agent joining, from the chat's history."""
    if c["type"] != "chat":
        return None
    hist = c.get("history") or []
    visitor = [ts(h["timestamp"]) for h in hist if h["type"] == "chat.msg"
               and (h.get("sender_type") == "Visitor" or str(h.get("nick", "")).startswith("visitor:"))]
    agent = [ts(h["timestamp"]) for h in hist if h["type"] == "chat.memberjoin"
             and (h.get("sender_type") == "Agent" or str(h.get("nick", "")).startswith("agent:"))]
    if visitor and agent and min(agent) >= min(visitor):
        return ((min(agent) - min(visitor)) // dt.timedelta(microseconds=1)) / 1e6
    return None


def per_chat(c: dict, tz: dt.tzinfo = dt.timezone.utc) -> dict:
    live = c["type"] == "chat"
    st = status(c)
    first = (c.get("response_time") or {}).get("first") if live else None
    local = ts(c["timestamp"]).astimezone(tz).date()
    return {
        "chat_id": c["id"], "status": st, "chat_type": c["type"],
        "started_date": local, "started_week": local - dt.timedelta(days=local.weekday()),
        "first_response_s": None if first is None else float(first),
        "waiting_time_s": waiting_time(c),
        "duration_s": float(c["duration"]) if live and c.get("duration") is not None else None,
        "rating": c.get("rating") if st == "answered" else None,
        "is_proactive": c.get("started_by") == "agent",
        "department_id": c.get("department_id"),
    }


def percentile(values: list[float], p: float):
    """Continuous percentile, as PERCENTILE_CONT: linear between the two nearest ranks."""
    if not values:
        return None
    v = sorted(values)
    pos = p * (len(v) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def mean(values):
    return sum(values) / len(values) if values else None


def ratio(a, b):
    return a / b if b else None


def chat_kpis(rows: list[dict]) -> dict:
    n = lambda pred: sum(1 for r in rows if pred(r))  # noqa: E731
    firsts = [r["first_response_s"] for r in rows if r["first_response_s"] is not None]
    waits = [r["waiting_time_s"] for r in rows if r["waiting_time_s"] is not None]
    live = n(lambda r: r["chat_type"] == "chat")
    missed = n(lambda r: r["status"] == "missed")
    good = n(lambda r: r["rating"] == "good")
    bad = n(lambda r: r["rating"] == "bad")
    return {
        "chats": len(rows), "live_chats": live,
        "offline_messages": n(lambda r: r["chat_type"] == "offline_msg"),
        "answered_chats": n(lambda r: r["status"] == "answered"), "missed_chats": missed,
        "read_offline_messages": n(lambda r: r["status"] == "offline_message"),
        "open_chats": n(lambda r: r["status"] == "open"),
        "resolved_chats": n(lambda r: r["status"] != "open"),
        "proactive_chats": n(lambda r: r["is_proactive"]),
        "missed_rate": ratio(missed, live),
        "responded_chats": len(firsts), "avg_first_response_s": mean(firsts),
        "median_first_response_s": percentile(firsts, 0.5),
        "p90_first_response_s": percentile(firsts, 0.9),
        "max_first_response_s": max(firsts) if firsts else None,
        "waited_chats": len(waits), "avg_waiting_time_s": mean(waits),
        "median_waiting_time_s": percentile(waits, 0.5),
        "p90_waiting_time_s": percentile(waits, 0.9),
        "avg_answered_duration_s": mean([r["duration_s"] for r in rows if r["status"] == "answered"
                                         and r["duration_s"] is not None]),
        "avg_missed_duration_s": mean([r["duration_s"] for r in rows if r["status"] == "missed"
                                       and r["duration_s"] is not None]),
        "rated_chats": good + bad, "good_ratings": good, "bad_ratings": bad,
        "satisfaction_rate": ratio(good, good + bad),
    }


def grouped(expected, key: str, tz=dt.timezone.utc) -> dict:
    groups = defaultdict(list)
    for c in kept(expected):
        row = per_chat(c, tz)
        groups[row[key]].append(row)
    return {k: chat_kpis(v) for k, v in groups.items()}


def agent_kpis(expected, by_day: bool) -> dict:
    """(agent_id[, day]) -> the agent KPIs of zendesk_chat__agent_daily / __agents."""
    out = defaultdict(lambda: {"chats": set(), "engagements": 0, "firsts": [], "avgs": [],
                               "good": 0, "bad": 0, "online_s": 0.0, "away_s": 0.0,
                               "invisible_s": 0.0})
    for c in kept(expected):
        day = ts(c["timestamp"]).date()
        for aid in c.get("agent_ids") or []:
            out[(int(aid), day) if by_day else int(aid)]["chats"].add(c["id"])
        for e in c.get("engagements") or []:
            k = out[(int(e["agent_id"]), day) if by_day else int(e["agent_id"])]
            k["engagements"] += 1
            rt = e.get("response_time") or {}
            if rt.get("first") is not None:
                k["firsts"].append(float(rt["first"]))
            if rt.get("avg") is not None:
                k["avgs"].append(float(rt["avg"]))
            k["good"] += e.get("rating") == "good"
            k["bad"] += e.get("rating") == "bad"
    for t in expected["agent_timeline"]:
        day = ts(t["start_time"]).date()
        k = out[(int(t["agent_id"]), day) if by_day else int(t["agent_id"])]
        if t["status"] in ("online", "away", "invisible"):
            k[f"{t['status']}_s"] += float(t["duration"])
    return {key: {
        "chats_handled": len(v["chats"]), "engagements": v["engagements"],
        "responded_engagements": len(v["firsts"]), "avg_first_response_s": mean(v["firsts"]),
        "median_first_response_s": percentile(v["firsts"], 0.5),
        "avg_response_s": mean(v["avgs"]), "good_ratings": v["good"], "bad_ratings": v["bad"],
        "satisfaction_rate": ratio(v["good"], v["good"] + v["bad"]),
        "online_s": v["online_s"], "away_s": v["away_s"], "invisible_s": v["invisible_s"],
    } for key, v in out.items()}


# ---------------------------------------------------------------------------------------------
# Comparing


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(b, float) or isinstance(a, float):
        return abs(float(a) - b) <= TOLERANCE * max(1.0, abs(b))
    return a == b


def assert_same(got: dict[object, dict], want: dict[object, dict], what: str) -> None:
    assert sorted(got, key=str) == sorted(want, key=str), f"{what}: keys differ"
    bad = [(k, col, got[k][col], v) for k in want for col, v in want[k].items()
           if not close(got[k][col], v)]
    assert not bad, f"{what}: {len(bad)} values differ, e.g. {bad[:5]}"


# ---------------------------------------------------------------------------------------------
# Tests


def test_dbt_build_passes_every_model_and_test(marts, request):
    out = request.getfixturevalue(f"dbt_{request.node.callspec.params['marts']}")[1]
    assert "ERROR=0" in out and "WARN=0" in out, out[-3000:]
    assert "SKIP=0" in out


def test_the_sync_holds_every_generated_chat_once(duckdb_cache, expected):
    from sqlalchemy import text
    engine = duckdb_cache.get_sql_engine()
    with engine.connect() as con:
        rows = [tuple(r) for r in con.execute(text("SELECT COUNT(*), COUNT(DISTINCT id) FROM main.chats"))]
    engine.dispose()  # DuckDB: dbt (another process) opens the file next
    assert rows == [(len(expected["chats"]), len(expected["chats"]))]


def test_the_data_exercises_every_kpi(expected):
    """Guards against a vacuous pass: every category the models distinguish is present."""
    rows = [per_chat(c) for c in kept(expected)]
    assert {r["status"] for r in rows} == {"answered", "missed", "offline_message", "open"}
    assert {r["rating"] for r in rows} >= {"good", "bad", None}
    assert any(r["is_proactive"] for r in rows)
    assert len(kept(expected)) < len(expected["chats"]), "some chats are deleted"
    assert len({r["started_week"] for r in rows}) >= 8


def test_chats_mart_matches_the_generated_data(marts, expected):
    got = {r["chat_id"]: r for r in marts.table("zendesk_chat__chats", "chat_id")}
    want = {c["id"]: per_chat(c) for c in kept(expected)}
    for r in want.values():
        r.pop("chat_id")
    assert_same(got, want, "zendesk_chat__chats")


def test_overall_matches_the_generated_data(marts, expected):
    [got] = marts.table("zendesk_chat__overall", "chats")
    rows = [per_chat(c) for c in kept(expected)]
    assert_same({0: got}, {0: chat_kpis(rows)}, "zendesk_chat__overall")


@pytest.mark.parametrize("mart,key", [("zendesk_chat__daily", "started_date"),
                                      ("zendesk_chat__weekly", "started_week")])
def test_daily_and_weekly_match_the_generated_data(marts, expected, mart, key):
    got = {r[key]: r for r in marts.table(mart, key)}
    assert_same(got, grouped(expected, key), mart)


def test_department_daily_matches_the_generated_data(marts, expected):
    got = {(r["department_id"], r["started_date"]): r
           for r in marts.table("zendesk_chat__department_daily", "department_id, started_date")}
    groups = defaultdict(list)
    for c in kept(expected):
        if c.get("department_id") is not None:
            row = per_chat(c)
            groups[(int(c["department_id"]), row["started_date"])].append(row)
    assert_same(got, {k: chat_kpis(v) for k, v in groups.items()}, "zendesk_chat__department_daily")


def test_agent_daily_and_agents_match_the_generated_data(marts, expected):
    daily = {(r["agent_id"], r["started_date"]): r
             for r in marts.table("zendesk_chat__agent_daily", "agent_id, started_date")}
    assert_same(daily, agent_kpis(expected, by_day=True), "zendesk_chat__agent_daily")
    agents = {r["agent_id"]: r for r in marts.table("zendesk_chat__agents", "agent_id")}
    assert_same(agents, agent_kpis(expected, by_day=False), "zendesk_chat__agents")
    names = {int(a["id"]): a.get("display_name") for a in expected["agents"]}
    assert all(r["agent_name"] == names[r["agent_id"]] for r in agents.values())


def test_marts_have_the_same_column_types_on_both_engines(dbt_duckdb, dbt_postgres):
    sql = ("SELECT table_name, column_name, data_type FROM information_schema.columns "
           "WHERE table_schema = '{s}' ORDER BY table_name, column_name")
    same = {"VARCHAR": "text", "character varying": "text", "DOUBLE": "double precision",
            "BIGINT": "bigint", "BOOLEAN": "boolean", "DATE": "date",
            "TIMESTAMP": "timestamp without time zone"}
    duck = [(t, c, same.get(ty, ty)) for t, c, ty in dbt_duckdb[0].rows(sql)]
    pg = [(t, c, same.get(ty, ty)) for t, c, ty in dbt_postgres[0].rows(sql)]
    assert len(duck) > 100 and duck == pg


def test_the_models_ignore_rows_repeated_by_append_syncs_and_missing_columns(dbt_duckdb, expected):
    """An append-mode destination holds an updated chat (and its child rows) once per sync, under
    a table prefix, in a schema of its own; a table may lack a column no record carried
    (`chat_history.nick`); other loaders write flags and JSON as text, times WITH TIME ZONE or as
    RFC 3339 text. The build gives the same marts. Also the reporting time zone: days are taken in
    America/New_York."""
    synced = SESSION_TMP / "sync.duckdb"
    doubled = SESSION_TMP / "doubled.duckdb"
    shutil.copy(synced, doubled)
    retyped = {
        "chats": 'CAST("timestamp" AS TIMESTAMPTZ) AS "timestamp", CAST(deleted AS VARCHAR) AS deleted, '
                 "CAST(missed AS VARCHAR) AS missed, CAST(response_time AS VARCHAR) AS response_time, "
                 "CAST(agent_ids AS VARCHAR) AS agent_ids",
        "chat_history": 'CAST("timestamp" AS TIMESTAMPTZ) AS "timestamp"',
        "agent_timeline": "strftime(start_time_exact, '%Y-%m-%dT%H:%M:%S.%fZ') AS start_time_exact, "
                          "CAST(duration AS VARCHAR) AS duration",
    }
    con = duckdb.connect(str(doubled))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("CREATE SCHEMA raw")
        for t in ("chats", "chat_history", "chat_engagements", "agents", "departments",
                  "agent_timeline"):
            cols = "*"
            if t == "chat_history":
                cols += " EXCLUDE (nick)"
            if t in retyped:
                cols += f" REPLACE ({retyped[t]})"
            con.execute(f"CREATE TABLE raw.zc_{t} AS SELECT {cols} FROM main.{t} "
                        f"UNION ALL SELECT {cols} FROM main.{t}")
    finally:
        con.close()
    db = SESSION_TMP / "kpis-doubled.duckdb"
    tz = "America/New_York"
    run_dbt("doubled", duckdb_profile(db, doubled), {
        "zendesk_chat_database": "synced", "zendesk_chat_schema": "raw",
        "zendesk_chat_table_prefix": "zc_", "zendesk_chat_timezone": tz}, "build")
    again = Marts(duckdb_query(db))
    for mart, key in [("zendesk_chat__overall", "chats"), ("zendesk_chat__agents", "agent_id")]:
        plain = {r[key]: r for r in dbt_duckdb[0].table(mart, key)}
        twice = {r[key]: r for r in again.table(mart, key)}
        assert_same(twice, plain, f"{mart} on doubled, retyped tables")
    from zoneinfo import ZoneInfo
    got = {r["started_date"]: r for r in again.table("zendesk_chat__daily", "started_date")}
    assert_same(got, grouped(expected, "started_date", ZoneInfo(tz)), f"daily in {tz}")


def test_the_models_read_tables_typed_like_an_airbyte_postgres_destination(dbt_postgres, postgres):
    """Airbyte's Postgres destination writes times as TIMESTAMP WITH TIME ZONE and objects as
    JSONB: the marts built from such tables equal those from PyAirbyte's."""
    import psycopg2
    con = psycopg2.connect(host="127.0.0.1", port=postgres.port, user=postgres.user,
                           dbname="postgres")
    try:
        con.autocommit = True
        cur = con.cursor()
        cur.execute("SET TIME ZONE 'Asia/Tokyo'")  # a session zone that must not leak in
        cur.execute("DROP SCHEMA IF EXISTS dest CASCADE; CREATE SCHEMA dest")
        for t in ("chats", "chat_history", "chat_engagements", "agents", "departments",
                  "agent_timeline"):
            cur.execute(f"CREATE TABLE dest.{t} AS SELECT * FROM zendesk.{t}")
            cur.execute("SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_schema = 'zendesk' AND table_name = %s", (t,))
            for col, typ in cur.fetchall():
                if typ == "timestamp without time zone":
                    cur.execute(f'ALTER TABLE dest.{t} ALTER COLUMN "{col}" TYPE timestamptz '
                                f"USING \"{col}\" AT TIME ZONE 'UTC'")
                elif typ == "json":
                    cur.execute(f'ALTER TABLE dest.{t} ALTER COLUMN "{col}" TYPE jsonb '
                                f'USING "{col}"::jsonb')
    finally:
        con.close()
    profile = {"type": "postgres", "host": "127.0.0.1", "port": postgres.port,
               "user": postgres.user, "password": "unused-trust-auth", "dbname": "postgres",
               "schema": "kpis_dest", "threads": 2}
    run_dbt("postgres-dest", profile, {"zendesk_chat_schema": "dest"}, "build")
    dest = dbt_postgres[0].in_schema("kpis_dest")
    for mart, key in [("zendesk_chat__chats", "chat_id"), ("zendesk_chat__daily", "started_date"),
                      ("zendesk_chat__agent_daily", "agent_id, started_date")]:
        plain = {tuple(r[k.strip()] for k in key.split(",")): r for r in dbt_postgres[0].table(mart, key)}
        other = {tuple(r[k.strip()] for k in key.split(",")): r for r in dest.table(mart, key)}
        assert_same(other, plain, f"{mart} from destination-typed tables")
