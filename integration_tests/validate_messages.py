#!/usr/bin/env python3
"""Validate a connector's stdout against the official Airbyte protocol models plus the protocol's rules.

Every line must be one JSON object that `airbyte_protocol.models.AirbyteMessage` (package
`airbyte-protocol-models-pdv2==0.18.0`, pydantic v2) accepts in strict mode, and whose `type`
matches the single payload field that is populated (the models do not check that). On top of that,
the rules the models cannot express (see shared/research/airbyte-protocol.md §1.4, §1.6, §4):

* RECORD: non-empty `data`, `emitted_at` in epoch milliseconds, stream in the configured catalog;
* STATE: per-stream `STREAM` state only, stream in the catalog, `sourceStats.recordCount` present,
  a float, and equal to the number of records of that stream since its previous STATE; every
  configured stream gets at least one STATE and no record after its last STATE;
* STREAM_STATUS: per configured stream STARTED first, then only RUNNING, COMPLETE last; no record
  outside STARTED..COMPLETE; `reasons` only on RUNNING, each with only the models' field names (the
  models silently ignore unknown ones), a RATE_LIMITED reason with `rate_limited.quota_reset` in
  epoch milliseconds;
* per command: exactly one SPEC / CONNECTION_STATUS / CATALOG (with >= 1 uniquely named stream);
* no ERROR trace unless errors are expected; no secret value outside CONTROL messages (and stderr).

Library use (pytest)::

    from validate_messages import validate_output
    report = validate_output(stdout_text, command="read", catalog=catalog_dict, config=config_dict)
    report.raise_for_problems()

CLI use (pipes, CI)::

    target/release/source-zendesk-chat read --config c.json --catalog cat.json \\
        | python integration_tests/validate_messages.py --command read --catalog cat.json --config c.json

Exit status 0 when valid, 1 with the list of problems otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from airbyte_protocol.models import AirbyteMessage, Type
from pydantic import ValidationError

PAYLOAD_FIELDS: dict[str, str] = {
    "RECORD": "record",
    "STATE": "state",
    "LOG": "log",
    "SPEC": "spec",
    "CONNECTION_STATUS": "connectionStatus",
    "CATALOG": "catalog",
    "TRACE": "trace",
    "CONTROL": "control",
    "DESTINATION_CATALOG": "destination_catalog",
}
# Field names the airbyte-cdk secret lint treats as secrets (airbyte_cdk.test.standard_tests._spec_lint).
SECRET_NAMES = {
    "access_token", "api_token", "certificate", "client_secret", "client_token", "credentials", "jwt", "key",
    "password", "refresh_token", "secret", "service_account", "service_account_info", "token",
}
SECRET_SUFFIXES = ("_token", "_secret", "password", "api_key", "apikey", "secret_key", "private_key", "access_key")
COMMANDS = ("spec", "check", "discover", "read")
MS_LOWER_BOUND = 10**12  # 2001-09-09 in ms; a seconds value is far below
MS_UPPER_BOUND = 10**13  # 2286 in ms


@dataclass
class Report:
    """What was seen in one output, and every rule it broke."""

    command: str | None
    messages: list[AirbyteMessage] = field(default_factory=list)
    raw: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    records_per_stream: Counter = field(default_factory=Counter)
    states_per_stream: Counter = field(default_factory=Counter)
    last_state: dict[str, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    error_traces: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def of_type(self, type_name: str) -> list[dict[str, Any]]:
        """Raw JSON payloads of every message of the given type, in order."""
        key = PAYLOAD_FIELDS[type_name]
        return [m[key] for m in self.raw if m.get("type") == type_name]

    def state_messages_for_next_read(self) -> list[dict[str, Any]]:
        """The `--state` input the platform would pass to the next sync (last STATE per stream)."""
        return [
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": st}}
            for name, st in self.last_state.items()
        ]

    def summary(self) -> str:
        parts = ", ".join(f"{t}={n}" for t, n in sorted(self.counts.items()))
        return f"{sum(self.counts.values())} messages ({parts or 'none'})"

    def raise_for_problems(self) -> None:
        if self.problems:
            shown = "\n  ".join(self.problems[:50])
            more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
            raise AssertionError(f"{len(self.problems)} protocol problem(s) in `{self.command}` output:\n  {shown}{more}")


def secret_values(config: Any) -> set[str]:
    """String values of secret-named keys (the airbyte-cdk secret-name list) anywhere in a config."""
    found: set[str] = set()

    def walk(node: Any, key: str | None) -> None:
        if isinstance(node, Mapping):
            for k, v in node.items():
                walk(v, str(k))
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key is not None:
            k = key.lower()
            named = k in SECRET_NAMES or k.endswith(SECRET_SUFFIXES)
            # `credentials` is also the oneOf discriminator here ("access_token"/"oauth2.0"): not a secret.
            if k == "credentials" and node in ("access_token", "oauth2.0"):
                named = False
            if named and len(node) >= 4:
                found.add(node)

    walk(config, None)
    return found


def parse_line(line: str, lineno: int) -> tuple[dict[str, Any], AirbyteMessage]:
    """One stdout line -> (raw JSON, model). Raises ValueError with a readable reason."""
    text = line.rstrip("\n").rstrip("\r")
    if not text.strip():
        raise ValueError(f"line {lineno}: empty line on stdout")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {lineno}: not JSON ({exc.msg}): {text[:200]!r}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"line {lineno}: not a JSON object: {text[:200]!r}")
    try:
        msg = AirbyteMessage.model_validate_json(text, strict=True)
    except ValidationError as exc:
        errors = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)[:5]
        )
        raise ValueError(f"line {lineno}: not a valid AirbyteMessage: {errors}") from None
    expected = PAYLOAD_FIELDS.get(msg.type.value)
    present = {k for k in PAYLOAD_FIELDS.values() if raw.get(k) is not None}
    if present != {expected}:
        raise ValueError(f"line {lineno}: type {msg.type.value} but populated payload fields {sorted(present)}")
    return raw, msg


def status_reason_problems(raw: Mapping[str, Any], msg: AirbyteMessage) -> list[str]:
    """The problems of a STREAM_STATUS's `reasons`, checked on the raw JSON and on the parsed model."""
    reasons = raw.get("reasons")
    if reasons is None:
        return []
    name = raw["stream_descriptor"]["name"]
    problems = [] if raw["status"] == "RUNNING" else [f"{name}: reasons on status {raw['status']} (only RUNNING has them)"]
    parsed = msg.trace.stream_status.reasons or []
    for given, model in zip(reasons, parsed):
        extra = set(given) - set(type(model).model_fields)
        rate = given.get("rate_limited")
        if isinstance(rate, Mapping) and model.rate_limited is not None:
            extra |= {f"rate_limited.{k}" for k in set(rate) - set(type(model.rate_limited).model_fields)}
        if extra:
            problems.append(f"{name}: reason has fields the protocol does not define: {sorted(extra)}")
        if model.type.value == "RATE_LIMITED":
            reset = model.rate_limited.quota_reset if model.rate_limited else None
            if not isinstance(reset, int) or not (MS_LOWER_BOUND <= reset < MS_UPPER_BOUND):
                problems.append(f"{name}: RATE_LIMITED reason without rate_limited.quota_reset in epoch ms: {given}")
    return problems


