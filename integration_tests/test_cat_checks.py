"""The Connector Acceptance Tests' checks that airbyte-cdk's Docker suite skips, on the image's output.

airbyte-cdk 7.39.1's `DockerConnectorTestSuite` (test_airbyte_standards.py) only checks that spec,
check, discover and read run without errors. The retired CAT checked much more; this module re-creates
those checks, calling the CDK's own check functions where they exist (catalog lint, record/schema
validation, spec lint, secret-leak check) and validating every stdout line against the official
protocol models (validate_messages.py). Containers run as the platform runs them: uid 1000, all
capabilities dropped, no-new-privileges, inputs mounted read-only, host network (the fake Zendesk
Chat API listens on 127.0.0.1).

Run by scripts/docker/run-airbyte-tests.sh. Env: CONNECTOR_IMAGE (default source-zendesk-chat:dev),
REAL_DOCKER (the docker client; default: `docker` on PATH).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import orjson
import pytest
import yaml
from airbyte_cdk.models import (
    AirbyteCatalog,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteStream,
    ConnectorSpecification,
    DestinationSyncMode,
    SyncMode,
)
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from airbyte_cdk.test.standard_tests._catalog_checks import (
    CATALOG_CHECKS,
    find_catalog_problems,
    format_catalog_problems,
)
from airbyte_cdk.test.standard_tests._read_assertions import assert_read_records
from airbyte_cdk.test.standard_tests._spec_lint import (
    assert_no_secrets_in_output,
    assert_spec_is_valid,
    get_single_spec,
)

from validate_messages import Report, validate_output

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
IMAGE = os.environ.get("CONNECTOR_IMAGE", "source-zendesk-chat:dev")
CONNECTOR = "source-zendesk-chat"
ACCEPTANCE = yaml.safe_load((ROOT / "acceptance-test-config.yml").read_text())["acceptance_tests"]
CONFIG = ROOT / ACCEPTANCE["basic_read"]["tests"][0]["config_path"]
INCREMENTAL = ACCEPTANCE["incremental"]["tests"][0]
INCREMENTAL_CATALOG = ROOT / INCREMENTAL["configured_catalog_path"]
FUTURE_STATE = ROOT / INCREMENTAL["future_state"]["future_state_path"]
EMPTY_STREAMS = {s["name"] for s in ACCEPTANCE["basic_read"]["tests"][0].get("empty_streams") or []}
EXPECTED_RECORDS = HERE / "expected_records.jsonl"

EXPECTED_STREAMS = {
    "accounts", "agents", "agent_timeline", "bans", "chats", "chat_history", "chat_webpath",
    "chat_engagements", "chat_conversions", "departments", "goals", "roles", "routing_settings",
    "shortcuts", "skills", "triggers", "conversions", "department_events",
}
INCREMENTAL_STREAMS = {
    "agents": "id", "agent_timeline": "start_time", "bans": "id", "chats": "update_timestamp",
    "chat_history": "update_timestamp", "chat_webpath": "update_timestamp",
    "chat_engagements": "update_timestamp", "chat_conversions": "update_timestamp",
    "conversions": "timestamp", "department_events": "timestamp",
}


# ------------------------------------------------------------------------------------------------
# Running the image


@dataclass
class Run:
    """One container run: raw output, the CDK's view of it and the protocol report."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    output: EntrypointOutput
    report: Report

    def describe(self) -> str:
        tail = "\n".join(self.stderr.splitlines()[-15:])
        return f"`{' '.join(self.args)}` exited {self.returncode}; stderr tail:\n{tail}"


def docker_client() -> str:
    client = os.environ.get("REAL_DOCKER") or shutil.which("docker")
    if not client:
        pytest.fail("no docker client on PATH: these tests must not be skipped silently")
    return client


