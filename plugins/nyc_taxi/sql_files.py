"""The project's SQL, read from `include/sql` and composed with driver-quoted identifiers and literals."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

from psycopg import sql

SQL_DIR = Path(os.environ.get("NYC_TAXI_SQL_DIR", Path(__file__).resolve().parents[2] / "include" / "sql"))
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@cache
def sql_text(name: str) -> str:
    """`include/sql/<name>.sql`, e.g. `sql_text("bigquery/replace_month")`."""
    return (SQL_DIR / f"{name}.sql").read_text()


def valid_identifier(name: str) -> str:
    """Names from configuration must be plain lower-case identifiers; quoting makes them safe, this makes them sane."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a valid schema or table name: {name!r} (expected [a-z_][a-z0-9_]*, at most 63 chars)")
    return name


def statement(name: str, **parts: sql.Composable | str) -> sql.Composed:
    """`include/sql/<name>.sql` with each `{part}` filled in; plain strings become quoted identifiers."""
    filled = {
        key: value if isinstance(value, sql.Composable) else sql.Identifier(valid_identifier(value))
        for key, value in parts.items()
    }
    return sql.SQL(sql_text(name)).format(**filled)
