"""The KPI queries of analytics/ on a sandbox sync loaded through PyAirbyte into DuckDB and into
PostgreSQL, compared with the same KPIs computed here, independently, from the fake API's generated
data (``expected``): counts exactly, averages and percentages within 1e-9."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from pathlib import Path

import pytest

ANALYTICS = Path(__file__).resolve().parents[2] / "analytics"
TOLERANCE = 1e-9


# ---------------------------------------------------------------------------------------------
# Running the queries


def run_sql(cache, setup: list[str], sql: str) -> list[tuple]:
    """Runs the statements on a raw DB-API connection (no parameter binding, so a `%` in the SQL
    reaches the database as written) and commits."""
    conn = cache.get_sql_engine().raw_connection()
    try:
        cur = conn.cursor()
        for stmt in setup:
            cur.execute(stmt)
        cur.execute(sql)
        rows = [tuple(r) for r in cur.fetchall()]
        conn.commit()
        return rows
    finally:
        conn.close()


@pytest.fixture(params=["duckdb", "postgres"])
def db(request):
    """(cache, setup statements): UTC session, unqualified names resolve to the synced tables."""
    if request.param == "duckdb":
        return request.getfixturevalue("duckdb_cache"), ["SET TimeZone = 'UTC'"]
    return request.getfixturevalue("postgres_cache"), ["SET TIME ZONE 'UTC'",
                                                        "SET search_path TO zendesk"]


def kpi(db, name: str) -> list[tuple]:
    cache, setup = db
    return run_sql(cache, setup, (ANALYTICS / f"{name}.sql").read_text())


def assert_rows(got: list[tuple], want: list[tuple]) -> None:
    assert len(got) == len(want), f"{len(got)} rows, expected {len(want)}:\n{got}\n{want}"
    for i, (g, w) in enumerate(zip(got, want)):
        assert len(g) == len(w), f"row {i}: {g} vs {w}"
        for j, (a, b) in enumerate(zip(g, w)):
            if isinstance(b, float):
                assert a is not None and abs(float(a) - b) <= TOLERANCE, f"row {i} col {j}: {a} != {b}"
            else:
                assert a == b, f"row {i} col {j}: {a!r} != {b!r}"


# ---------------------------------------------------------------------------------------------
# The same KPIs from the generated data


def truthy(v) -> bool:
    return v is True or v == 1 or (isinstance(v, str) and v.lower() in ("true", "t", "1", "1.0"))


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def kept(expected) -> list[dict]:
    """Chats not deleted (each chat once: the generated data has no duplicates)."""
    return [c for c in expected["chats"] if not truthy(c.get("deleted"))]


def live(expected) -> list[dict]:
    return [c for c in kept(expected) if c["type"] == "chat"]


def first_response(c: dict):
    return (c.get("response_time") or {}).get("first")


def ref_first_response_time(expected):
    firsts = [float(f) for c in live(expected) if (f := first_response(c)) is not None]
    return [(len(firsts), statistics.fmean(firsts), statistics.median(firsts), max(firsts))]


def ref_first_response_time_by_month(expected):
    months = defaultdict(list)
    for c in live(expected):
        start = ts(c["timestamp"])
        months[dt.date(start.year, start.month, 1)].append(first_response(c))
    rows = []
    for month in sorted(months):
        firsts = [float(f) for f in months[month] if f is not None]
        rows.append((month, len(months[month]), len(firsts), statistics.fmean(firsts)))
    return rows


def ref_waiting_time(expected):
    waits_us = []
    for c in live(expected):
        hist = c.get("history") or []
        visitor = [ts(h["timestamp"]) for h in hist
                   if h["type"] == "chat.msg" and h.get("sender_type") == "Visitor"]
        agent = [ts(h["timestamp"]) for h in hist
                 if h["type"] == "chat.memberjoin" and h.get("sender_type") == "Agent"]
        if visitor and agent and min(agent) >= min(visitor):
            waits_us.append((min(agent) - min(visitor)) // dt.timedelta(microseconds=1))
    waits = [w / 1e6 for w in waits_us]
    return [(len(waits), sum(waits_us) / len(waits_us) / 1e6, statistics.median(waits), max(waits))]


def ref_satisfaction(expected):
    answered = [c for c in live(expected) if not truthy(c.get("missed"))]
    good = sum(1 for c in answered if c.get("rating") == "good")
    bad = sum(1 for c in answered if c.get("rating") == "bad")
    n = len(answered)
    return [(n, good, bad, n - good - bad, 100.0 * good / (good + bad), 100.0 * (good + bad) / n)]


def ref_chat_duration(expected):
    groups = defaultdict(list)
    for c in live(expected):
        if c.get("duration") is not None:
            groups["missed" if truthy(c.get("missed")) else "answered"].append(float(c["duration"]))
    return [(k, len(v), statistics.fmean(v), statistics.median(v), max(v))
            for k, v in sorted(groups.items())]


def ref_missed_vs_answered(expected):
    counts = defaultdict(int)
    for c in kept(expected):
        if c["type"] == "chat":
            status = "missed" if truthy(c.get("missed")) else "answered"
        else:
            status = "unread" if truthy(c.get("unread")) else "read"
        counts[(c["type"], status)] += 1
    per_kind = defaultdict(int)
    for (kind, _), n in counts.items():
        per_kind[kind] += n
    return [(kind, status, n, 100.0 * n / per_kind[kind])
            for (kind, status), n in sorted(counts.items())]


def ref_chats_per_agent(expected):
    names = {str(a["id"]): a.get("display_name") for a in expected["agents"]}
    chats, firsts, eng_names = defaultdict(set), defaultdict(list), {}
    for c in kept(expected):
        for e in c.get("engagements") or []:
            aid = str(e["agent_id"])
            chats[aid].add(c["id"])
            eng_names[aid] = e.get("agent_name")
            if (f := (e.get("response_time") or {}).get("first")) is not None:
                firsts[aid].append(float(f))
    rows = [(aid, names.get(aid) or eng_names[aid], len(ids),
             statistics.fmean(firsts[aid]) if firsts[aid] else None)
            for aid, ids in chats.items()]
    return sorted(rows, key=lambda r: (-r[2], r[0]))


REFERENCES = {
    "first_response_time": ref_first_response_time,
    "first_response_time_by_month": ref_first_response_time_by_month,
    "waiting_time": ref_waiting_time,
    "satisfaction": ref_satisfaction,
    "chat_duration": ref_chat_duration,
    "missed_vs_answered": ref_missed_vs_answered,
    "chats_per_agent": ref_chats_per_agent,
}


# ---------------------------------------------------------------------------------------------
# Tests


def test_every_query_has_a_reference():
    assert sorted(p.stem for p in ANALYTICS.glob("*.sql")) == sorted(REFERENCES)


def test_the_sync_holds_every_generated_chat_once(db, expected):
    cache, setup = db
    rows = run_sql(cache, setup, "SELECT COUNT(*), COUNT(DISTINCT id) FROM chats")
    assert rows == [(len(expected["chats"]), len(expected["chats"]))]


def test_the_data_exercises_every_kpi(expected):
    """Guards against a vacuous pass: every category the queries distinguish is present."""
    chats = kept(expected)
    assert {c["type"] for c in chats} == {"chat", "offline_msg"}
    assert any(truthy(c.get("missed")) for c in live(expected))
    assert any(truthy(c.get("unread")) for c in chats if c["type"] == "offline_msg")
    assert {c.get("rating") for c in live(expected)} >= {"good", "bad", None}
    assert len(kept(expected)) < len(expected["chats"]), "some chats are deleted"
    assert len(ref_first_response_time_by_month(expected)) >= 2


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_kpi_matches_the_generated_data(db, expected, name):
    assert_rows(kpi(db, name), REFERENCES[name](expected))


def test_kpis_ignore_rows_repeated_by_append_syncs(duckdb_cache):
    """An append-mode destination holds an updated chat (and its child rows) once per sync: the
    queries keep the latest row per primary key, so doubled tables give the same answers."""
    setup = ["SET TimeZone = 'UTC'", "CREATE SCHEMA IF NOT EXISTS doubled"]
    for table in ("chats", "chat_history", "chat_engagements", "agents"):
        setup.append(f"CREATE OR REPLACE TABLE doubled.{table} AS "
                     f"SELECT * FROM main.{table} UNION ALL SELECT * FROM main.{table}")
    run_sql(duckdb_cache, setup, "SELECT 1")
    for name in sorted(REFERENCES):
        sql = (ANALYTICS / f"{name}.sql").read_text()
        plain = run_sql(duckdb_cache, ["SET TimeZone = 'UTC'"], sql)
        doubled = run_sql(duckdb_cache, ["SET TimeZone = 'UTC'", "SET search_path = 'doubled'"], sql)
        # Counts equal exactly; averages within 1e-9 (summation order may differ).
        assert_rows(doubled, plain)
    assert run_sql(duckdb_cache, [], "SELECT COUNT(*) FROM doubled.chats") == \
        run_sql(duckdb_cache, [], "SELECT 2 * COUNT(*) FROM main.chats")