def run_image(
    *args: str,
    files: dict[str, Path | str | dict | list] | None = None,
    validate: dict[str, Any] | None = None,
    timeout: int = 600,
) -> Run:
    """Run the connector image with `args`, mounting `files` read-only under /source.

    `files` maps a container file name to a host path or to JSON content written to a temp file.
    `validate` holds keyword arguments for validate_messages.validate_output (command, catalog...).
    """
    mounts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cat-checks-") as tmp:
        for name, src in (files or {}).items():
            if not isinstance(src, Path):
                path = Path(tmp) / name
                path.write_text(src if isinstance(src, str) else json.dumps(src))
                path.chmod(0o644)  # the connector runs as uid 1000
                src = path
            mounts += ["-v", f"{src}:/source/{name}:ro"]
        cmd = [
            docker_client(), "run", "--rm", "--network", "host",
            "--user", "1000:1000", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            *mounts, IMAGE, *args,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = proc.stdout.splitlines()
    output = EntrypointOutput(
        messages=lines,
        stderr=proc.stderr,
        command=cmd,
        uncaught_exception=(
            subprocess.CalledProcessError(proc.returncode, cmd, proc.stdout, proc.stderr)
            if proc.returncode != 0
            else None
        ),
    )
    report = validate_output(proc.stdout, stderr=proc.stderr, **(validate or {}))
    return Run(list(args), proc.returncode, proc.stdout, proc.stderr, output, report)


def read(
    config: Path | dict,
    catalog: dict,
    state: list | dict | None = None,
    *,
    check_catalog: bool = True,
    **validate: Any,
) -> Run:
    files: dict[str, Any] = {"config.json": config, "catalog.json": catalog}
    args = ["read", "--config", "/source/config.json", "--catalog", "/source/catalog.json"]
    if state is not None:
        files["state.json"] = state
        args += ["--state", "/source/state.json"]
    cfg = json.loads(config.read_text()) if isinstance(config, Path) else config
    return run_image(
        *args, files=files,
        validate={"command": "read", "catalog": catalog if check_catalog else None, "config": cfg, **validate},
    )


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


def assert_protocol_ok(run: Run) -> None:
    run.report.raise_for_problems()


def records(run: Run, stream: str | None = None) -> list[dict[str, Any]]:
    return [r for r in run.report.of_type("RECORD") if stream is None or r["stream"] == stream]


def configured(streams: Iterable[Any], *, incremental: bool) -> ConfiguredAirbyteCatalog:
    """A configured catalog of discovered streams, incremental where supported if asked."""
    out = []
    for s in streams:
        inc = incremental and SyncMode.incremental in s.supported_sync_modes
        out.append(
            ConfiguredAirbyteStream(
                stream=s,
                sync_mode=SyncMode.incremental if inc else SyncMode.full_refresh,
                destination_sync_mode=DestinationSyncMode.append_dedup if inc and s.source_defined_primary_key
                else DestinationSyncMode.append,
                cursor_field=s.default_cursor_field if inc else None,
                primary_key=s.source_defined_primary_key,
            )
        )
    return ConfiguredAirbyteCatalog(streams=out)


def catalog_dict(catalog: ConfiguredAirbyteCatalog) -> dict:
    """The catalog as the platform sends it (optional fields omitted rather than null)."""
    return strip_nulls(orjson.loads(orjson.dumps(asdict(catalog), option=orjson.OPT_NON_STR_KEYS)))


def strip_nulls(obj: Any) -> Any:
    """asdict() keeps optional fields as None; the protocol omits them."""
    if isinstance(obj, dict):
        return {k: strip_nulls(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [strip_nulls(v) for v in obj]
    return obj


def cursor_value(value: Any) -> Any:
    """Comparable form of a cursor value: datetimes for ISO text, numbers as they are."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text) if text.replace(".", "", 1).isdigit() else datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
    return value


def as_comparable(a: Any, b: Any) -> tuple[Any, Any]:
    """Bring a record cursor and a state cursor to one type (epoch seconds when they differ)."""
    if type(a) is type(b):
        return a, b

    def secs(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.replace(tzinfo=v.tzinfo or timezone.utc).timestamp()
        return float(v)

    return secs(a), secs(b)


# ------------------------------------------------------------------------------------------------
# Session fixtures: the expensive container runs are shared between tests.


@pytest.fixture(scope="session", autouse=True)
def docker_ready() -> None:
    """Fail (not skip) when docker or the image is unavailable."""
    client = docker_client()
    probe = subprocess.run([client, "image", "inspect", IMAGE], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.fail(f"image {IMAGE} not available ({probe.stderr.strip()}): run scripts/docker/build-image.sh")


@pytest.fixture(scope="session")
def spec_run() -> Run:
    return run_image("spec", validate={"command": "spec"})


@pytest.fixture(scope="session")
def spec(spec_run: Run) -> ConnectorSpecification:
    return get_single_spec(spec_run.output, connector_name=CONNECTOR)


@pytest.fixture(scope="session")
def config() -> dict:
    return load_json(CONFIG)


@pytest.fixture(scope="session")
def discover_run(config: dict) -> Run:
    return run_image(
        "discover", "--config", "/source/config.json",
        files={"config.json": CONFIG}, validate={"command": "discover", "config": config},
    )


@pytest.fixture(scope="session")
def catalog(discover_run: Run) -> AirbyteCatalog:
    assert discover_run.returncode == 0, discover_run.describe()
    return discover_run.output.catalog.catalog


@pytest.fixture(scope="session")
def full_refresh_catalog(catalog: AirbyteCatalog) -> ConfiguredAirbyteCatalog:
    return configured([s for s in catalog.streams if s.name not in EMPTY_STREAMS], incremental=False)


@pytest.fixture(scope="session")
def full_refresh_run(config: dict, full_refresh_catalog: ConfiguredAirbyteCatalog) -> Run:
    return read(CONFIG, catalog_dict(full_refresh_catalog))


@pytest.fixture(scope="session")
def incremental_catalog(catalog: AirbyteCatalog) -> ConfiguredAirbyteCatalog:
    """The discovered streams, incremental where supported (schemas as discovered)."""
    return configured(catalog.streams, incremental=True)


@pytest.fixture(scope="session")
def incremental_run(incremental_catalog: ConfiguredAirbyteCatalog) -> Run:
    return read(CONFIG, catalog_dict(incremental_catalog))


# ------------------------------------------------------------------------------------------------
# spec / check (CAT TestSpec, TestConnection)


def test_spec_output_is_valid_protocol(spec_run: Run) -> None:
    assert spec_run.returncode == 0, spec_run.describe()
    assert_protocol_ok(spec_run)


def test_spec_passes_cdk_spec_lint(spec: ConnectorSpecification) -> None:
    assert_spec_is_valid(spec, connector_name=CONNECTOR)


def test_spec_is_draft7_and_declares_incremental(spec_run: Run) -> None:
    raw = spec_run.report.of_type("SPEC")[0]
    jsonschema.Draft7Validator.check_schema(raw["connectionSpecification"])
    assert raw.get("supportsIncremental") is True
    assert raw.get("documentationUrl", "").startswith("https://")


@pytest.mark.parametrize(
    "config_file", ["config.json", "config_oauth.json", "invalid_config.json"],
)
def test_config_files_match_spec(spec_run: Run, config_file: str) -> None:
    schema = spec_run.report.of_type("SPEC")[0]["connectionSpecification"]
    jsonschema.validate(load_json(HERE / config_file), schema, cls=jsonschema.Draft7Validator)


@pytest.mark.parametrize(
    ("config_file", "status"),
    [("config.json", "SUCCEEDED"), ("config_oauth.json", "SUCCEEDED"), ("invalid_config.json", "FAILED")],
)
def test_check(spec: ConnectorSpecification, config_file: str, status: str) -> None:
    cfg = load_json(HERE / config_file)
    run = run_image(
        "check", "--config", "/source/config.json", files={"config.json": HERE / config_file},
        validate={"command": "check", "config": cfg, "expect_status": status, "allow_errors": status == "FAILED"},
    )
    assert_no_secrets_in_output(run.output, spec=spec, config=cfg, verb="check", connector_name=CONNECTOR)
    assert run.returncode == 0, f"a {status} check must still exit 0: {run.describe()}"
    assert_protocol_ok(run)
    if status == "FAILED":
        message = run.report.of_type("CONNECTION_STATUS")[0].get("message") or ""
        assert message.strip(), "a FAILED connection status should tell the user what to fix"


# ------------------------------------------------------------------------------------------------
# discover (CAT TestDiscovery)


def test_discover_output_is_valid_protocol(discover_run: Run, spec: ConnectorSpecification, config: dict) -> None:
    assert_no_secrets_in_output(discover_run.output, spec=spec, config=config, verb="discover", connector_name=CONNECTOR)
    assert discover_run.returncode == 0, discover_run.describe()
    assert_protocol_ok(discover_run)


def test_catalog_passes_every_cdk_catalog_check(catalog: AirbyteCatalog) -> None:
    """All of the CDK's catalog checks, including the ones the CDK only warns about."""
    problems = find_catalog_problems(catalog, CATALOG_CHECKS)
    assert not problems, format_catalog_problems(problems)


def test_catalog_streams_and_cursors(catalog: AirbyteCatalog) -> None:
    by_name = {s.name: s for s in catalog.streams}
    assert set(by_name) == EXPECTED_STREAMS
    for name, stream in by_name.items():
        if name in INCREMENTAL_STREAMS:
            assert SyncMode.incremental in stream.supported_sync_modes, name
            assert stream.source_defined_cursor is True, name
            assert stream.default_cursor_field == [INCREMENTAL_STREAMS[name]], name
            assert stream.is_resumable is not False, name
        else:
            assert stream.supported_sync_modes == [SyncMode.full_refresh], name
        assert stream.namespace is None, f"{name}: API streams declare no namespace"
        assert stream.json_schema.get("type") == "object" or "object" in stream.json_schema.get("type", []), name


def test_static_configured_catalog_matches_discovery(catalog: AirbyteCatalog) -> None:
    """integration_tests/configured_catalog.json names real streams with their declared cursors/keys."""
    by_name = {s.name: s for s in catalog.streams}
    static = load_json(INCREMENTAL_CATALOG)
    for entry in static["streams"]:
        name = entry["stream"]["name"]
        assert name in by_name, f"{name} is not a discovered stream"
        disc = by_name[name]
        if entry["sync_mode"] == "incremental":
            assert SyncMode.incremental in disc.supported_sync_modes, name
            assert entry.get("cursor_field") == disc.default_cursor_field, name
        if entry.get("primary_key"):
            assert entry["primary_key"] == disc.source_defined_primary_key, name


# ------------------------------------------------------------------------------------------------
# full refresh read (CAT TestBasicRead, TestFullRefresh)


def test_full_refresh_read_output_is_valid_protocol(full_refresh_run: Run, spec: ConnectorSpecification, config: dict) -> None:
    """Every line valid; statuses STARTED, RUNNING..., COMPLETE; a STATE per stream with counts."""
    assert_no_secrets_in_output(full_refresh_run.output, spec=spec, config=config, verb="read", connector_name=CONNECTOR)
    assert full_refresh_run.returncode == 0, full_refresh_run.describe()
    assert_protocol_ok(full_refresh_run)


def test_full_refresh_records_match_schemas(full_refresh_run: Run, full_refresh_catalog: ConfiguredAirbyteCatalog) -> None:
    assert_read_records(
        records=full_refresh_run.output.records_iterator,
        configured_catalog=full_refresh_catalog,
        require_records_per_stream=True,
        validate_schema=True,
    )


def test_primary_keys_are_never_null(full_refresh_run: Run, full_refresh_catalog: ConfiguredAirbyteCatalog) -> None:
    problems = []
    for cs in full_refresh_catalog.streams:
        for rec in records(full_refresh_run, cs.stream.name):
            for path in cs.stream.source_defined_primary_key or []:
                value: Any = rec["data"]
                for part in path:
                    value = value.get(part) if isinstance(value, dict) else None
                if value is None:
                    problems.append(f"{cs.stream.name}: primary key {'.'.join(path)} is null in {rec['data']}")
    assert not problems, "\n".join(problems[:20])


def test_full_refresh_final_states(full_refresh_run: Run, full_refresh_catalog: ConfiguredAirbyteCatalog) -> None:
    """Full-refresh streams without a cursor end with the CDK's no-cursor state marker or a cursor state."""
    for cs in full_refresh_catalog.streams:
        assert cs.stream.name in full_refresh_run.report.last_state, f"{cs.stream.name}: no STATE"


def test_sequential_full_refresh_reads_are_identical(
    full_refresh_run: Run, config: dict, full_refresh_catalog: ConfiguredAirbyteCatalog
) -> None:
    """CAT test_sequential_reads: a second full refresh returns the same records, emitted later."""
    second = read(CONFIG, catalog_dict(full_refresh_catalog))
    assert second.returncode == 0, second.describe()
    assert_protocol_ok(second)

    def data_by_stream(run: Run) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for r in records(run):
            out.setdefault(r["stream"], []).append(json.dumps(r["data"], sort_keys=True))
        return {k: sorted(v) for k, v in out.items()}

    first_data, second_data = data_by_stream(full_refresh_run), data_by_stream(second)
    diff = [s for s in set(first_data) | set(second_data) if first_data.get(s) != second_data.get(s)]
    assert not diff, f"streams whose records differ between two full refreshes: {sorted(diff)}"
    first_max = max(r["emitted_at"] for r in records(full_refresh_run))
    second_min = min(r["emitted_at"] for r in records(second))
    assert second_min >= first_max, "records of the second read must not be emitted before those of the first"


@pytest.mark.skipif(not EXPECTED_RECORDS.exists(), reason="integration_tests/expected_records.jsonl not present")
def test_expected_records_are_read(full_refresh_run: Run) -> None:
    """CAT expect_records (extra records allowed, order ignored, emitted_at ignored)."""
    got: dict[str, set[str]] = {}
    for r in records(full_refresh_run):
        got.setdefault(r["stream"], set()).add(json.dumps(r["data"], sort_keys=True))
    missing = []
    for n, line in enumerate(EXPECTED_RECORDS.read_text().splitlines(), 1):
        if not line.strip():
            continue
        exp = json.loads(line)
        exp = exp.get("record", exp)  # CAT stored {"stream","data","emitted_at"}; tolerate full messages
        if json.dumps(exp["data"], sort_keys=True) not in got.get(exp["stream"], set()):
            missing.append(f"line {n}: {exp['stream']} {json.dumps(exp['data'])[:160]}")
    assert not missing, f"{len(missing)} expected record(s) not read:\n" + "\n".join(missing[:20])


# ------------------------------------------------------------------------------------------------
# incremental (CAT TestIncremental)


def test_incremental_read_output_is_valid_protocol(incremental_run: Run, spec: ConnectorSpecification, config: dict) -> None:
    assert_no_secrets_in_output(incremental_run.output, spec=spec, config=config, verb="read", connector_name=CONNECTOR)
    assert incremental_run.returncode == 0, incremental_run.describe()
    assert_protocol_ok(incremental_run)


def test_incremental_records_match_schemas(incremental_run: Run, incremental_catalog: ConfiguredAirbyteCatalog) -> None:
    cat = ConfiguredAirbyteCatalog(streams=[s for s in incremental_catalog.streams if s.stream.name not in EMPTY_STREAMS])
    assert_read_records(
        records=(m for m in incremental_run.output.records_iterator if m.record.stream not in EMPTY_STREAMS),
        configured_catalog=cat,
        require_records_per_stream=True,
        validate_schema=True,
    )


def test_static_configured_catalog_read() -> None:
    """A read with integration_tests/configured_catalog.json (the file the CDK suite uses) is valid."""
    run = read(CONFIG, load_json(INCREMENTAL_CATALOG))
    assert run.returncode == 0, run.describe()
    assert_protocol_ok(run)


def test_two_sequential_reads(incremental_run: Run, incremental_catalog: ConfiguredAirbyteCatalog) -> None:
    """CAT test_two_sequential_reads: from the first read's state, only records at/after its cursor."""
    assert incremental_run.returncode == 0, incremental_run.describe()
    state = incremental_run.report.state_messages_for_next_read()
    assert {s["stream"]["stream_descriptor"]["name"] for s in state} >= set(INCREMENTAL_STREAMS)
    second = read(CONFIG, catalog_dict(incremental_catalog), state=state)
    assert second.returncode == 0, second.describe()
    assert_protocol_ok(second)

    problems = []
    for name, cursor in INCREMENTAL_STREAMS.items():
        first_records = records(incremental_run, name)
        second_records = records(second, name)
        stream_state = incremental_run.report.last_state.get(name) or {}
        if cursor in stream_state and stream_state[cursor] is not None:
            floor = cursor_value(stream_state[cursor])
            for r in second_records:
                value = r["data"].get(cursor)
                a, b = as_comparable(cursor_value(value), floor)
                if a < b:
                    problems.append(f"{name}: record with {cursor}={value!r} before the state cursor {stream_state[cursor]!r}")
        if len(first_records) > 1 and len(second_records) >= len(first_records):
            problems.append(f"{name}: the second read re-read {len(second_records)} of {len(first_records)} records")
        # The new state must not go back in time.
        new_state = second.report.last_state.get(name) or {}
        if cursor in stream_state and cursor in new_state:
            a, b = as_comparable(cursor_value(new_state[cursor]), cursor_value(stream_state[cursor]))
            if a < b:
                problems.append(f"{name}: state cursor went back from {stream_state[cursor]!r} to {new_state[cursor]!r}")
    assert not problems, "\n".join(problems[:30])


def test_read_from_future_state(incremental_catalog: ConfiguredAirbyteCatalog) -> None:
    """CAT test_state_with_abnormally_large_values: no records for incremental streams, still a STATE."""
    future = load_json(FUTURE_STATE)
    assert isinstance(future, list) and all(s.get("type") == "STREAM" for s in future), "per-stream array form"
    inc_only = ConfiguredAirbyteCatalog(
        streams=[s for s in incremental_catalog.streams if s.sync_mode == SyncMode.incremental]
    )
    assert {s.stream.name for s in inc_only.streams} == set(INCREMENTAL_STREAMS)
    run = read(CONFIG, catalog_dict(inc_only), state=future)
    assert run.returncode == 0, run.describe()
    assert_protocol_ok(run)
    got = {name: n for name, n in run.report.records_per_stream.items() if n}
    assert not got, f"records read although the state is in the future: {got}"
    input_state = {s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"] for s in future}
    for name, cursor in INCREMENTAL_STREAMS.items():
        assert run.report.states_per_stream[name] >= 1, f"{name}: no STATE emitted"
        out = run.report.last_state.get(name) or {}
        if cursor in out and cursor in input_state.get(name, {}):
            assert type(out[cursor]) is type(input_state[name][cursor]), (
                f"{name}: state cursor type changed from {input_state[name][cursor]!r} to {out[cursor]!r}"
            )


# ------------------------------------------------------------------------------------------------
# invalid input (CAT expect_trace_message_on_failure)


@pytest.mark.parametrize("case", ["unknown_stream", "invalid_sync_mode"])
def test_invalid_catalog_fails_with_error_trace(case: str, incremental_catalog: ConfiguredAirbyteCatalog) -> None:
    cat = catalog_dict(incremental_catalog)
    cat["streams"] = cat["streams"][:1]
    if case == "unknown_stream":
        cat["streams"][0]["stream"]["name"] = "__AIRBYTE__stream_that_does_not_exist"
    else:
        cat["streams"][0]["sync_mode"] = "INVALID"
    run = read(CONFIG, cat, expect_errors=True, check_catalog=False)
    assert run.returncode != 0, f"an invalid catalog must fail the sync (non-zero exit): {run.describe()}"
    errors = run.output.errors
    assert errors, f"an invalid catalog must emit an ERROR trace: {run.describe()}"
    assert_protocol_ok(run)
