"""Column types through PyAirbyte (0.71.3, offline, local executable) into DuckDB: every column
gets one SQL type from the discovered schema, the same as with the certified connector, and the
row counts equal the fake API's data."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from airbyte.caches import DuckDBCache
from sqlalchemy import text

UNTYPED = "Could not determine airbyte type"

# Streams read from one resource of the fake API.
DIRECT = {"accounts": "account", "agents": "agents", "bans": "bans", "departments": "departments",
          "goals": "goals", "roles": "roles", "routing_settings": "routing_settings",
          "shortcuts": "shortcuts", "skills": "skills", "triggers": "triggers",
          "chats": "chats", "agent_timeline": "agent_timeline"}
CHILDREN = {"chat_history": "history", "chat_webpath": "webpath",
            "chat_engagements": "engagements", "chat_conversions": "conversions"}


def _airbyte_logs() -> str:
    root = Path(os.environ["AIRBYTE_LOGGING_ROOT"])
    return "".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


def test_columns_are_typed_like_the_certified_connector(source, expected, capfd, caplog,
                                                          tmp_path):
    cache = DuckDBCache(db_path=tmp_path / "types.duckdb", schema_name="main",
                        cache_dir=tmp_path / "files")
    with caplog.at_level(logging.DEBUG):
        source.read(cache=cache, force_full_refresh=True)
    out, err = capfd.readouterr()
    said = out + err + caplog.text + _airbyte_logs()
    assert said.count(UNTYPED) == 0, [l for l in said.splitlines() if UNTYPED in l][:5]

    engine = cache.get_sql_engine()
    with engine.connect() as c:
        rows = c.execute(text("SELECT table_name, column_name, data_type "
                              "FROM information_schema.columns WHERE table_schema = 'main'"))
        types = {(t, col): d for t, col, d in rows}
        counts = {s: c.execute(text(f"SELECT count(*) FROM {s}")).scalar()
                  for s in [*DIRECT, *CHILDREN]}
    engine.dispose()

    for column, want in {("agents", "id"): "BIGINT", ("agents", "enabled"): "BOOLEAN",
                         ("chats", "missed"): "BOOLEAN", ("chats", "unread"): "BOOLEAN",
                         ("chats", "department_id"): "BIGINT",
                         ("triggers", "definition"): "JSON", ("chats", "session"): "JSON",
                         ("chat_history", "msg_id"): "VARCHAR",
                         ("agent_timeline", "agent_id"): "BIGINT"}.items():
        assert types.get(column) == want, (column, types.get(column))
    for column in [("chats", "update_timestamp"), ("chats", "timestamp"),
                   ("agents", "create_date"), ("agent_timeline", "start_time"),
                   ("chat_history", "timestamp"), ("bans", "created_at")]:
        assert types.get(column, "").startswith("TIMESTAMP"), (column, types.get(column))

    for stream, resource in DIRECT.items():
        assert counts[stream] == len(expected[resource]), stream
    for stream, field in CHILDREN.items():
        want = sum(len(chat.get(field) or []) for chat in expected["chats"])
        assert want > 0 and counts[stream] == want, stream
