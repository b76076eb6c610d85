"""Whether a backfill of the release ended as it must: every month exact against the source's own kept count, one
audit row for each month's last successful load, nothing doubled, no run left queued or running, and GCS and
BigQuery holding what Postgres holds. Each check returns the problems it found, naming color and month; none is
good. The chaos bench and the tests ask the same questions.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

from devstack.release import GeneratedFile


def postgres_month_rows(taxi_dsn: str, schema: str, colors: Iterable[str]) -> dict[tuple[str, str], int]:
    """{(color, YYYY-MM): rows} of what each color's table holds, counted from the rows themselves."""
    from nyc_taxi.postgres import table_name

    counts = {}
    with psycopg.connect(taxi_dsn) as conn:
        for color in colors:
            if conn.execute("SELECT to_regclass(%s)", (f"{schema}.{table_name(color)}",)).fetchone()[0] is None:
                continue
            rows = conn.execute(sql.SQL("SELECT to_char(source_month, 'YYYY-MM'), count(*) FROM {} GROUP BY 1")
                                .format(sql.Identifier(schema, table_name(color)))).fetchall()
            counts.update({(color, month): count for month, count in rows})
    return counts


def inexact_months(expected: dict[tuple[str, str], GeneratedFile], held: dict[tuple[str, str], int],
                   where: str) -> list[str]:
    """The months whose rows in `where` differ from the source's kept count, or that are missing."""
    problems = [f"{where}: {color} {month} holds {held.get((color, month), 0):,} rows, the source keeps "
                f"{file.kept:,}" for (color, month), file in sorted(expected.items())
                if held.get((color, month), 0) != file.kept]
    problems += [f"{where}: {color} {month} holds {rows:,} rows of a month not loaded"
                 for (color, month), rows in sorted(held.items()) if (color, month) not in expected]
    return problems


def audit_problems(taxi_dsn: str, schema: str, metadata_dsn: str,
                   expected: dict[tuple[str, str], GeneratedFile]) -> list[str]:
    """Each month's newest audit row is its last successful run's, with the kept count; no run of a month has two."""
    from nyc_taxi.run_notes import month_label_of_run

    with psycopg.connect(taxi_dsn) as conn:
        audits = conn.execute(sql.SQL(
            "SELECT color, to_char(source_month, 'YYYY-MM'), run_id, rows_loaded FROM {} ORDER BY loaded_at"
        ).format(sql.Identifier(schema, "load_audit"))).fetchall()
    newest = {(color, month): (run_id, rows) for color, month, run_id, rows in audits}
    with psycopg.connect(metadata_dsn) as conn:
        runs = conn.execute("SELECT dag_id, conf, logical_date, run_id FROM dag_run WHERE state = 'success'"
                            " AND dag_id LIKE '%%_taxi_to_postgres' ORDER BY end_date").fetchall()
    last_success = {}
    for dag_id, conf, logical_date, run_id in runs:
        label = month_label_of_run(dag_id, conf or {}, logical_date)
        if label:
            last_success[(dag_id.removesuffix("_taxi_to_postgres"), label)] = run_id
    problems = []
    for key, file in sorted(expected.items()):
        color, month = key
        if key not in newest:
            problems.append(f"audit: no row for {color} {month}")
            continue
        run_id, rows = newest[key]
        if run_id != last_success.get(key):
            problems.append(f"audit: {color} {month}'s newest row is run {run_id}, its last successful run is "
                            f"{last_success.get(key)}")
        if rows != file.kept:
            problems.append(f"audit: {color} {month} records {rows:,} rows loaded, the source keeps {file.kept:,}")
    return problems


def unfinished_runs(metadata_dsn: str) -> list[str]:
    """Runs left queued or running, and task instances not in a final state."""
    with psycopg.connect(metadata_dsn) as conn:
        runs = conn.execute("SELECT dag_id, run_id, state FROM dag_run WHERE state IN ('queued', 'running')"
                            " ORDER BY dag_id, run_id").fetchall()
    return [f"run {dag_id} {run_id} is still {state}" for dag_id, run_id, state in runs]


def failed_runs(metadata_dsn: str) -> list[str]:
    with psycopg.connect(metadata_dsn) as conn:
        runs = conn.execute("SELECT dag_id, run_id FROM dag_run WHERE state = 'failed' ORDER BY dag_id, run_id")
        return [f"run {dag_id} {run_id} failed" for dag_id, run_id in runs.fetchall()]
