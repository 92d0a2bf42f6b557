"""KPI queries (analytics/*.sql) on a sandbox sync loaded through PyAirbyte."""


def _scalar(cache, sql: str):
    with cache.get_sql_engine().connect() as conn:
        return conn.exec_driver_sql(sql).scalar()


def test_every_chat_reaches_duckdb(duckdb_cache, expected):
    assert _scalar(duckdb_cache, "select count(*) from main.chats") == len(expected["chats"])


def test_every_chat_reaches_postgres(postgres_cache, expected):
    assert _scalar(postgres_cache, "select count(*) from zendesk.chats") == len(expected["chats"])
