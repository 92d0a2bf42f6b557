"""Turns the dbt marts into one self-contained HTML report: headline KPIs and six charts, drawn
as inline SVG (Vega-Lite specs rendered by vl-convert), no script or font fetched from anywhere.

Usage:
  python dbt/report/build_report.py --duckdb kpis.duckdb --out report.html
  python dbt/report/build_report.py --postgres "host=127.0.0.1 port=5432 dbname=warehouse user=me" \\
      --out report.html
  --schema: where dbt built the marts (default zendesk_chat_kpis). Needs duckdb / psycopg2 and
  vl-convert-python (dbt/requirements.txt pins them).

Every figure comes from the marts as dbt computed them; the report only lays them out (the one
exception is the duration histogram, which bins zendesk_chat__chats.duration_s for display). A
small inline script marks each chart with the number of marks the browser drew
(`data-drawn-marks`), which the tests read back from headless Chromium.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
from pathlib import Path

import vl_convert as vlc

SCHEMA_URL = "https://vega.github.io/schema/vega-lite/v5.json"  # an identifier; never fetched
WIDTH = 760


def fetch(args, sql: str) -> list[dict]:
    sql = sql.replace("{s}", args.schema)
    if args.duckdb:
        import duckdb
        con = duckdb.connect(str(args.duckdb), read_only=True)
        try:
            cur = con.execute(sql)
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r)) for r in cur.fetchall()]
        finally:
            con.close()
    import psycopg2
    con = psycopg2.connect(args.postgres)
    try:
        cur = con.cursor()
        cur.execute(sql)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
    finally:
        con.close()


def plain(rows: list[dict]) -> list[dict]:
    """JSON-ready values: dates as ISO text, decimals as floats."""
    out = []
    for r in rows:
        out.append({k: (v.isoformat() if isinstance(v, (dt.date, dt.datetime))
                        else float(v) if v is not None and not isinstance(v, (int, float, str, bool))
                        else v) for k, v in r.items()})
    return out


def spec(data: list[dict], body: dict, title: str) -> dict:
    return {"$schema": SCHEMA_URL, "title": title, "width": WIDTH, "height": 220,
            "data": {"values": plain(data)}, "config": {"font": "sans-serif"}, **body}


def charts(args) -> list[tuple[str, str, dict]]:
    daily = fetch(args, "SELECT started_date, chats, missed_rate FROM {s}.zendesk_chat__daily ORDER BY started_date")
    weekly = fetch(args, """SELECT started_week, median_first_response_s, p90_first_response_s,
        median_waiting_time_s, p90_waiting_time_s, satisfaction_rate, rated_chats
        FROM {s}.zendesk_chat__weekly ORDER BY started_week""")
    agents = fetch(args, """SELECT agent_name, chats_handled, median_first_response_s
        FROM {s}.zendesk_chat__agents WHERE chats_handled > 0 ORDER BY chats_handled DESC, agent_name""")
    durations = fetch(args, """SELECT status, duration_s FROM {s}.zendesk_chat__chats
        WHERE duration_s IS NOT NULL AND status IN ('answered', 'missed')""")
    times = [{"week": w["started_week"], "measure": m, "seconds": w[col]}
             for w in weekly for m, col in [
                 ("first response, median", "median_first_response_s"),
                 ("first response, p90", "p90_first_response_s"),
                 ("waiting time, median", "median_waiting_time_s"),
                 ("waiting time, p90", "p90_waiting_time_s")] if w[col] is not None]
    x_day = {"field": "started_date", "type": "temporal", "title": None}
    return [
        ("daily-volume", "Chats per day and missed rate", spec(daily, {
            "layer": [
                {"mark": {"type": "bar", "color": "#8fb3d9"},
                 "encoding": {"x": x_day, "y": {"field": "chats", "type": "quantitative", "title": "chats"}}},
                {"mark": {"type": "point", "color": "#c0392b", "filled": True, "size": 14},
                 "encoding": {"x": x_day, "y": {"field": "missed_rate", "type": "quantitative",
                              "title": "missed rate", "axis": {"format": ".0%"}}}},
            ], "resolve": {"scale": {"y": "independent"}}}, "Chats per day (bars) and missed rate (dots)")),
        ("weekly-times", "Weekly response and waiting times", spec(times, {
            "mark": {"type": "line", "point": True},
            "encoding": {"x": {"field": "week", "type": "temporal", "title": "week (Monday)"},
                         "y": {"field": "seconds", "type": "quantitative", "title": "seconds"},
                         "color": {"field": "measure", "type": "nominal", "title": None,
                                   "legend": {"orient": "top"}}}},
            "First response and waiting time per week: median and 90th percentile")),
        ("weekly-satisfaction", "Weekly satisfaction", spec([w for w in weekly if w["rated_chats"]], {
            "mark": {"type": "line", "point": True, "color": "#27ae60"},
            "encoding": {"x": {"field": "started_week", "type": "temporal", "title": "week (Monday)"},
                         "y": {"field": "satisfaction_rate", "type": "quantitative",
                               "title": "good / rated", "axis": {"format": ".0%"},
                               "scale": {"domain": [0, 1]}}}},
            "Satisfaction per week: good ratings / rated chats")),
        ("agent-chats", "Chats per agent", spec(agents, {
            "mark": {"type": "bar", "color": "#5d8aa8"}, "height": {"step": 14},
            "encoding": {"y": {"field": "agent_name", "type": "nominal", "sort": "-x", "title": None},
                         "x": {"field": "chats_handled", "type": "quantitative", "title": "chats handled"}}},
            "Chats handled per agent")),
        ("agent-response", "Median first response per agent", spec(agents, {
            "mark": {"type": "bar", "color": "#e67e22"}, "height": {"step": 14},
            "encoding": {"y": {"field": "agent_name", "type": "nominal", "title": None,
                               "sort": {"field": "chats_handled", "order": "descending"}},
                         "x": {"field": "median_first_response_s", "type": "quantitative",
                               "title": "median first response (s)"}}},
            "Median first response per agent (the agent's own answer)")),
        ("durations", "Distribution of chat durations", spec(durations, {
            "mark": {"type": "bar"},
            "encoding": {"x": {"field": "duration_s", "type": "quantitative", "bin": {"maxbins": 40},
                               "title": "duration (s)"},
                         "y": {"aggregate": "count", "type": "quantitative", "title": "chats"},
                         "color": {"field": "status", "type": "nominal", "title": None,
                                   "legend": {"orient": "top"}}}},
            "Duration of answered and missed chats")),
    ]


def fmt(v, kind: str) -> str:
    if v is None:
        return "–"
    if kind == "pct":
        return f"{100 * v:.2f} %"
    if kind == "s":
        return f"{v:,.1f} s"
    return f"{int(v):,}"


HEADLINES = [("chats", "chats (not deleted)", "n"), ("answered_chats", "answered", "n"),
             ("missed_chats", "missed", "n"), ("missed_rate", "missed rate", "pct"),
             ("offline_messages", "offline messages", "n"), ("open_chats", "open", "n"),
             ("avg_first_response_s", "first response, average", "s"),
             ("median_first_response_s", "first response, median", "s"),
             ("avg_waiting_time_s", "waiting time, average", "s"),
             ("avg_answered_duration_s", "answered chat duration, average", "s"),
             ("satisfaction_rate", "satisfaction (good / rated)", "pct")]

DRAW_CHECK = """
window.addEventListener('load', function () {
  document.querySelectorAll('figure.chart').forEach(function (fig) {
    var n = 0;
    fig.querySelectorAll('g.role-mark > *').forEach(function (el) {
      var b = el.getBBox ? el.getBBox() : null;
      if (b && (b.width > 0 || b.height > 0)) { n += 1; }
    });
    fig.setAttribute('data-drawn-marks', String(n));
  });
  document.body.setAttribute('data-checked', 'yes');
});
"""


def build(args) -> str:
    [overall] = fetch(args, "SELECT * FROM {s}.zendesk_chat__overall")
    cards = "".join(f"<div class='kpi'><b>{fmt(overall[k], kind)}</b><span>{html.escape(label)}</span></div>"
                    for k, label, kind in HEADLINES)
    figures = []
    for cid, title, chart in charts(args):
        svg = vlc.vegalite_to_svg(chart)
        figures.append(f"<figure class='chart' id='chart-{cid}' data-rows='{len(chart['data']['values'])}'>"
                       f"<figcaption>{html.escape(title)}</figcaption>{svg}</figure>")
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Zendesk Chat KPIs</title>
<style>
body {{ font-family: sans-serif; margin: 24px auto; max-width: 900px; color: #222; }}
h1 {{ font-size: 22px; margin-bottom: 4px; }}
.note {{ color: #666; font-size: 13px; }}
.kpis {{ display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; margin: 18px 0; }}
.kpi {{ border: 1px solid #ddd; border-radius: 6px; padding: 8px 10px; }}
.kpi b {{ display: block; font-size: 20px; }}
.kpi span {{ color: #555; font-size: 12px; }}
figure.chart {{ margin: 24px 0; }}
figcaption {{ font-weight: bold; margin-bottom: 6px; }}
</style></head>
<body>
<h1>Zendesk Chat KPIs</h1>
<p class="note">From the dbt marts in schema <code>{html.escape(args.schema)}</code>; generated {generated}.
Definitions: dbt/models/marts/_marts.yml. Deleted chats are left out.</p>
<div class="kpis">{cards}</div>
{''.join(figures)}
<script>{DRAW_CHECK}</script>
</body></html>
"""


def main() -> None:
    ap = argparse.ArgumentParser(description="Zendesk Chat KPI report from the dbt marts")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--duckdb", type=Path, help="the DuckDB file dbt built the marts in")
    src.add_argument("--postgres", help="a libpq connection string")
    ap.add_argument("--schema", default="zendesk_chat_kpis")
    ap.add_argument("--out", type=Path, default=Path("report.html"))
    args = ap.parse_args()
    args.out.write_text(build(args), encoding="utf-8")
    print(f"report: {args.out.resolve()}")


if __name__ == "__main__":
    main()
