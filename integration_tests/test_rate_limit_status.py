"""The platform's rate-limit status, checked against the official protocol models.

A loopback API answers every request with 429 and `Retry-After: 3` during its first 2 seconds,
then serves small lists. The connector must show each running stream as RUNNING with a
RATE_LIMITED reason whose `quota_reset` is when the wait ends, then a plain RUNNING, and every
line must pass validate_messages.py (airbyte-protocol-models-pdv2).

Runs without Docker: `python -m pytest integration_tests/test_rate_limit_status.py` with pytest and
airbyte-protocol-models-pdv2 installed (integration_tests/requirements.txt). The connector is
CONNECTOR_BIN, else target/debug or target/release; with CONNECTOR_IMAGE set (as in
scripts/docker/run-airbyte-tests.sh) it is that image, run as the platform runs it (uid 1000, host
network). REAL_DOCKER names the docker client.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from validate_messages import Report, validate_output

ROOT = Path(__file__).resolve().parent.parent
RETRY_AFTER_S = 3
THROTTLED_FOR_S = 2.0
STREAMS = ["departments", "roles", "skills"]
TOLERANCE_MS = 1000


class ThrottlingApi(ThreadingHTTPServer):
    """429 to every request in the first THROTTLED_FOR_S seconds after the first one, then lists."""

    daemon_threads = True
    first_request: float | None = None


class Handler(BaseHTTPRequestHandler):
    server: ThrottlingApi

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        now = time.time()
        if self.server.first_request is None:
            self.server.first_request = now
        if now - self.server.first_request < THROTTLED_FOR_S:
            self._answer(429, b'{"error": "rate limited"}', {"Retry-After": str(RETRY_AFTER_S)})
        else:
            self._answer(200, json.dumps([{"id": 1, "name": "one"}, {"id": 2, "name": "two"}]).encode())

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[ThrottlingApi]:
    server = ThrottlingApi(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def connector_command(workdir: Path) -> tuple[list[str], Path]:
    """The connector and where it sees `workdir`: the image (run as the platform runs it, the
    directory mounted at /source) when CONNECTOR_IMAGE is set, else a binary."""
    image = os.environ.get("CONNECTOR_IMAGE")
    if image and not os.environ.get("CONNECTOR_BIN"):
        docker = os.environ.get("REAL_DOCKER") or shutil.which("docker") or "docker"
        return [docker, "run", "--rm", "--network", "host", "--user", "1000:1000", "--cap-drop", "ALL",
                "--security-opt", "no-new-privileges", "-v", f"{workdir}:/source:ro", image], Path("/source")
    candidates = [os.environ.get("CONNECTOR_BIN", "")] + [
        str(ROOT / "target" / profile / "source-zendesk-chat") for profile in ("debug", "release")
    ]
    found = next((c for c in candidates if c and os.access(c, os.X_OK)), None)
    assert found, "no connector binary: build it (cargo build --locked) or set CONNECTOR_BIN"
    return [found], workdir


def read_through_rate_limit(api: ThrottlingApi) -> tuple[Report, str]:
    config = {
        "subdomain": "fake",
        "start_date": "2024-01-01T00:00:00Z",
        "base_url": f"http://127.0.0.1:{api.server_address[1]}/api/v2/chat/",
        "credentials": {"credentials": "access_token", "access_token": "fake-token-0123456789"},
    }
    catalog = {"streams": [
        {"stream": {"name": s, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
         "sync_mode": "full_refresh", "destination_sync_mode": "append"} for s in STREAMS
    ]}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # readable by the image's uid 1000
        for name, value in (("config", config), ("catalog", catalog)):
            (work / f"{name}.json").write_text(json.dumps(value))
            (work / f"{name}.json").chmod(0o644)
        command, seen = connector_command(work)
        args = ["read", "--config", str(seen / "config.json"), "--catalog", str(seen / "catalog.json")]
        done = subprocess.run(command + args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = validate_output(done.stdout, command="read", catalog=catalog, config=config, stderr=done.stderr)
    report.raise_for_problems()
    return report, done.stdout


def test_a_retry_after_wait_is_a_validated_rate_limited_status_for_every_running_stream(
    api: ThrottlingApi,
) -> None:
    report, _ = read_through_rate_limit(api)
    assert api.first_request is not None
    expected_reset = int((api.first_request + RETRY_AFTER_S) * 1000)
    for name in STREAMS:
        statuses = [
            m.trace.stream_status for m in report.messages
            if m.trace is not None and m.trace.stream_status is not None
            and m.trace.stream_status.stream_descriptor.name == name
        ]
        kinds = [
            (s.status.value, [(r.type.value, r.rate_limited.quota_reset if r.rate_limited else None)
                              for r in s.reasons or []])
            for s in statuses
        ]
        limited = [i for i, (_, reasons) in enumerate(kinds) if reasons]
        assert limited, f"{name}: no RATE_LIMITED status: {kinds}"
        for i in limited:
            status, reasons = kinds[i]
            assert status == "RUNNING" and reasons[0][0] == "RATE_LIMITED", kinds
            assert abs(reasons[0][1] - expected_reset) <= TOLERANCE_MS, (name, reasons, expected_reset)
        after = kinds[limited[-1] + 1:]
        assert ("RUNNING", []) in after, f"{name}: no plain RUNNING after the wait: {kinds}"
        assert kinds[-1] == ("COMPLETE", []), kinds
