"""Opens the report in headless Chromium, offline, and checks that every chart drew its marks.

Usage: python dbt/report/render_check.py report.html [--screenshot report.png] [--chromium PATH]
Prints one line per chart (marks the browser drew with a non-empty box, data rows) and exits 1
when a chart drew nothing, the page's check did not run, or the file references anything outside
itself. Chromium runs with a fresh profile and no background networking.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--disable-extensions", "--virtual-time-budget=10000"]
FIGURE = re.compile(r'<figure class="chart" id="chart-([^"]+)" data-rows="(\d+)" data-drawn-marks="(\d+)"')
EXTERNAL = re.compile(r'(?:src|href)\s*=\s*["\']?(?:https?:)?//|@import|url\(\s*["\']?https?:', re.I)


def chromium(path: str | None) -> str:
    found = path or os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        sys.exit("chromium not found (apt-get install chromium, or set CHROMIUM)")
    return found


def run(browser: str, *args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile:
        proc = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", *args],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        sys.exit(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def check(report: Path, browser: str) -> dict[str, tuple[int, int]]:
    """chart id -> (marks drawn, data rows)."""
    text = report.read_text(encoding="utf-8")
    if EXTERNAL.search(text):
        raise SystemExit(f"{report} references an outside resource: {EXTERNAL.search(text).group(0)}")
    dom = run(browser, "--dump-dom", report.resolve().as_uri())
    if 'data-checked="yes"' not in dom:
        raise SystemExit("the page's drawing check did not run")
    return {cid: (int(drawn), int(rows)) for cid, rows, drawn in FIGURE.findall(dom)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path)
    ap.add_argument("--screenshot", type=Path)
    ap.add_argument("--chromium")
    args = ap.parse_args()
    browser = chromium(args.chromium)
    charts = check(args.report, browser)
    for cid, (drawn, rows) in charts.items():
        print(f"{cid:<22} {drawn:>6} marks drawn  {rows:>6} data rows")
    if args.screenshot:
        run(browser, "--window-size=1000,2700", f"--screenshot={args.screenshot.resolve()}",
            args.report.resolve().as_uri())
        print(f"screenshot: {args.screenshot}")
    if not charts or any(drawn == 0 for drawn, _ in charts.values()):
        sys.exit("a chart drew nothing")


if __name__ == "__main__":
    main()
