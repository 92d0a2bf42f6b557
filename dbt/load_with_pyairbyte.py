"""Syncs source-zendesk-chat into a DuckDB file with PyAirbyte: the tables the dbt models read by
default (schema `main`, one table per stream). Run it again for an incremental sync: PyAirbyte
keeps the state in the same file.

Usage: python dbt/load_with_pyairbyte.py --config config.json \
           --connector target/release/source-zendesk-chat --db zendesk_chat.duckdb [--full-refresh]
Needs `airbyte` (PyAirbyte; tests/py/requirements.txt pins it). Offline: no registry look-up, no
telemetry (AIRBYTE_OFFLINE_MODE=1, DO_NOT_TRACK=1).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

import airbyte as ab  # noqa: E402  (after the environment above)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, type=Path)
    ap.add_argument("--connector", required=True, type=Path, help="the source-zendesk-chat binary")
    ap.add_argument("--db", required=True, type=Path, help="the DuckDB file to write")
    ap.add_argument("--full-refresh", action="store_true")
    args = ap.parse_args()

    source = ab.get_source("source-zendesk-chat", config=json.loads(args.config.read_text()),
                           local_executable=args.connector.resolve(), install_if_missing=False)
    source.select_all_streams()
    cache = ab.DuckDBCache(db_path=args.db, schema_name="main",
                           cache_dir=args.db.parent / f".{args.db.stem}-files")
    result = source.read(cache=cache, force_full_refresh=args.full_refresh)
    print(f"{result.processed_records:,} records into {args.db} (schema main)")
    cache.get_sql_engine().dispose()


if __name__ == "__main__":
    main()
