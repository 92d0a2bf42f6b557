"""The HTML report (dbt/report/build_report.py) from the marts dbt built on DuckDB, opened in
headless Chromium (dbt/report/render_check.py): every chart drew its marks, and the file needs
nothing from outside itself."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import ROOT, SESSION_TMP

REPORT = ROOT / "dbt" / "report"


def dbt_python() -> str:
    return os.environ.get("DBT_PYTHON") or str(ROOT / ".venv-dbt" / "bin" / "python")


def run(*args: str) -> str:
    proc = subprocess.run([dbt_python(), *args], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"{args[0]} failed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return proc.stdout


def test_the_report_renders_every_chart_in_chromium(dbt_duckdb):
    marts = dbt_duckdb[0]
    out = SESSION_TMP / "report.html"
    run(str(REPORT / "build_report.py"), "--duckdb", str(SESSION_TMP / "kpis.duckdb"),
        "--out", str(out))
    html = out.read_text()
    assert "<script src" not in html and "<link" not in html
    printed = run(str(REPORT / "render_check.py"), str(out))
    drawn = {}
    for line in printed.splitlines():
        cid, marks, *_rest = line.split()
        drawn[cid] = int(marks)
    [(days, rates)] = marts.rows("SELECT COUNT(*), COUNT(missed_rate) FROM {s}.zendesk_chat__daily")
    [(weeks, times, rated)] = marts.rows(
        "SELECT COUNT(*), COUNT(median_first_response_s) + COUNT(p90_first_response_s)"
        " + COUNT(median_waiting_time_s) + COUNT(p90_waiting_time_s), COUNT(satisfaction_rate)"
        " FROM {s}.zendesk_chat__weekly")
    [(agents,)] = marts.rows("SELECT COUNT(*) FROM {s}.zendesk_chat__agents WHERE chats_handled > 0")
    assert drawn["daily-volume"] == days + rates, drawn    # a bar per day, a dot per rate
    assert drawn["weekly-times"] == times + 4, drawn       # a point per value, four lines
    assert drawn["weekly-satisfaction"] == rated + 1, drawn
    assert weeks >= 8
    assert drawn["agent-chats"] == agents and drawn["agent-response"] == agents, drawn
    assert drawn["durations"] >= 10, drawn                 # histogram bins
    assert Path(out).stat().st_size < 2_000_000
