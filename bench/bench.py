#!/usr/bin/env python3
"""Benchmark driver (stdlib only). Started by bench/run.sh, which builds the binaries, creates the
TLS material, installs the peer connector and maps bench.zendesk.com to 127.0.0.1.

Scenarios: `spec` latency, chats full sync (ours vs the certified Python connector), memory
flatness (ours, small vs large data set) and the parallel backfill against 1 s per-request latency.
Results: a Markdown report on stdout and in bench/out/results.md, raw data in bench/out/results.json.
"""

import fcntl
import json
import os
import platform
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


def env_flag(name):
    return os.environ.get(name, "") not in ("", "0", "false", "no")


OUT = Path(os.environ["BENCH_OUT"])
HOST = os.environ["BENCH_HOST"]
RUST_BIN = os.environ["BENCH_RUST_BIN"]
SANDBOX_BIN = os.environ["BENCH_SANDBOX_BIN"]
PEER_BIN = os.environ["BENCH_PEER_BIN"]
CA, CERT, KEY = os.environ["BENCH_CA"], os.environ["BENCH_CERT"], os.environ["BENCH_KEY"]

CHATS = env_int("CHATS", 100_000)
REPEAT = max(1, env_int("REPEAT", 3))
MEM_SMALL = env_int("MEM_SMALL", 10_000)
MEM_LARGE = env_int("MEM_LARGE", 1_000_000)
BACKFILL_CHATS = env_int("BACKFILL_CHATS", 250_000)
BACKFILL_LATENCY_MS = env_int("BACKFILL_LATENCY_MS", 1000)
BACKFILL_TIMEOUT = env_int("BACKFILL_TIMEOUT", 900)
RUN_TIMEOUT = env_int("RUN_TIMEOUT", 1800)
SPEC_RUNS = env_int("SPEC_RUNS", 50)
PEER_SPEC_RUNS = env_int("PEER_SPEC_RUNS", 10)
SKIP_MEMORY = env_flag("SKIP_MEMORY")
SKIP_BACKFILL = env_flag("SKIP_BACKFILL")
SKIP_PEER = env_flag("SKIP_PEER")
SKIP_FULL = env_flag("SKIP_FULL")
SKIP_LAYOUTS = env_flag("SKIP_LAYOUTS")
# Data layouts of the latency-bound backfill (sandbox --layout), plus `resume`: the even layout
# read incrementally from a saved state in the middle of the range (a large backlog).
LAYOUTS = [x for x in os.environ.get("LAYOUTS", "even,last5,first5,bursts,resume").split(",") if x]
LAYOUT_CHATS = env_int("LAYOUT_CHATS", 60_000)
LAYOUT_RPM_LIMIT = env_int("LAYOUT_RPM_LIMIT", 200)
RESUME_FROM = "2024-07-01T00:00:00Z"
# Every time-ordered export at 1 s latency under the server limit (exports()).
SKIP_EXPORTS = env_flag("SKIP_EXPORTS")
EXPORT_RUNS = [x for x in os.environ.get("EXPORT_RUNS", "agent_timeline,conversions,full").split(",") if x]
EXPORTS_TIMELINE = env_int("EXPORTS_TIMELINE", 60_000)  # agent_timeline items (alone and full sync)
# Conversions come from the chats (about 1 per 4.4 chats): 264,000 chats give about 60,000.
EXPORTS_CONVERSION_CHATS = env_int("EXPORTS_CONVERSION_CHATS", 264_000)
EXPORTS_FULL_CHATS = env_int("EXPORTS_FULL_CHATS", 60_000)  # chats of the full sync
EXPORTS_RPM_LIMIT = env_int("EXPORTS_RPM_LIMIT", LAYOUT_RPM_LIMIT)
FULL_STREAMS = ["chats", "agent_timeline", "conversions", "department_events"]
PEER_STREAMS = ["chats", "agent_timeline"]  # the exports the peer has
TARGET_FRACTION = 0.90  # of 200 pages of 1,000 items a minute
RSS_TARGET = 8  # the full sync's peak RSS at most 1/8 of the peer's

BUDGET_RPM = 200  # Zendesk Chat API budget, requests per minute
PAGE = 1000  # chats per incremental page
TOKEN = "sandbox-token-0001"
CLK_TCK = os.sysconf("SC_CLK_TCK")

BASE_CONFIG = {
    "subdomain": "bench",
    "start_date": "2024-01-01T00:00:00Z",
    "credentials": {"credentials": "access_token", "access_token": TOKEN},
}

NO_PROXY = f"{HOST},127.0.0.1,localhost"
RUST_ENV = dict(os.environ, SSL_CERT_FILE=CA, NO_PROXY=NO_PROXY, no_proxy=NO_PROXY)
PEER_ENV = dict(
    os.environ,
    SSL_CERT_FILE=CA,
    REQUESTS_CA_BUNDLE=CA,
    NO_PROXY=NO_PROXY,
    no_proxy=NO_PROXY,
)
for _env in (RUST_ENV, PEER_ENV):
    for _k in ("RUST_LOG", "PYTHONDONTWRITEBYTECODE", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        _env.pop(_k, None)


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------
# Sandbox (fake Zendesk Chat API) served over TLS on 127.0.0.1:443
# ------------------------------------------------------------------------------------------


class Sandbox:
    def __init__(self, chats, latency_ms=0, lifetime=3600, extra=()):
        self.chats = chats
        self.errf = open(OUT / "sandbox.log", "ab")
        args = [
            SANDBOX_BIN,
            "--bind", "127.0.0.1",
            "--port", "443",
            "--chats", str(chats),
            "--latency-ms", str(latency_ms),
            "--tls-cert", CERT,
            "--tls-key", KEY,
            "--max-lifetime-secs", str(lifetime),
            *extra,
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.errf)
        line = _readline_with_timeout(self.proc.stdout, 120)
        if not line.startswith("listening on https://"):
            self.stop()
            raise RuntimeError(f"sandbox did not start (got {line!r}); see {OUT / 'sandbox.log'}")
        self.ctx = ssl.create_default_context(cafile=CA)
        self.stats()  # TLS + name resolution sanity check

    def _open(self, path, data=None, headers=None, timeout=30):
        req = urllib.request.Request(f"https://{HOST}{path}", data=data, headers=headers or {})
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=self.ctx)
        )
        with opener.open(req, timeout=timeout) as r:
            return r.read()

    def stats(self, with_log=False):
        s = json.loads(self._open("/_sandbox/stats"))
        if not with_log:
            s.pop("log", None)
        return s

    def faults(self):
        return json.loads(self._open("/_sandbox/faults"))

    def set_faults(self, **changes):
        """Changes the sandbox's faults at run time (latency, rpm limit, ...)."""
        f = dict(self.faults(), **changes)
        return json.loads(self._open("/_sandbox/faults", data=json.dumps(f).encode(), headers={"Content-Type": "application/json"}))

    def api_get(self, path_and_query, timeout=120):
        """One authenticated API request (`/api/v2/chat/...`); the body."""
        return self._open(path_and_query, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=timeout)

    def cpu_seconds(self):
        """User + system CPU of the sandbox process so far."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / CLK_TCK
        except (OSError, IndexError, ValueError):
            return float("nan")

    def rss_mb(self):
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errf.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _readline_with_timeout(stream, timeout):
    result = []
    t = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    t.start()
    t.join(timeout)
    return result[0].decode(errors="replace").strip() if result else ""


# ------------------------------------------------------------------------------------------
# One timed `read`, stdout counted in-process (memchr-speed bytes.count, no line splitting)
# ------------------------------------------------------------------------------------------

RECORD_PATTERNS = (b'\n{"type":"RECORD"', b'\n{"type": "RECORD"')


F_SETPIPE_SZ, F_GETPIPE_SZ = 1031, 1032  # Linux fcntl commands


# A RECORD line's stream name (ours writes compact JSON, the Python CDK puts a space after ':' and
# ','; "stream" comes first in the record, after an optional "namespace").
RECORD_STREAM = re.compile(rb'\n\{"type": ?"RECORD", ?"record": ?\{(?:"namespace": ?(?:null|"[^"]*"), ?)?"stream": ?"([^"]*)"')


def count_stream(fd, counts, per_stream=False):
    """Counts bytes and RECORD lines. A 1 MiB pipe and no chunk copies keep the counter cheap:
    with the default 64 KiB pipe and per-chunk concatenation, the counter itself slowed our
    connector's 100,000-chat read from about 1.3 s to about 2.2 s. `per_stream` also counts the
    records of each stream (`counts["by_stream"]`); it copies each chunk once, so it is only used
    by the latency-bound runs, where the counter's CPU does not matter."""
    try:
        fcntl.fcntl(fd, F_SETPIPE_SZ, 1 << 20)
    except OSError:
        pass
    if per_stream:
        return _count_stream_per_stream(fd, counts)
    prev = b"\n"  # the first line has no preceding newline
    nbytes = 0
    records = 0
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        nbytes += len(chunk)
        for pat in RECORD_PATTERNS:
            k = len(pat) - 1
            # matches inside the chunk, plus the one that may straddle the previous chunk's end
            records += chunk.count(pat) + (prev[-k:] + chunk[:k]).count(pat)
        prev = chunk[-32:] if len(chunk) >= 32 else (prev + chunk)[-32:]
    counts["bytes"] = nbytes
    counts["records"] = records


