"""Fixtures that drive the REAL connector binary through PyAirbyte against the fake Zendesk Chat API.

- ``sandbox``: the ``zendesk-chat-sandbox`` binary on 127.0.0.1 (a free port), stopped after the session.
- ``expected``: the sandbox's generated data per resource (``GET /_sandbox/expected/{resource}``).
- ``source``: a PyAirbyte source running ``target/*/source-zendesk-chat`` as a local executable.
- ``duckdb_cache``: a full sync of every stream into a DuckDB cache.
- ``postgres_cache``: the same sync into a real PostgreSQL started on loopback for the session
  (initdb + pg_ctl in a temp dir, as the ``postgres`` user or ``nobody`` when run as root).
- ``dbt_duckdb``, ``dbt_postgres``: `dbt build` of dbt/ on each sync; (``Marts``, dbt's output).
  dbt runs from its own venv (its pins conflict with PyAirbyte's): ``DBT_BIN``, else
  ``.venv-dbt/bin/dbt`` (scripts/py-tests.sh creates it).

Binaries: ``CONNECTOR_BIN`` / ``SANDBOX_BIN``, else ``target/release`` when present, else
``target/debug``. PostgreSQL binaries: ``PG_BIN``, else ``/usr/lib/postgresql/15/bin``, else PATH.
Everything Airbyte writes (logs, caches, install dirs) goes under one session temp dir.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import duckdb
import psycopg2
import pytest

ROOT = Path(__file__).resolve().parents[2]
SESSION_TMP = Path(tempfile.mkdtemp(prefix="zdchat-py-"))
# PyAirbyte reads these at import time: no registry look-ups, no telemetry, job-local files.
os.environ["AIRBYTE_OFFLINE_MODE"] = "1"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["AIRBYTE_LOGGING_ROOT"] = str(SESSION_TMP / "airbyte-logs")
os.environ["AIRBYTE_CACHE_ROOT"] = str(SESSION_TMP / "airbyte-cache")
os.environ["AIRBYTE_LOCAL_REGISTRY"] = str(SESSION_TMP / "no-registry.json")
(SESSION_TMP / "no-registry.json").write_text('{"sources": [], "destinations": []}')

import airbyte as ab  # noqa: E402  (after the environment above)
from airbyte.caches import DuckDBCache, PostgresCache  # noqa: E402

# PyAirbyte maps a property whose schema has no type (`{}`) to VARCHAR, and psycopg2 cannot bind a
# JSON object to it ("can't adapt type 'dict'"): today routing_settings.*, chat_history.conversion,
# chat_conversions.attribution, departments/goals.settings and roles.permissions are such
# properties. Bind objects as JSON text so the PostgreSQL sync works until the schemas declare
# those properties as objects (the DuckDB cache stores them as text either way).
try:
    import psycopg2.extensions
    import psycopg2.extras

    psycopg2.extensions.register_adapter(dict, psycopg2.extras.Json)
except ImportError:  # pragma: no cover - psycopg2 comes with airbyte 0.71.3
    pass

# The resources the sandbox generates, and the streams built from them.
RESOURCES = ["account", "agents", "agent_timeline", "bans", "chats", "departments", "goals",
             "roles", "routing_settings", "shortcuts", "skills", "triggers"]
START_DATE = "2024-01-01T00:00:00Z"
ACCESS_TOKEN = "sandbox-token-0001"
CHATS = int(os.environ.get("PY_TEST_CHATS", "2000"))
DBT_PROJECT = ROOT / "dbt"
KPI_SCHEMA = "zendesk_chat_kpis"


def _binary(env: str, name: str) -> Path:
    if os.environ.get(env):
        return Path(os.environ[env])
    for profile in ("release", "debug"):
        path = ROOT / "target" / profile / name
        if path.is_file():
            return path
    raise RuntimeError(f"{name} not built: run `cargo build -p {name}` or set {env}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sandbox:
    """A running fake Zendesk Chat API."""

    def __init__(self, proc: subprocess.Popen, url: str):
        self.proc = proc
        self.url = url  # e.g. http://127.0.0.1:41234
        self.base_url = f"{url}/api/v2/chat/"

    def get(self, path: str):
        with urllib.request.urlopen(f"{self.url}{path}", timeout=60) as resp:
            return json.load(resp)

    def config(self) -> dict:
        return {"subdomain": "sandbox", "start_date": START_DATE, "base_url": self.base_url,
                "credentials": {"credentials": "access_token", "access_token": ACCESS_TOKEN}}


@pytest.fixture(scope="session")
def sandbox():
    log = open(SESSION_TMP / "sandbox.err", "wb")
    proc = subprocess.Popen(
        [str(_binary("SANDBOX_BIN", "zendesk-chat-sandbox")), "--port", "0", "--chats", str(CHATS),
         "--max-lifetime-secs", "1800"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
    try:
        line = proc.stdout.readline().decode().strip()  # "listening on http://127.0.0.1:PORT"
        if not line.startswith("listening on http://127.0.0.1:"):
            raise RuntimeError(f"sandbox did not start: {line!r}; see {SESSION_TMP}/sandbox.err")
        yield Sandbox(proc, line.removeprefix("listening on "))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def expected(sandbox) -> dict[str, list[dict]]:
    return {r: sandbox.get(f"/_sandbox/expected/{r}") for r in RESOURCES}


@pytest.fixture(scope="session")
def source(sandbox):
    src = ab.get_source("source-zendesk-chat", config=sandbox.config(),
                        local_executable=_binary("CONNECTOR_BIN", "source-zendesk-chat"),
                        install_if_missing=False)
    src.select_all_streams()
    return src


@pytest.fixture(scope="session")
def duckdb_cache(source):
    cache = DuckDBCache(db_path=SESSION_TMP / "sync.duckdb", schema_name="main",
                        cache_dir=SESSION_TMP / "duckdb-files")
    _sync(source, cache)
    yield cache
    cache.get_sql_engine().dispose()


def _sync(source, cache) -> None:
    """A full sync of every stream; PyAirbyte raises if the connector fails."""
    result = source.read(cache=cache, force_full_refresh=True)
    if result.processed_records == 0:
        raise RuntimeError("the sync processed no records")


class Postgres:
    """A throwaway PostgreSQL cluster on 127.0.0.1, trust auth, owned by a non-root user."""

    def __init__(self):
        bindir = os.environ.get("PG_BIN") or "/usr/lib/postgresql/15/bin"
        self.bin = Path(bindir) if Path(bindir, "pg_ctl").is_file() else None
        # Its own temp dir: the session dir is private to root, the server runs as another user.
        self.dir = Path(tempfile.mkdtemp(prefix="zdchat-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.user = "postgres"

    def _tool(self, name: str) -> str:
        path = self.bin / name if self.bin else shutil.which(name)
        if not path:
            raise RuntimeError(f"{name} not found: install PostgreSQL 15 (apt-get install "
                               f"postgresql-15) or set PG_BIN")
        return str(path)

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if os.geteuid() == 0:  # postgres refuses to run as root
            owner = "postgres" if _user_exists("postgres") else "nobody"
            cmd = ["runuser", "-u", owner, "--", *cmd]
            shutil.chown(self.dir, owner)
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       timeout=120)

    def start(self) -> None:
        self._run(self._tool("initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off"
        self._run(self._tool("pg_ctl"), "-D", str(self.data), "-o", opts, "-l",
                  str(self.dir / "server.log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        if self.data.is_dir():
            self._run(self._tool("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture(scope="session")
def postgres():
    pg = Postgres()
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture(scope="session")
def postgres_cache(source, postgres):
    cache = PostgresCache(host="127.0.0.1", port=postgres.port, username=postgres.user,
                          password="unused-trust-auth", database="postgres", schema_name="zendesk",
                          cache_dir=SESSION_TMP / "pg-files")
    _sync(source, cache)
    yield cache
    cache.get_sql_engine().dispose()


# ---------------------------------------------------------------------------------------------
# dbt on the synced tables


def dbt_bin() -> str:
    path = os.environ.get("DBT_BIN") or str(ROOT / ".venv-dbt" / "bin" / "dbt")
    if not Path(path).is_file():
        raise RuntimeError(f"dbt not found at {path}: run the tests through scripts/py-tests.sh, "
                           f"or set DBT_BIN")
    return path


def run_dbt(name: str, profile: dict, variables: dict, *args: str) -> str:
    """`dbt <args>` on the package with a profile of its own; returns the output, raises with it
    when dbt fails."""
    work = SESSION_TMP / f"dbt-{name}"
    work.mkdir(exist_ok=True)
    (work / "profiles.yml").write_text(json.dumps({"zendesk_chat": {
        "target": "t", "outputs": {"t": profile}}}))
    cmd = [dbt_bin(), *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(work),
           "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
           "--vars", json.dumps(variables)]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({name}):\n{proc.stdout[-8000:]}\n{proc.stderr[-4000:]}")
    return proc.stdout


class Marts:
    """Read access to the built marts."""

    def __init__(self, query, schema: str = KPI_SCHEMA):
        self._query = query
        self.schema = schema

    def rows(self, sql: str) -> list[tuple]:
        return self._query(sql.replace("{s}", self.schema))

    def in_schema(self, schema: str) -> "Marts":
        """The same database, marts built in another schema."""
        return Marts(self._query, schema)

    def table(self, name: str, order_by: str) -> list[dict]:
        return self.dicts(f"SELECT * FROM {{s}}.{name} ORDER BY {order_by}")

    def dicts(self, sql: str) -> list[dict]:
        cols, rows = self._query(sql.replace("{s}", self.schema), with_names=True)
        return [dict(zip(cols, r)) for r in rows]


def duckdb_query(path: Path):
    def query(sql: str, with_names: bool = False):
        con = duckdb.connect(str(path), read_only=True)
        try:
            cur = con.execute(sql)
            rows = [tuple(r) for r in cur.fetchall()]
            return ([d[0] for d in cur.description], rows) if with_names else rows
        finally:
            con.close()
    return query


def duckdb_profile(db: Path, synced: Path) -> dict:
    return {"type": "duckdb", "path": str(db), "schema": KPI_SCHEMA, "threads": 2,
            "attach": [{"path": str(synced), "alias": "synced", "read_only": True}]}


@pytest.fixture(scope="session")
def dbt_duckdb(duckdb_cache):
    """dbt build into its own DuckDB file, reading the PyAirbyte cache attached read-only (the
    `zendesk_chat_database` var names it). PyAirbyte's connections are closed first: DuckDB lets
    one process at a time open a file for writing."""
    duckdb_cache.get_sql_engine().dispose()
    synced = Path(duckdb_cache.db_path)
    db = SESSION_TMP / "kpis.duckdb"
    out = run_dbt("duckdb", duckdb_profile(db, synced), {"zendesk_chat_database": "synced"}, "build")
    return Marts(duckdb_query(db)), out


@pytest.fixture(scope="session")
def dbt_postgres(postgres_cache, postgres):
    profile = {"type": "postgres", "host": "127.0.0.1", "port": postgres.port,
               "user": postgres.user, "password": "unused-trust-auth", "dbname": "postgres",
               "schema": KPI_SCHEMA, "threads": 2}
    out = run_dbt("postgres", profile, {"zendesk_chat_schema": "zendesk"}, "build")

    def query(sql: str, with_names: bool = False):
        con = psycopg2.connect(host="127.0.0.1", port=postgres.port, user=postgres.user,
                               dbname="postgres")
        try:
            cur = con.cursor()
            cur.execute(sql)
            rows = [tuple(r) for r in cur.fetchall()]
            return ([d[0] for d in cur.description], rows) if with_names else rows
        finally:
            con.close()
    return Marts(query), out


@pytest.fixture(params=["duckdb", "postgres"])
def marts(request) -> Marts:
    return request.getfixturevalue(f"dbt_{request.param}")[0]


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("KEEP_PY_TMP") != "1":
        shutil.rmtree(SESSION_TMP, ignore_errors=True)