def _configured_streams(catalog: Mapping[str, Any] | None) -> list[str] | None:
    if catalog is None:
        return None
    return [s["stream"]["name"] for s in catalog.get("streams", [])]


def validate_lines(
    lines: Iterable[str],
    *,
    command: str | None = None,
    catalog: Mapping[str, Any] | None = None,
    config: Any = None,
    expect_status: str | None = None,
    expect_errors: bool = False,
    allow_errors: bool = False,
    stderr: str | None = None,
) -> Report:
    """Validate connector stdout (an iterable of lines). Never raises for protocol problems: see Report."""
    report = Report(command=command)
    streams = _configured_streams(catalog)
    stream_set = set(streams) if streams is not None else None
    secrets = secret_values(config) if config is not None else set()
    since_state: Counter = Counter()
    seen_complete: set[str] = set()

    for lineno, line in enumerate(lines, 1):
        try:
            raw, msg = parse_line(line, lineno)
        except ValueError as exc:
            report.problems.append(str(exc))
            continue
        report.raw.append(raw)
        report.messages.append(msg)
        t = msg.type
        report.counts[t.value] += 1
        if secrets and t != Type.CONTROL:
            for s in secrets:
                if s in line:
                    report.problems.append(f"line {lineno}: {t.value} message contains a secret config value")
                    break

        if t == Type.RECORD:
            rec = raw["record"]
            name = rec["stream"]
            report.records_per_stream[name] += 1
            since_state[name] += 1
            if not rec.get("data"):
                report.problems.append(f"line {lineno}: RECORD of {name} has empty data (the platform drops it)")
            ts = rec.get("emitted_at")
            if not isinstance(ts, int) or not (MS_LOWER_BOUND <= ts < MS_UPPER_BOUND):
                report.problems.append(f"line {lineno}: RECORD emitted_at {ts!r} is not an integer epoch-ms")
            if stream_set is not None and name not in stream_set:
                report.problems.append(f"line {lineno}: RECORD for stream {name!r} not in the configured catalog")
            if "namespace" in rec:
                report.problems.append(f"line {lineno}: RECORD has a namespace; the streams declare none")
            st = report.statuses.get(name, [])
            if command == "read" and streams is not None and (not st or st[0] != "STARTED"):
                report.problems.append(f"line {lineno}: RECORD of {name} before its STARTED stream status")
            if name in seen_complete:
                report.problems.append(f"line {lineno}: RECORD of {name} after its COMPLETE stream status")

        elif t == Type.STATE:
            st = raw["state"]
            if st.get("type") != "STREAM":
                report.problems.append(f"line {lineno}: STATE type {st.get('type')!r}; per-stream STREAM state expected")
                continue
            name = st["stream"]["stream_descriptor"]["name"]
            report.states_per_stream[name] += 1
            report.last_state[name] = st["stream"].get("stream_state")
            if stream_set is not None and name not in stream_set:
                report.problems.append(f"line {lineno}: STATE for stream {name!r} not in the configured catalog")
            count = (st.get("sourceStats") or {}).get("recordCount")
            if count is None:
                report.problems.append(f"line {lineno}: STATE of {name} has no sourceStats.recordCount")
            else:
                if not isinstance(count, float):
                    report.problems.append(
                        f"line {lineno}: STATE of {name} sourceStats.recordCount {count!r} is not a float (1.0, not 1)"
                    )
                if count != since_state[name]:
                    report.problems.append(
                        f"line {lineno}: STATE of {name} sourceStats.recordCount={count} but "
                        f"{since_state[name]} records were emitted since its previous STATE"
                    )
            since_state[name] = 0

        elif t == Type.TRACE:
            tr = raw["trace"]
            if tr["type"] == "ERROR":
                report.error_traces.append(tr)
            elif tr["type"] == "STREAM_STATUS":
                ss = tr["stream_status"]
                name = ss["stream_descriptor"]["name"]
                report.statuses[name].append(ss["status"])
                report.problems.extend(f"line {lineno}: {p}" for p in status_reason_problems(ss, msg))
                if ss["status"] in ("COMPLETE", "INCOMPLETE"):
                    seen_complete.add(name)
                    if since_state[name]:
                        report.problems.append(
                            f"line {lineno}: {name} reached {ss['status']} with {since_state[name]} records after its last STATE"
                        )
                if stream_set is not None and name not in stream_set:
                    report.problems.append(f"line {lineno}: STREAM_STATUS for stream {name!r} not in the configured catalog")

    # Command-level rules.
    c = report.counts
    if command == "spec" and c["SPEC"] != 1:
        report.problems.append(f"spec: expected exactly one SPEC message, got {c['SPEC']}")
    if command == "check":
        if c["CONNECTION_STATUS"] != 1:
            report.problems.append(f"check: expected exactly one CONNECTION_STATUS, got {c['CONNECTION_STATUS']}")
        elif expect_status:
            got = report.of_type("CONNECTION_STATUS")[0]["status"]
            if got != expect_status:
                report.problems.append(f"check: status {got}, expected {expect_status}")
    if command == "discover":
        if c["CATALOG"] != 1:
            report.problems.append(f"discover: expected exactly one CATALOG, got {c['CATALOG']}")
        else:
            names = [s["name"] for s in report.of_type("CATALOG")[0]["streams"]]
            if not names:
                report.problems.append("discover: CATALOG has no streams")
            dupes = sorted(n for n, k in Counter(names).items() if k > 1)
            if dupes:
                report.problems.append(f"discover: duplicate stream names {dupes}")
    if command == "read" and streams is not None and not expect_errors:
        for name in streams:
            if report.states_per_stream[name] == 0:
                report.problems.append(f"read: stream {name} emitted no STATE (one per stream per sync is required)")
            if since_state[name]:
                report.problems.append(f"read: stream {name} has {since_state[name]} records after its last STATE")
            st = report.statuses.get(name, [])
            if not st:
                report.problems.append(f"read: stream {name} emitted no STREAM_STATUS")
            elif st[0] != "STARTED" or st[-1] != "COMPLETE" or any(s != "RUNNING" for s in st[1:-1]) or len(st) < 2:
                report.problems.append(f"read: stream {name} statuses {st}; expected STARTED, RUNNING..., COMPLETE")
            elif report.records_per_stream[name] and "RUNNING" not in st:
                report.problems.append(f"read: stream {name} emitted records but no RUNNING status")
    if expect_errors:
        if not report.error_traces:
            report.problems.append(f"{command or 'output'}: an ERROR trace was expected, none was emitted")
    elif report.error_traces and not allow_errors:
        msgs = "; ".join(str(e.get("error", {}).get("message")) for e in report.error_traces[:3])
        report.problems.append(f"{command or 'output'}: {len(report.error_traces)} ERROR trace(s): {msgs}")
    if stderr is not None and secrets:
        for s in secrets:
            if s in stderr:
                report.problems.append(f"{command or 'output'}: stderr contains a secret config value")
                break
    return report