def _count_stream_per_stream(fd, counts):
    carry = b"\n"  # the first line has no preceding newline
    nbytes = 0
    by_stream = {}
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        nbytes += len(chunk)
        data = carry + chunk
        cut = data.rfind(b"\n")  # complete lines end before the last newline; it starts the next
        for m in RECORD_STREAM.finditer(data, 0, max(cut, 0)):
            name = m.group(1).decode(errors="replace")
            by_stream[name] = by_stream.get(name, 0) + 1
        carry = data[cut:] if cut >= 0 else data
    for m in RECORD_STREAM.finditer(carry):
        name = m.group(1).decode(errors="replace")
        by_stream[name] = by_stream.get(name, 0) + 1
    counts["bytes"] = nbytes
    counts["records"] = sum(by_stream.values())
    counts["by_stream"] = by_stream


def parse_time_v(text):
    def grab(label, conv=float):
        m = re.search(re.escape(label) + r":\s*(\S+)", text)
        return conv(m.group(1)) if m else None

    killed = re.search(r"Command terminated by signal (\d+)", text)
    return {
        "maxrss_kb": grab("Maximum resident set size (kbytes)", int),
        "user_s": grab("User time (seconds)"),
        "sys_s": grab("System time (seconds)"),
        "exit_status": grab("Exit status", int),
        "signal": int(killed.group(1)) if killed else None,
    }


class StatsPoller:
    """Samples the sandbox's request counters once a second while a run is in progress."""

    def __init__(self, sandbox, period=1.0):
        self.sandbox, self.period = sandbox, period
        self.samples = []  # (seconds since start, total requests, chats requests)
        self.stop_event = threading.Event()
        self.t0 = time.perf_counter()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                s = self.sandbox.stats()
                self.samples.append((time.perf_counter() - self.t0, s["requests"], s["by_resource"].get("chats", 0)))
            except OSError:
                pass
            if self.stop_event.wait(self.period):
                return

    def stop(self):
        self.stop_event.set()
        self.thread.join()
        return self.samples


def window_stats(samples, window=60.0):
    """From (t, total, chats) samples: most requests in any `window`-second span (sampling
    resolution), and the request rate between the first and the last request seen."""
    if len(samples) < 2:
        return {}
    base = samples[0][1]
    pts = [(t, n - base) for t, n, _ in samples]
    best = 0
    j = 0
    for i in range(len(pts)):
        while pts[i][0] - pts[j][0] > window:
            j += 1
        best = max(best, pts[i][1] - pts[j][1])  # requests in (t_j, t_i], a span of at most `window`
    first = next((t for t, n in pts if n > 0), None)
    last_n = pts[-1][1]
    last = next((t for t, n in pts if n == last_n), None)
    active = (last - first) if first is not None and last is not None else None
    return {
        "max_requests_in_any_60s": best,
        "active_span_s": active,
        "requests_per_min_active": (last_n - pts[[t for t, _ in pts].index(first)][1]) / active * 60 if active else None,
        "samples": len(samples),
    }


def timed_read(name, argv, env, sandbox, timeout, tag, poll=False, per_stream=False, census=False):
    """One `read`, timed. `per_stream`: count the records of each stream; `census`: afterwards
    replay the run's export requests without latency to see what each page held (see
    `page_census`)."""
    timef = OUT / f"time-{tag}.txt"
    errf = OUT / f"stderr-{tag}.log"
    before = sandbox.stats(with_log=census)
    log_before = before.pop("log", None)
    sb_cpu0 = sandbox.cpu_seconds()
    my_cpu0 = time.process_time()
    load0 = os.getloadavg()[0]
    poller = StatsPoller(sandbox) if poll else None
    t0 = time.perf_counter()
    with open(errf, "wb") as err:
        proc = subprocess.Popen(
            ["/usr/bin/time", "-v", "-o", str(timef)] + argv,
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
            start_new_session=True,
        )
        timed_out = threading.Event()

        def on_timeout():
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, on_timeout)
        timer.start()
        counts = {}
        try:
            count_stream(proc.stdout.fileno(), counts, per_stream)
            proc.wait()
        finally:
            timer.cancel()
            proc.stdout.close()
    wall = time.perf_counter() - t0
    samples = poller.stop() if poller else None
    my_cpu = time.process_time() - my_cpu0
    sb_cpu = sandbox.cpu_seconds() - sb_cpu0
    after = sandbox.stats(with_log=census)
    log_after = after.pop("log", None)
    tv = parse_time_v(timef.read_text() if timef.exists() else "")
    by_res = {
        k: v - before["by_resource"].get(k, 0)
        for k, v in after["by_resource"].items()
        if v - before["by_resource"].get(k, 0)
    }
    res = {
        "connector": name,
        "tag": tag,
        "wall_s": wall,
        "records": counts.get("records", 0),
        "stdout_bytes": counts.get("bytes", 0),
        "records_per_s": counts.get("records", 0) / wall if wall > 0 else 0.0,
        "peak_rss_mb": (tv["maxrss_kb"] or 0) / 1024,
        "cpu_user_s": tv["user_s"],
        "cpu_sys_s": tv["sys_s"],
        "exit_status": tv["exit_status"],
        "signal": tv["signal"],
        "timed_out": timed_out.is_set(),
        "requests": after["requests"] - before["requests"],
        "requests_by_resource": by_res,
        "responses_429": after["responses_429"] - before["responses_429"],
        "sandbox_cpu_s": sb_cpu,
        "counter_cpu_s": my_cpu,
        "sandbox_max_in_flight": after.get("max_in_flight"),
        "stderr_log": str(errf),
        "loadavg_1m_before": load0,
    }
    if samples is not None:
        res["request_samples"] = samples
        res.update(window_stats(samples))
    if "by_stream" in counts:
        res["records_by_stream"] = counts["by_stream"]
    if census:
        res["request_log"] = new_log_lines(log_before, log_after, res["requests"])
        res["census"] = page_census(sandbox, res["request_log"], counts.get("by_stream", {}))
    ok = res["exit_status"] == 0 and not res["timed_out"]
    res["ok"] = ok
    log(
        f"  {name:<6} {tag:<22} {wall:7.2f} s  {res['records']:>8} rec  "
        f"{res['records_per_s']:>9.0f} rec/s  {res['peak_rss_mb']:6.1f} MB  "
        f"{res['requests']:>5} req  cpu {(tv['user_s'] or 0) + (tv['sys_s'] or 0):.2f} s  "
        f"sandbox cpu {sb_cpu:.2f} s" + ("" if ok else f"  FAILED (exit {res['exit_status']}, signal {res['signal']}, timeout {res['timed_out']}; see {errf})")
    )
    return res


SANDBOX_LOG_CAP = 10_000  # the sandbox keeps the last 10,000 request lines
EXPORT_LINE = re.compile(r"^GET (/api/v2/chat/incremental/(\w+)\?(\S*)) -> (\d+)$")


def new_log_lines(before, after, api_requests):
    """The sandbox log lines of one run: those after the `before` snapshot (the log is capped)."""
    before, after = before or [], after or []
    if len(after) < SANDBOX_LOG_CAP:
        return after[len(before):]
    return after[-api_requests:] if api_requests else []  # capped: the last N (token calls aside)


def _query_key(query):
    """A request's position in an export, independent of parameter order and encoding."""
    return tuple(sorted(urllib.parse.parse_qsl(query, keep_blank_values=True)))


def page_census(sb, lines, by_stream):
    """Replays the export requests of a run (the sandbox's log) on the same sandbox with its
    latency and rate limit switched off, and classifies each page by what it held: full (as many
    items as `limit`), partial, empty. A request whose position is no page's `next_page` is a
    slice start: the first page, a probe or a split. Items fetched beyond the records emitted were
    fetched twice (overlapping slices). Where two pages share items, the one that holds the
    fewer items of its own is a boundary page: it was needed for those few items, and when at
    least half of a page was also in another page, it was mostly a second read of the neighbour's
    data (`boundary_pages_mostly_twice`: about one request each). Pure data: the sandbox's
    answers depend only on the query."""
    saved = sb.faults()
    sb.set_faults(latency_ms=0, rpm_limit=None)
    per, replies, holders = {}, [], {}
    try:
        for line in lines:
            m = EXPORT_LINE.match(line)
            if not m:
                continue
            path, res, query, code = m.groups()
            d = per.setdefault(res, {"requests": 0, "not_200": 0, "full": 0, "partial": 0, "empty": 0,
                                     "items_fetched": 0, "slice_starts": 0, "boundary_pages_mostly_twice": 0})
            d["requests"] += 1
            if code != "200":
                d["not_200"] += 1
                continue
            body = sb.api_get(path)
            i = body.rfind(b'"count":')
            count = int(re.match(rb"\d+", body[i + 8:]).group(0)) if i >= 0 else 0
            limit = int(dict(urllib.parse.parse_qsl(query)).get("limit", PAGE))
            d["items_fetched"] += count
            d["full" if count >= limit else "partial" if count else "empty"] += 1
            j = body.rfind(b'"next_page":"')
            nxt = None
            if j >= 0:
                url = body[j + 13:body.index(b'"', j + 13)].decode()
                nxt = _query_key(urllib.parse.urlsplit(url).query)
            replies.append((res, _query_key(query), nxt))
            for item in json.loads(body).get(res) or []:
                # agent_timeline items have no id: an agent and a start time name them
                key = (item.get("agent_id"), item.get("start_time")) if res == "agent_timeline" else item.get("id")
                holders.setdefault((res, json.dumps(key)), []).append(len(replies) - 1)
    finally:
        sb.set_faults(**saved)
    continued = {(res, nxt) for res, _, nxt in replies if nxt is not None}
    for res, key, _ in replies:
        if (res, key) not in continued:
            per[res]["slice_starts"] += 1
    shared = {}
    for (res, _), pages in holders.items():
        if len(pages) > 1:
            pair = tuple(pages[:2])
            shared[(res, pair)] = shared.get((res, pair), 0) + 1
    for (res, _), n in shared.items():
        if n >= PAGE // 2:
            per[res]["boundary_pages_mostly_twice"] += 1
    for res, d in per.items():
        records = by_stream.get(res)
        d["records"] = records
        d["useful_pages"] = -(-records // PAGE) if records is not None else None
        d["fetched_twice"] = d["items_fetched"] - records if records is not None else None
    return per


def census_totals(c):
    keys = ("requests", "not_200", "full", "partial", "empty", "items_fetched", "slice_starts", "fetched_twice", "boundary_pages_mostly_twice")
    return {k: sum((d.get(k) or 0) for d in c.values()) for k in keys} if c else {}


# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------


def write_json(path, obj):
    path.write_text(json.dumps(obj, indent=2) + "\n")
    return str(path)


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def build_catalog():
    """Configured catalog for `chats` (full_refresh), built from the peer's discover (or ours)."""
    source = "peer"
    if SKIP_PEER:
        argv, env, source = [RUST_BIN, "discover", "--config", str(OUT / "config-rust.json")], RUST_ENV, "ours"
    else:
        argv, env = [PEER_BIN, "discover", "--config", str(OUT / "config-peer.json")], PEER_ENV
    out = subprocess.run(argv, env=env, capture_output=True, timeout=300).stdout.decode(errors="replace")
    for line in out.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("type") == "CATALOG":
            for s in msg["catalog"]["streams"]:
                if s["name"] == "chats":
                    assert "full_refresh" in s["supported_sync_modes"]
                    cat = {"streams": [{"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}
                    log(f"configured catalog for chats (full_refresh) built from the {source} discover")
                    return write_json(OUT / "catalog-chats.json", cat)
    raise RuntimeError(f"no chats stream in the {source} discover output:\n{out[-2000:]}")


def check_connects(argv, env, who):
    out = subprocess.run(argv, env=env, capture_output=True, timeout=300)
    text = out.stdout.decode(errors="replace")
    if '"status":"SUCCEEDED"' not in text.replace(" ", ""):
        raise RuntimeError(f"{who} check against https://{HOST} failed:\n{text[-2000:]}\n{out.stderr.decode(errors='replace')[-2000:]}")
    log(f"{who}: check SUCCEEDED over TLS against https://{HOST}")


def spec_timing(name, binary, env, runs, warmup):
    """Median wall time of `spec` (hyperfine if installed, else a timed loop) and its peak RSS."""
    res = {"connector": name, "runs": runs}
    hf = shutil.which("hyperfine")
    if hf:
        jf = OUT / f"hyperfine-spec-{name}.json"
        subprocess.run(
            [hf, "-N", "--style", "none", "--warmup", str(warmup), "--runs", str(runs), "--export-json", str(jf), f"{binary} spec"],
            env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        r = json.loads(jf.read_text())["results"][0]
        times = r["times"]
        res["tool"] = "hyperfine -N"
    else:
        for _ in range(warmup):
            subprocess.run([binary, "spec"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run([binary, "spec"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - t0)
        res["tool"] = "python loop (subprocess.run)"
    res.update({f"{k}_ms": v * 1000 if v is not None else None for k, v in summary(times).items() if k != "n"})
    tf = OUT / f"time-spec-{name}.txt"
    subprocess.run(["/usr/bin/time", "-v", "-o", str(tf), binary, "spec"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res["peak_rss_mb"] = (parse_time_v(tf.read_text())["maxrss_kb"] or 0) / 1024
    log(f"  spec {name:<6} median {res['median_ms']:.1f} ms (min {res['min_ms']:.1f}, max {res['max_ms']:.1f}; {runs} runs, {res['tool']}); peak RSS {res['peak_rss_mb']:.1f} MB")
    return res


def read_argv(binary, config, catalog):
    return [binary, "read", "--config", config, "--catalog", catalog]


def environment():
    def cmd(args):
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=30).stdout.strip()
        except Exception:  # noqa: BLE001 - best effort
            return ""

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "loadavg_at_start": os.getloadavg(),
        "kernel": platform.release(),
        "rustc": cmd(["rustc", "--version"]),
        "git_rev": cmd(["git", "-C", str(OUT.parent.parent), "rev-parse", "--short", "HEAD"]),
        "git_dirty": bool(cmd(["git", "-C", str(OUT.parent.parent), "status", "--porcelain", "--untracked-files=no"])),
        "peer": "airbyte-source-zendesk-chat==1.1.1",
        "peer_python": cmd([str(Path(PEER_BIN).parent / "python"), "--version"]) if not SKIP_PEER else "",
    }


# ------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------


def fmt(v, spec=".2f"):
    return "n/a" if v is None else format(v, spec)


def mmm(s, spec=".2f"):
    if s["median"] is None:
        return "n/a"
    return f"{format(s['median'], spec)} ({format(s['min'], spec)}–{format(s['max'], spec)})"


def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def busy(s, cpus):
    """CPU seconds of connector + sandbox + counter over the machine's capacity (medians)."""
    try:
        total = s["cpu_s"]["median"] + s["sandbox_cpu_s"]["median"] + s["counter_cpu_s"]["median"]
        return f"{total / (s['wall_s']['median'] * cpus):.0%}"
    except (TypeError, ZeroDivisionError):
        return "n/a"


def render_header(R):
    """The first lines of a report that has only the latency-bound scenarios (SKIP_FULL=1)."""
    e = R["environment"]
    return (f"# source-zendesk-chat benchmark (latency-bound backfills)\n\n{e['date_utc']} · {e['cpus']} CPUs ({e['cpu_model']}) · "
            f"load average at start {', '.join(f'{x:.2f}' for x in e['loadavg_at_start'])} · {e['rustc']} · git {e['git_rev']}"
            f"{' (dirty tree)' if e['git_dirty'] else ''} · peer {e['peer']} on {e['peer_python'] or 'n/a'}\n\n")


def render(R):
    L = []
    e = R["environment"]
    L.append("# source-zendesk-chat benchmark")
    L.append("")
    L.append(
        f"{e['date_utc']} · {e['cpus']} CPUs ({e['cpu_model']}) · load average at start "
        f"{', '.join(f'{x:.2f}' for x in e['loadavg_at_start'])} · {e['rustc']} · git {e['git_rev']}"
        f"{' (dirty tree)' if e['git_dirty'] else ''} · peer {e['peer']} on {e['peer_python'] or 'n/a'}"
    )
    L.append("")
    L.append(
        "Both connectors read the `chats` stream (full_refresh) from the fake API served over TLS at "
        f"`https://{HOST}` (127.0.0.1:443); stdout goes to an in-process counter, stderr to a file. "
        "Medians with (min–max) over the runs. Requests come from the sandbox's `/_sandbox/stats`. "
        "The sandbox, the connector and the counter share the machine's CPUs; \"% of the machine\" is their CPU seconds "
        "over wall × CPUs (other load on the machine is not included)."
    )
    L.append("")

    if R.get("spec"):
        L.append("## `spec`")
        L.append("")
        L.append("| connector | median ms | min–max ms | runs | tool | peak RSS MB |")
        L.append("|---|---:|---:|---:|---|---:|")
        for s in R["spec"]:
            L.append(f"| {s['connector']} | {fmt(s['median_ms'], '.1f')} | {fmt(s['min_ms'], '.1f')}–{fmt(s['max_ms'], '.1f')} | {s['runs']} | {s['tool']} | {fmt(s['peak_rss_mb'], '.1f')} |")
        L.append("")

    fs = R.get("full_sync")
    if fs:
        L.append(f"## Chats full sync: {fs['chats']:,} chats, {fs['repeat']} runs each")
        L.append("")
        L.append("| connector | wall s | records/s | peak RSS MB | records | requests | connector CPU s (user+sys) | sandbox CPU s | counter CPU s | all three, % of the machine |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name in ("ours", "peer"):
            s = fs["summary"].get(name)
            if not s:
                continue
            L.append(
                f"| {name} | {mmm(s['wall_s'])} | {mmm(s['records_per_s'], ',.0f')} | {mmm(s['peak_rss_mb'], '.1f')} | "
                f"{mmm(s['records'], ',.0f')} | {mmm(s['requests'], '.0f')} | {mmm(s['cpu_s'])} | {mmm(s['sandbox_cpu_s'])} | {mmm(s['counter_cpu_s'])} | {busy(s, e['cpus'])} |"
            )
        L.append("")
        r = fs.get("ratios")
        if r:
            L.append("| ratio (medians) | value | target | verdict |")
            L.append("|---|---:|---:|---|")
            L.append(f"| records/s ours ÷ peer | {fmt(r['records_per_s'], '.1f')}x | ≥ 30x | {verdict(r['records_per_s'] >= 30)} |")
            L.append(f"| CPU seconds peer ÷ ours | {fmt(r.get('cpu'), '.1f')}x | ≥ 25x | {verdict((r.get('cpu') or 0) >= 25)} |")
            L.append(f"| peak RSS peer ÷ ours | {fmt(r['peak_rss'], '.1f')}x | ≥ 10x | {verdict(r['peak_rss'] >= 10)} |")
            L.append(f"| wall peer ÷ ours | {fmt(r['wall'], '.1f')}x | | |")
            L.append("")
        bad = [x for x in fs["runs"] if not x["ok"]]
        if bad:
            L.append(f"**{len(bad)} run(s) failed**: " + ", ".join(f"{x['connector']} {x['tag']} (see {x['stderr_log']})" for x in bad))
            L.append("")

    m = R.get("memory")
    if m:
        L.append(f"## Memory flatness (ours): {m['small']:,} vs {m['large']:,} chats")
        L.append("")
        L.append("| chats | peak RSS MB | wall s | records/s | records | requests | connector CPU s | sandbox CPU s | counter CPU s | all three, % of the machine |")
        L.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for key in ("small", "large"):
            s = m["summary"][key]
            L.append(f"| {m[key]:,} | {mmm(s['peak_rss_mb'], '.1f')} | {mmm(s['wall_s'])} | {mmm(s['records_per_s'], ',.0f')} | {mmm(s['records'], ',.0f')} | {mmm(s['requests'], '.0f')} | "
                     f"{mmm(s['cpu_s'])} | {mmm(s['sandbox_cpu_s'])} | {mmm(s['counter_cpu_s'])} | {busy(s, e['cpus'])} |")
        L.append("")
        L.append(f"Peak RSS large ÷ small (medians): **{fmt(m['ratio'], '.3f')}** (target ≤ 1.10: {verdict(m['ratio'] is not None and m['ratio'] <= 1.10)}). "
                 f"Config adds `requests_per_minute: 10000` so the {m['large']:,}-chat run is not paced by the 200/min budget (memory is what is measured here).")
        L.append("")

    b = R.get("backfill")
    if b:
        L.append(f"## Parallel backfill: {b['chats']:,} chats, {b['latency_ms']} ms latency per request")
        L.append("")
        L.append(f"Ceiling: {BUDGET_RPM} requests/min × {PAGE} chats/page = {BUDGET_RPM * PAGE:,} chats/min.")
        L.append("")
        L.append("| backfill_concurrency | wall s | records | chats requests | total requests | requests/min | of 200/min | chats/min | of 200,000/min | max requests in any 60 s | sandbox max in flight | 429s |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for x in b["runs"]:
            L.append(
                f"| {x['label']} | {x['wall_s']:.1f} | {x['records']:,} | {x['chats_requests']} | {x['requests']} | {x['requests_per_min']:.1f} | "
                f"{x['requests_per_min'] / BUDGET_RPM:.1%} | {x['chats_per_min']:,.0f} | {x['chats_fraction']:.1%} | {x.get('max_requests_in_any_60s', 'n/a')} | "
                f"{x['sandbox_max_in_flight']} | {x['responses_429']} |"
                + ("" if x["ok"] else " **FAILED**")
            )
        L.append("")
        L.append("requests/min = all API requests ÷ wall time of the whole `read` (process start to exit, so it includes startup and the "
                 "tail of the last slices); chats/min = records ÷ the same wall time. The budget is a sliding 60 s window, so a run "
                 "shorter than ~2 minutes gets a burst of up to 200 requests in its first minute and then the window's pace. "
                 "\"max requests in any 60 s\" comes from polling `/_sandbox/stats` once a second during the run.")
        L.append("")

    t = R.get("targets")
    if t:
        L.append("## Targets")
        L.append("")
        L.append("| target | measured | verdict |")
        L.append("|---|---|---|")
        for row in t:
            L.append(f"| {row[0]} | {row[1]} | {row[2]} |")
        L.append("")
    L.append(f"Raw data: `{OUT / 'results.json'}`; per-run stderr and `/usr/bin/time -v` output in `{OUT}`.")
    return "\n".join(L) + "\n"


# ------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------


def summarize_runs(runs):
    return {
        "wall_s": summary([r["wall_s"] for r in runs]),
        "records_per_s": summary([r["records_per_s"] for r in runs]),
        "peak_rss_mb": summary([r["peak_rss_mb"] for r in runs]),
        "records": summary([r["records"] for r in runs]),
        "requests": summary([r["requests"] for r in runs]),
        "cpu_s": summary([(r["cpu_user_s"] or 0) + (r["cpu_sys_s"] or 0) for r in runs]),
        "sandbox_cpu_s": summary([r["sandbox_cpu_s"] for r in runs]),
        "counter_cpu_s": summary([r["counter_cpu_s"] for r in runs]),
    }


def incremental_catalog(catalog):
    cat = json.loads(Path(catalog).read_text())
    for entry in cat["streams"]:
        entry.update(sync_mode="incremental", cursor_field=["update_timestamp"], destination_sync_mode="append")
    return write_json(OUT / "catalog-chats-incremental.json", cat)


def layout_run(layout, who, catalogs, configs, state):
    """One backfill of LAYOUT_CHATS chats laid out as `layout`, on a fresh sandbox."""
    resume = layout == "resume"
    extra = ["--layout", "even" if resume else layout, "--rpm-limit", str(LAYOUT_RPM_LIMIT)]
    binary, env = (RUST_BIN, RUST_ENV) if who == "ours" else (PEER_BIN, PEER_ENV)
    argv = read_argv(binary, configs[who], catalogs[resume]) + (["--state", state] if resume else [])
    with Sandbox(LAYOUT_CHATS, latency_ms=BACKFILL_LATENCY_MS, lifetime=BACKFILL_TIMEOUT + 600, extra=extra) as sb:
        r = timed_read(who, argv, env, sb, BACKFILL_TIMEOUT, f"layout-{layout}-{who}", poll=(who == "ours"),
                       per_stream=True, census=(who == "ours"))
    rate_fields(r)
    r["chats_per_min"] = r["records"] / r["wall_s"] * 60
    r["chats_fraction"] = r["chats_per_min"] / (BUDGET_RPM * PAGE)
    return r


def layouts(catalog, configs):
    """Latency-bound backfills per data layout, ours and the peer on the same data."""
    catalogs = {False: catalog, True: incremental_catalog(catalog)}
    state = write_json(OUT / "state-resume.json", [{"type": "STREAM", "stream": {
        "stream_descriptor": {"name": "chats"}, "stream_state": {"update_timestamp": RESUME_FROM}}}])
    res = {"chats": LAYOUT_CHATS, "latency_ms": BACKFILL_LATENCY_MS, "rpm_limit": LAYOUT_RPM_LIMIT, "runs": []}
    for layout in LAYOUTS:
        log(f"layout {layout}: {LAYOUT_CHATS:,} chats, {BACKFILL_LATENCY_MS} ms latency, server limit {LAYOUT_RPM_LIMIT}/min")
        row = {"layout": layout, "ours": layout_run(layout, "ours", catalogs, configs, state)}
        if not SKIP_PEER:
            row["peer"] = layout_run(layout, "peer", catalogs, configs, state)
            if row["peer"]["chats_per_min"]:
                row["speedup"] = row["ours"]["chats_per_min"] / row["peer"]["chats_per_min"]
        o = row["ours"]
        log(f"    ours: {o['requests_per_min']:.1f} requests/min ({o['requests_per_min'] / BUDGET_RPM:.1%}), "
            f"{o['chats_fraction']:.1%} of {BUDGET_RPM * PAGE:,} chats/min, {o['responses_429']} 429s; "
            f"speedup {row.get('speedup', float('nan')):.1f}x")
        res["runs"].append(row)
        write_json(OUT / "results-layouts.json", res)
    return res


def render_layouts(x):
    L = [f"## Backfill by data layout: {x['chats']:,} chats, {x['latency_ms']} ms latency, server limit {x['rpm_limit']}/min", "",
         "| layout | ours wall s | records | requests | useful pages | requests/min | of budget | chats of 200,000/min | 429s | peak RSS MB | CPU s | target | peer wall s | peer records | peer requests | peer peak RSS MB | peer CPU s | speedup |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in x["runs"]:
        o, p = r["ours"], r.get("peer") or {}
        o.setdefault("useful_pages", -(-o["records"] // PAGE))
        L.append(f"| {r['layout']} | {o['wall_s']:.1f} | {o['records']:,} | {o['requests']} | {o['useful_pages']} | {o['requests_per_min']:.1f} | "
                 f"{o['requests_per_min'] / BUDGET_RPM:.1%} | {o['chats_fraction']:.1%} | {o['responses_429']} | "
                 f"{o['peak_rss_mb']:.1f} | {(o['cpu_user_s'] or 0) + (o['cpu_sys_s'] or 0):.2f} | "
                 f"{'PASS' if o['ok'] and o['chats_fraction'] >= TARGET_FRACTION and o['responses_429'] == 0 else 'FAIL'} | "
                 f"{p.get('wall_s', float('nan')):.1f} | {p.get('records', 0):,} | {p.get('requests', 0)} | {p.get('peak_rss_mb', float('nan')):.1f} | "
                 f"{(p.get('cpu_user_s') or 0) + (p.get('cpu_sys_s') or 0):.2f} | {r.get('speedup', float('nan')):.1f}x |"
                 + ("" if o["ok"] else " **FAILED**"))
    L.append("")
    if any(r["ours"].get("census") for r in x["runs"]):
        L.extend(render_census([(r["layout"], r["ours"]) for r in x["runs"]]))
        L.append("")
    L.append(f"`resume`: the even layout read incrementally from `{{\"update_timestamp\": \"{RESUME_FROM}\"}}` (about half the chats). "
             "Layouts: even over 2024; last5/first5: all chats in the last/first 5% of the range; bursts: four 1% bursts with empty gaps.")
    return "\n".join(L) + "\n\n"


def catalog_for(who, streams):
    """Configured catalog with `streams` (full_refresh), from `who`'s discover (needs a sandbox)."""
    binary, env, cfg = (RUST_BIN, RUST_ENV, OUT / "config-rust.json") if who == "ours" else (PEER_BIN, PEER_ENV, OUT / "config-peer.json")
    out = subprocess.run([binary, "discover", "--config", str(cfg)], env=env, capture_output=True, timeout=300).stdout.decode(errors="replace")
    for line in out.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("type") == "CATALOG":
            found = {s["name"]: s for s in msg["catalog"]["streams"]}
            missing = [n for n in streams if n not in found]
            if missing:
                raise RuntimeError(f"{who} discover has no {missing}")
            cat = {"streams": [{"stream": found[n], "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for n in streams]}
            return write_json(OUT / f"catalog-{who}-{'+'.join(streams)}.json", cat)
    raise RuntimeError(f"no catalog in the {who} discover output:\n{out[-2000:]}")


def rate_fields(r):
    """The rates of one latency-bound run (records, requests ÷ the wall time of the whole read)."""
    by = r.get("records_by_stream") or {}
    r["useful_pages"] = sum(-(-n // PAGE) for n in by.values()) if by else -(-r["records"] // PAGE)
    r["requests_per_min"] = r["requests"] / r["wall_s"] * 60
    r["items_per_min"] = r["records"] / r["wall_s"] * 60
    r["items_fraction"] = r["items_per_min"] / (BUDGET_RPM * PAGE)
    r["cpu_s"] = (r["cpu_user_s"] or 0) + (r["cpu_sys_s"] or 0)
    r["meets_target"] = r["ok"] and r["items_fraction"] >= TARGET_FRACTION and r["responses_429"] == 0
    return r


def export_run(key, label, who, chats, timeline, streams):
    """One backfill of `streams` at BACKFILL_LATENCY_MS per request under EXPORTS_RPM_LIMIT, on a
    fresh sandbox (the server's 60 s window starts empty). The derived exports (conversions,
    department_events) are built on the sandbox's first request for them: that happens before the
    latency and the limit are switched on, so neither the build nor the warm-up request is timed
    or counted against the window."""
    with Sandbox(chats, latency_ms=0, lifetime=BACKFILL_TIMEOUT + 900, extra=["--agent-timeline", str(timeline)]) as sb:
        catalog = catalog_for(who, streams)
        if {"conversions", "department_events"} & set(streams):
            sb.api_get("/api/v2/chat/incremental/conversions?limit=1&start_time=0", timeout=600)
        sb.set_faults(latency_ms=BACKFILL_LATENCY_MS, rpm_limit=EXPORTS_RPM_LIMIT)
        binary, env, cfg = (RUST_BIN, RUST_ENV, OUT / "config-rust.json") if who == "ours" else (PEER_BIN, PEER_ENV, OUT / "config-peer.json")
        r = timed_read(who, read_argv(binary, str(cfg), catalog), env, sb, BACKFILL_TIMEOUT if who == "ours" else RUN_TIMEOUT,
                       f"export-{key}-{who}", poll=(who == "ours"), per_stream=True, census=(who == "ours"))
    r.update(key=key, label=label, streams=streams, chats=chats, timeline=timeline)
    rate_fields(r)
    log(f"    {label} ({who}): {r['items_per_min']:,.0f} items/min = {r['items_fraction']:.1%} of {BUDGET_RPM} pages/min, "
        f"{r['requests']} requests ({r['useful_pages']} useful pages), {r['responses_429']} 429s, peak RSS {r['peak_rss_mb']:.1f} MB")
    return r


def exports():
    """Every time-ordered export at 1 s latency under a 200/min server limit: agent_timeline
    alone, conversions alone, and a full sync of the four exports (ours), plus the full-sync data
    read by ours and by the peer with the streams the peer has (chats, agent_timeline)."""
    res = {"latency_ms": BACKFILL_LATENCY_MS, "rpm_limit": EXPORTS_RPM_LIMIT, "runs": []}
    plan = []
    if "agent_timeline" in EXPORT_RUNS:
        plan.append(("agent_timeline", "agent_timeline alone", "ours", 1000, EXPORTS_TIMELINE, ["agent_timeline"]))
    if "conversions" in EXPORT_RUNS:
        plan.append(("conversions", f"conversions alone ({EXPORTS_CONVERSION_CHATS:,} chats)", "ours", EXPORTS_CONVERSION_CHATS, 0, ["conversions"]))
    if "full" in EXPORT_RUNS:
        plan.append(("full", "full sync: 4 exports", "ours", EXPORTS_FULL_CHATS, EXPORTS_TIMELINE, FULL_STREAMS))
        plan.append(("full-peer-streams", "full sync: peer's streams", "ours", EXPORTS_FULL_CHATS, EXPORTS_TIMELINE, PEER_STREAMS))
        if not SKIP_PEER:
            plan.append(("full-peer-streams", "full sync: peer's streams", "peer", EXPORTS_FULL_CHATS, EXPORTS_TIMELINE, PEER_STREAMS))
    for key, label, who, chats, timeline, streams in plan:
        log(f"export {label} ({who}): {chats:,} chats, {timeline:,} timeline items, {BACKFILL_LATENCY_MS} ms latency, "
            f"server limit {EXPORTS_RPM_LIMIT}/min")
        res["runs"].append(export_run(key, label, who, chats, timeline, streams))
        write_json(OUT / "results-exports.json", res)
    runs = {(r["key"], r["connector"]): r for r in res["runs"]}
    peer, full, same = runs.get(("full-peer-streams", "peer")), runs.get(("full", "ours")), runs.get(("full-peer-streams", "ours"))
    if peer and peer["ok"]:
        res["peer"] = {}
        for name, o in (("full", full), ("same_streams", same)):
            if o and o["ok"]:
                res["peer"][name] = {
                    "peak_rss": peer["peak_rss_mb"] / o["peak_rss_mb"] if o["peak_rss_mb"] else None,
                    "wall": peer["wall_s"] / o["wall_s"],
                    "cpu": peer["cpu_s"] / o["cpu_s"] if o["cpu_s"] else None,
                    "items_per_min": o["items_per_min"] / peer["items_per_min"] if peer["items_per_min"] else None,
                }
    write_json(OUT / "results-exports.json", res)
    return res


def _records(r):
    by = r.get("records_by_stream") or {}
    return ", ".join(f"{k} {v:,}" for k, v in sorted(by.items(), key=lambda kv: FULL_STREAMS.index(kv[0]) if kv[0] in FULL_STREAMS else 99)) or f"{r['records']:,}"


def render_census(rows):
    """The page census of our runs: what each request brought back (see page_census)."""
    L = ["| run | requests by resource | full pages | partial pages | empty pages | not 200 | slice starts (first page, probes, splits) | items fetched twice | pages ≥ half read twice | useful pages | requests beyond useful pages | max requests in any 60 s | sandbox max in flight |",
         "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, r in rows:
        c = r.get("census")
        if not c:
            continue
        t = census_totals(c)
        by_res = ", ".join(f"{k} {v}" for k, v in r["requests_by_resource"].items())
        L.append(f"| {label} | {by_res} | {t['full']} | {t['partial']} | {t['empty']} | {t['not_200']} | {t['slice_starts']} | {t['fetched_twice']:,} | {t['boundary_pages_mostly_twice']} | "
                 f"{r['useful_pages']} | {r['requests'] - r['useful_pages']} | {r.get('max_requests_in_any_60s', 'n/a')} | {r['sandbox_max_in_flight']} |")
    L.append("")
    L.append("Census: after the run, the run's requests (the sandbox's request log) are replayed on the same sandbox with the latency and the limit "
             "switched off, and each page is counted as full (1,000 items), partial or empty. A slice start is a request whose position is no "
             "page's `next_page`: the first page, a probe or a split. Items fetched twice = items in the pages − records emitted (overlapping slices). "
             "Pages ≥ half read twice: pairs of pages that share at least 500 items, i.e. a slice's last page that crossed the next slice's start "
             "and was mostly a second read of its data (about one wasted request each). Useful pages = records ÷ 1,000 rounded up, per export.")
    return L


def render_exports(x):
    L = [f"## Export backfills: {x['latency_ms']} ms latency, server limit {x['rpm_limit']}/min", "",
         f"Target: at least {TARGET_FRACTION:.0%} of {BUDGET_RPM} pages of {PAGE:,} items a minute ({BUDGET_RPM * PAGE:,} items/min), 0 429s. "
         "Each run on a fresh sandbox; rates are over the wall time of the whole `read` (process start to exit).", "",
         "| run | connector | wall s | records per stream | requests | useful pages | requests/min | of 200/min | items/min | of 200 pages/min | 429s | peak RSS MB | CPU s | target |",
         "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in x["runs"]:
        tgt = ("PASS" if r["meets_target"] else "FAIL") if r["connector"] == "ours" else ""
        L.append(f"| {r['label']} | {r['connector']} | {r['wall_s']:.1f} | {_records(r)} | {r['requests']} | {r['useful_pages']} | "
                 f"{r['requests_per_min']:.1f} | {r['requests_per_min'] / BUDGET_RPM:.1%} | {r['items_per_min']:,.0f} | {r['items_fraction']:.1%} | "
                 f"{r['responses_429']} | {r['peak_rss_mb']:.1f} | {r['cpu_s']:.2f} | {tgt} |" + ("" if r["ok"] else " **FAILED**"))
    L.append("")
    pr = x.get("peer")
    if pr:
        L.append("| peer ÷ ours (same data) | peak RSS | wall | CPU s | ours' items/min ÷ peer's |")
        L.append("|---|---:|---:|---:|---:|")
        for name, label in (("full", "ours: 4 exports"), ("same_streams", "ours: the peer's streams")):
            v = pr.get(name)
            if v:
                L.append(f"| {label} | {fmt(v['peak_rss'], '.1f')}x | {fmt(v['wall'], '.1f')}x | {fmt(v['cpu'], '.1f')}x | {fmt(v['items_per_min'], '.1f')}x |")
        v = pr.get("full")
        if v and v["peak_rss"] is not None:
            L.append("")
            L.append(f"Full sync peak RSS at most 1/{RSS_TARGET} of the peer's: 1/{v['peak_rss']:.1f}, {verdict(v['peak_rss'] >= RSS_TARGET)}.")
        L.append("")
    L.extend(render_census([(f"{r['label']}", r) for r in x["runs"] if r["connector"] == "ours"]))
    L.append("")
    return "\n".join(L) + "\n"


def main():
    started = time.perf_counter()
    R = {"environment": environment(), "settings": {
        "chats": CHATS, "repeat": REPEAT, "mem_small": MEM_SMALL, "mem_large": MEM_LARGE,
        "backfill_chats": BACKFILL_CHATS, "backfill_latency_ms": BACKFILL_LATENCY_MS,
        "skip_memory": SKIP_MEMORY, "skip_backfill": SKIP_BACKFILL, "skip_peer": SKIP_PEER,
        "layout_chats": LAYOUT_CHATS, "layouts": LAYOUTS, "layout_rpm_limit": LAYOUT_RPM_LIMIT,
        "export_runs": EXPORT_RUNS, "exports_timeline": EXPORTS_TIMELINE, "exports_conversion_chats": EXPORTS_CONVERSION_CHATS,
        "exports_full_chats": EXPORTS_FULL_CHATS, "exports_rpm_limit": EXPORTS_RPM_LIMIT}}
    log(f"machine: {R['environment']['cpus']} CPUs, load average {R['environment']['loadavg_at_start']}")

    cfg_rust = write_json(OUT / "config-rust.json", BASE_CONFIG)
    cfg_peer = write_json(OUT / "config-peer.json", BASE_CONFIG)
    cfg_mem = write_json(OUT / "config-rust-memory.json", dict(BASE_CONFIG, requests_per_minute=10_000))
    cfg_bf = {
        "default": write_json(OUT / "config-rust-backfill-default.json", BASE_CONFIG),
        "1": write_json(OUT / "config-rust-backfill-1.json", dict(BASE_CONFIG, backfill_concurrency=1)),
    }

    if SKIP_FULL:
        md = render_header(R)
        if not SKIP_LAYOUTS:
            with Sandbox(1000, lifetime=600) as sb:
                catalog = build_catalog()
            R["layouts"] = layouts(catalog, {"ours": cfg_rust, "peer": cfg_peer})
            write_json(OUT / "results.json", R)
            (OUT / "results-layouts.md").write_text(render_header(R) + render_layouts(R["layouts"]))
            md += render_layouts(R["layouts"])
        if not SKIP_EXPORTS:
            R["exports"] = exports()
            write_json(OUT / "results.json", R)
            (OUT / "results-exports.md").write_text(render_header(R) + render_exports(R["exports"]))
            md += render_exports(R["exports"])
        R["elapsed_s"] = time.perf_counter() - started
        write_json(OUT / "results.json", R)
        (OUT / "results.md").write_text(md)
        print(md)
        log(f"done in {R['elapsed_s'] / 60:.1f} min; wrote {OUT / 'results.md'} and {OUT / 'results.json'}")
        return 0

    # --- spec + full sync on one sandbox with CHATS chats -----------------------------------
    log(f"starting the sandbox with {CHATS:,} chats on https://{HOST}:443")
    with Sandbox(CHATS, lifetime=RUN_TIMEOUT * 2 * REPEAT + 3600) as sb:
        check_connects([RUST_BIN, "check", "--config", cfg_rust], RUST_ENV, "ours (Rust, SSL_CERT_FILE)")
        if not SKIP_PEER:
            check_connects([PEER_BIN, "check", "--config", cfg_peer], PEER_ENV, "peer (Python)")
        catalog = build_catalog()

        log("spec timing")
        R["spec"] = [spec_timing("ours", RUST_BIN, RUST_ENV, SPEC_RUNS, 5)]
        if not SKIP_PEER:
            R["spec"].append(spec_timing("peer", PEER_BIN, PEER_ENV, PEER_SPEC_RUNS, 1))

        log(f"chats full sync, {CHATS:,} chats, {REPEAT} runs each (interleaved)")
        runs = []
        for i in range(1, REPEAT + 1):
            runs.append(timed_read("ours", read_argv(RUST_BIN, cfg_rust, catalog), RUST_ENV, sb, RUN_TIMEOUT, f"full-ours-{i}"))
            if not SKIP_PEER:
                runs.append(timed_read("peer", read_argv(PEER_BIN, cfg_peer, catalog), PEER_ENV, sb, RUN_TIMEOUT, f"full-peer-{i}"))
        fs = {"chats": CHATS, "repeat": REPEAT, "runs": runs, "summary": {}}
        for name in ("ours", "peer"):
            ok_runs = [r for r in runs if r["connector"] == name and r["ok"]]
            if ok_runs:
                fs["summary"][name] = summarize_runs(ok_runs)
        if "ours" in fs["summary"] and "peer" in fs["summary"]:
            o, p = fs["summary"]["ours"], fs["summary"]["peer"]
            fs["ratios"] = {
                "records_per_s": o["records_per_s"]["median"] / p["records_per_s"]["median"],
                "peak_rss": p["peak_rss_mb"]["median"] / o["peak_rss_mb"]["median"],
                "wall": p["wall_s"]["median"] / o["wall_s"]["median"],
                "cpu": p["cpu_s"]["median"] / o["cpu_s"]["median"] if o["cpu_s"]["median"] else None,
            }
        R["full_sync"] = fs
    write_json(OUT / "results.json", R)

    # --- memory flatness (ours) -------------------------------------------------------------
    if not SKIP_MEMORY:
        log(f"memory flatness: {MEM_SMALL:,} vs {MEM_LARGE:,} chats, {REPEAT} runs each")
        mem = {"small": MEM_SMALL, "large": MEM_LARGE, "runs": {}, "summary": {}}
        for key, n in (("small", MEM_SMALL), ("large", MEM_LARGE)):
            with Sandbox(n, lifetime=RUN_TIMEOUT * REPEAT + 600) as sb:
                log(f"  sandbox with {n:,} chats ready (sandbox RSS {sb.rss_mb():.0f} MB)")
                rs = [timed_read("ours", read_argv(RUST_BIN, cfg_mem, catalog), RUST_ENV, sb, RUN_TIMEOUT, f"mem-{n}-{i}") for i in range(1, REPEAT + 1)]
            mem["runs"][key] = rs
            mem["summary"][key] = summarize_runs([r for r in rs if r["ok"]] or rs)
        a, b = mem["summary"]["small"]["peak_rss_mb"]["median"], mem["summary"]["large"]["peak_rss_mb"]["median"]
        mem["ratio"] = b / a if a else None
        R["memory"] = mem
        write_json(OUT / "results.json", R)

    # --- parallel backfill with 1 s latency ------------------------------------------------
    if not SKIP_BACKFILL:
        log(f"backfill: {BACKFILL_CHATS:,} chats, latency {BACKFILL_LATENCY_MS} ms, timeout {BACKFILL_TIMEOUT} s per run")
        bf = {"chats": BACKFILL_CHATS, "latency_ms": BACKFILL_LATENCY_MS, "runs": []}
        for label in ("default", "1"):
            # A fresh sandbox per run so `max_in_flight` belongs to this run.
            with Sandbox(BACKFILL_CHATS, latency_ms=BACKFILL_LATENCY_MS, lifetime=BACKFILL_TIMEOUT + 600) as sb:
                r = timed_read("ours", read_argv(RUST_BIN, cfg_bf[label], catalog), RUST_ENV, sb, BACKFILL_TIMEOUT, f"backfill-{label}", poll=True)
            r["label"] = "default (4)" if label == "default" else label
            r["chats_requests"] = r["requests_by_resource"].get("chats", 0)
            r["requests_per_min"] = r["requests"] / r["wall_s"] * 60
            r["chats_requests_per_min"] = r["chats_requests"] / r["wall_s"] * 60
            r["chats_per_min"] = r["records"] / r["wall_s"] * 60
            r["chats_fraction"] = r["chats_per_min"] / (BUDGET_RPM * PAGE)
            log(f"    {r['requests_per_min']:.1f} requests/min ({r['requests_per_min'] / BUDGET_RPM:.1%} of {BUDGET_RPM}); "
                f"{r['chats_per_min']:,.0f} chats/min ({r['chats_fraction']:.1%} of {BUDGET_RPM * PAGE:,}); "
                f"max {r.get('max_requests_in_any_60s')} requests in any 60 s; sandbox max in flight {r['sandbox_max_in_flight']}")
            bf["runs"].append(r)
        R["backfill"] = bf

    if not SKIP_LAYOUTS:
        R["layouts"] = layouts(catalog, {"ours": cfg_rust, "peer": cfg_peer})
        write_json(OUT / "results.json", R)

    if not SKIP_EXPORTS:
        R["exports"] = exports()
        write_json(OUT / "results.json", R)

    # --- targets ---------------------------------------------------------------------------
    T = []
    fs = R.get("full_sync", {})
    if fs.get("ratios"):
        T.append(("chats full sync records/s ≥ 30x peer", f"{fs['ratios']['records_per_s']:.1f}x", verdict(fs["ratios"]["records_per_s"] >= 30)))
        cpu = fs["ratios"].get("cpu") or 0
        T.append(("CPU seconds ≥ 25x fewer than peer", f"{fs['summary']['ours']['cpu_s']['median']:.2f} s vs {fs['summary']['peer']['cpu_s']['median']:.2f} s ({cpu:.1f}x)", verdict(cpu >= 25)))
        T.append(("peak RSS ≤ 1/10 of peer", f"{fs['summary']['ours']['peak_rss_mb']['median']:.1f} MB vs {fs['summary']['peer']['peak_rss_mb']['median']:.1f} MB (1/{fs['ratios']['peak_rss']:.1f})", verdict(fs["ratios"]["peak_rss"] >= 10)))
    if R.get("memory") and R["memory"]["ratio"] is not None:
        T.append((f"peak RSS at {MEM_LARGE:,} chats within 10% of {MEM_SMALL:,}", f"{R['memory']['ratio']:.3f}x", verdict(R["memory"]["ratio"] <= 1.10)))
    ours_spec = next((s for s in R.get("spec", []) if s["connector"] == "ours"), None)
    if ours_spec:
        T.append(("`spec` ≤ 20 ms (median)", f"{ours_spec['median_ms']:.1f} ms", verdict(ours_spec["median_ms"] <= 20)))
    if R.get("backfill"):
        for x in R["backfill"]["runs"]:
            T.append((f"backfill ({x['label']}): share of the 200 req/min budget", f"{x['requests_per_min']:.1f}/min = {x['requests_per_min'] / BUDGET_RPM:.1%}; chats {x['chats_fraction']:.1%} of 200,000/min", "info"))
    R["targets"] = T
    R["elapsed_s"] = time.perf_counter() - started

    write_json(OUT / "results.json", R)
    md = render(R) + (render_layouts(R["layouts"]) if R.get("layouts") else "") + (render_exports(R["exports"]) if R.get("exports") else "")
    (OUT / "results.md").write_text(md)
    print(md)
    log(f"done in {R['elapsed_s'] / 60:.1f} min; wrote {OUT / 'results.md'} and {OUT / 'results.json'}")
    failed = [r for r in R.get("full_sync", {}).get("runs", []) if not r["ok"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