def validate_output(text: str, **kwargs: Any) -> Report:
    """Validate a whole stdout capture (a string)."""
    lines = text.splitlines()
    return validate_lines(lines, **kwargs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", nargs="?", help="connector stdout capture (default: stdin)")
    ap.add_argument("--command", choices=COMMANDS, help="the connector command that produced the output")
    ap.add_argument("--catalog", type=Path, help="configured catalog passed to `read`")
    ap.add_argument("--config", type=Path, help="config passed to the connector (for the secret-leak check)")
    ap.add_argument("--stderr", type=Path, help="the connector's stderr capture (secret-leak check)")
    ap.add_argument("--expect-status", choices=("SUCCEEDED", "FAILED"), help="expected CONNECTION_STATUS")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--expect-errors", action="store_true", help="require at least one ERROR trace")
    g.add_argument("--allow-errors", action="store_true", help="accept ERROR traces")
    ap.add_argument("--min-records", type=int, default=0, help="require at least this many RECORDs")
    ap.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    args = ap.parse_args(argv)

    stream = open(args.file, encoding="utf-8") if args.file else sys.stdin
    with stream:
        report = validate_lines(
            stream,
            command=args.command,
            catalog=json.loads(args.catalog.read_text()) if args.catalog else None,
            config=json.loads(args.config.read_text()) if args.config else None,
            expect_status=args.expect_status,
            expect_errors=args.expect_errors,
            allow_errors=args.allow_errors,
            stderr=args.stderr.read_text(errors="replace") if args.stderr else None,
        )
    if report.counts["RECORD"] < args.min_records:
        report.problems.append(f"expected at least {args.min_records} RECORDs, got {report.counts['RECORD']}")
    label = args.command or "output"
    if report.problems:
        print(f"validate_messages: {label}: INVALID: {len(report.problems)} problem(s); {report.summary()}", file=sys.stderr)
        for p in report.problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"validate_messages: {label}: ok: {report.summary()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
