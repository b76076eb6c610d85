"""The page "NYC taxi loads": a FastAPI app the plugin mounts on Airflow's api-server at `/nyc-taxi`.

It requires the same login as the rest of the UI (the session's JWT cookie, or a bearer token) and renders plain
HTML and SVG, so it needs no build step: a month × color grid per destination, its gaps, and rows per month.
"""

from __future__ import annotations

import datetime as dt
import html
import threading
import time
from collections.abc import Iterable

from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from nyc_taxi.coverage import BIGQUERY, DESTINATIONS, GCS, POSTGRES, Coverage, release_months, year_totals
from nyc_taxi.months import TAXI_COLORS

URL_PREFIX = "/nyc-taxi"
READ_TIMEOUT_SECONDS = 10
COLOR_STROKES = {"yellow": "#d4a106", "green": "#2f9e44", "fhv": "#5f3dc4"}


app = FastAPI(title="NYC taxi loads", docs_url=None, redoc_url=None, openapi_url=None)


@app.exception_handler(HTTPException)
async def _to_login(request: Request, error: HTTPException):
    """Not signed in: a browser goes to Airflow's login page and comes back here, as with the rest of the UI."""
    if error.status_code in (401, 403) and "text/html" in request.headers.get("accept", ""):
        from airflow.api_fastapi.app import get_auth_manager

        return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)))
    return JSONResponse({"detail": error.detail}, status_code=error.status_code)


@app.get("/", response_class=HTMLResponse)
def loads_page(user=Depends(get_user)) -> str:
    return render_page(read_coverage_cached(), release_months())


@app.get("/coverage.json")
def loads_json(user=Depends(get_user)) -> dict:
    """The same, for scripts: {destination: {"unavailable", "months": {color: {month: rows}}, "gaps"}}."""
    return {
        coverage.destination.name: {
            "unavailable": coverage.unavailable,
            "months": {color: {month: load.rows for (c, month), load in sorted(coverage.loads.items()) if c == color}
                       for color in TAXI_COLORS},
            "failed": sorted(f"{color} {month}" for color, month in coverage.failed_runs),
            "years": [{"color": total.color, "year": total.year, "months_loaded": total.months_loaded,
                       "months_published": total.months_published, "rows_loaded": total.rows,
                       "rows_read": total.rows_read} for total in year_totals(coverage)],
            "gaps": [f"{color} {month}" for color, month in coverage.gaps()],
        }
        for coverage in read_coverage_cached()
    }


_cache_lock = threading.Lock()
_cached: tuple[float, list[Coverage]] | None = None
CACHE_SECONDS = 15


def read_coverage_cached() -> list[Coverage]:
    """`read_coverage()`, at most one at a time and reused for a few seconds: a page reloaded by many users must not
    tie up the api-server's workers or open a connection per reload."""
    global _cached
    with _cache_lock:
        if _cached is None or time.monotonic() - _cached[0] > CACHE_SECONDS:
            _cached = (time.monotonic(), read_coverage())
        return _cached[1]


def read_coverage() -> list[Coverage]:
    """Every destination's coverage, each read through the DAGs' connections, none waiting on another."""
    from nyc_taxi.connections import bigquery_target, gcs_client, postgres_connection
    from nyc_taxi.coverage import behind_gcs, bigquery_loads, gcs_loads, postgres_loads, read_within
    from nyc_taxi.settings import settings_from_airflow

    settings = settings_from_airflow()

    def from_postgres():
        with postgres_connection() as conn:
            return postgres_loads(conn, settings.postgres_schema)

    results = read_within(READ_TIMEOUT_SECONDS, {
        POSTGRES.name: from_postgres,
        GCS.name: lambda: gcs_loads(gcs_client(), settings.gcs_bucket, settings.gcs_prefix),
        BIGQUERY.name: lambda: bigquery_loads(*bigquery_target(settings)),
        "runs": _failed_runs,
    })
    failed = results["runs"] if isinstance(results["runs"], dict) else {}
    runs_unavailable = None if isinstance(results["runs"], dict) else _first_line(results["runs"])
    coverages = []
    for destination in DESTINATIONS:
        result = results[destination.name]
        coverage = Coverage(destination, runs_unavailable=runs_unavailable)
        if isinstance(result, Exception):
            coverage.unavailable = _first_line(result)
        else:
            coverage.loads = result
            if destination is BIGQUERY and not isinstance(results[GCS.name], Exception):
                coverage.behind = behind_gcs(result, results[GCS.name])
        coverage.failed_runs = {(color, month): run_id for (dag_id, month), run_id in failed.items()
                                for color in TAXI_COLORS if dag_id == destination.dag_id(color)}
        coverages.append(coverage)
    return coverages


def _failed_runs() -> dict[tuple[str, str], str]:
    """{(dag id, month): run id} of the monthly DAGs' months whose latest run failed, from Airflow's metadata."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from nyc_taxi.coverage import latest_run_failures
    from nyc_taxi.run_notes import month_label_of_run

    dag_ids = [destination.dag_id(color) for destination in (POSTGRES, GCS) for color in TAXI_COLORS]
    with create_session() as session:
        runs = session.execute(
            select(DagRun.dag_id, DagRun.conf, DagRun.logical_date, DagRun.run_id, DagRun.state)
            .where(DagRun.dag_id.in_(dag_ids)).order_by(DagRun.id)
        ).all()
    return latest_run_failures(
        (dag_id, month_label_of_run(dag_id, conf or {}, logical_date), run_id, str(state))
        for dag_id, conf, logical_date, run_id, state in runs
    )


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:300]


# --- HTML -------------------------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.2rem; color: #1a1a1a; }
h1 { font-size: 1.4rem; margin: 0 0 0.5rem; } h2 { font-size: 1.1rem; margin: 0.8rem 0 0.4rem; }
.destinations { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
table { border-collapse: collapse; font-size: 0.8rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.45rem; text-align: right; vertical-align: top; }
th { background: #f4f4f4; } td.month { text-align: left; font-weight: 600; }
td.loaded { background: #ebfbee; } td.failed { background: #ffe3e3; } td.missing { background: #f8f9fa; color: #999; }
td.behind { background: #fff3bf; }
.small { font-size: 0.7rem; color: #555; white-space: nowrap; } .unavailable { color: #c92a2a; font-weight: 600; }
.gaps { font-size: 0.85rem; margin: 0.2rem 0 0.6rem; max-width: 34rem; }
.legend span { display: inline-block; padding: 0 0.5rem; margin-right: 0.4rem; font-size: 0.85rem; }
"""


def render_page(coverages: list[Coverage], months: list[str]) -> str:
    sections = "".join(_destination_section(coverage, months) for coverage in coverages)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>NYC taxi loads</title>"
        f"<style>{STYLE}</style></head><body><h1>NYC taxi loads</h1>"
        "<p class='legend'><span style='background:#ebfbee'>loaded</span>"
        "<span style='background:#ffe3e3'>latest run failed</span><span style='background:#fff3bf'>BigQuery "
        "behind GCS</span><span style='background:#f8f9fa'>never loaded</span></p>"
        f"{_rows_chart(coverages, months)}<div class='destinations'>{sections}</div></body></html>"
    )


def _destination_section(coverage: Coverage, months: list[str]) -> str:
    name = html.escape(coverage.destination.name)
    if coverage.unavailable:
        return (f"<section><h2 id='{name.lower()}'>{name}</h2><p class='unavailable' data-destination='{name}'>"
                f"{name} is unavailable: {html.escape(coverage.unavailable)}</p></section>")
    header = "".join(f"<th>{color}</th>" for color in TAXI_COLORS)
    body = "".join(
        f"<tr><td class='month'>{month}</td>"
        + "".join(_cell(coverage, color, month) for color in TAXI_COLORS) + "</tr>"
        for month in months
    )
    return (f"<section><h2 id='{name.lower()}'>{name}</h2>{_gaps(coverage, months)}{_years(coverage, months)}"
            f"<table data-destination='{name}'><tr><th>month</th>{header}</tr>{body}</table></section>")


def _years(coverage: Coverage, months: list[str]) -> str:
    """Per year and color: "12 of 12 months, 24,648,499 read" (Postgres), or the rows loaded elsewhere."""
    totals = {(total.year, total.color): total for total in year_totals(coverage, months)}
    rows = []
    for year in sorted({year for year, _ in totals}):
        cells = []
        for color in TAXI_COLORS:
            total = totals[(year, color)]
            complete = "loaded" if total.months_loaded == total.months_published else (
                "missing" if not total.months_loaded else "behind")
            counted = (f"{total.rows_read:,} read, {total.rows:,} loaded" if total.rows_read is not None
                       else f"{total.rows:,} loaded")
            cells.append(f"<td class='{complete}' data-color='{color}' data-year='{year}'>"
                         f"{total.months_loaded} of {total.months_published} months"
                         f"<div class='small'>{counted}</div></td>")
        rows.append(f"<tr><td class='month'>{year}</td>{''.join(cells)}</tr>")
    header = "".join(f"<th>{color}</th>" for color in TAXI_COLORS)
    return (f"<table class='years' data-destination='{coverage.destination.name}'><tr><th>year</th>{header}</tr>"
            f"{''.join(rows)}</table><br>")


def _gaps(coverage: Coverage, months: list[str]) -> str:
    """The months never loaded, as ranges per color, and the months whose latest run failed, linked to it."""
    gaps = set(coverage.gaps(months))
    lines = []
    for color in TAXI_COLORS:
        missing = [month for month in months if (color, month) in gaps and (color, month) not in coverage.failed_runs]
        if missing:
            lines.append(f"{color} {_as_ranges(missing, months)}")
    failed = [f"{color} {month} ({_run_link(coverage.destination.dag_id(color), run_id)})"
              for (color, month), run_id in sorted(coverage.failed_runs.items())]
    text = f"<b>Never loaded:</b> {'; '.join(lines) or 'none'}"
    if coverage.runs_unavailable:
        text += (f"<br><b>Failed runs unknown:</b> Airflow's runs could not be read "
                 f"({html.escape(coverage.runs_unavailable)})")
    if failed:
        text += f"<br><b>Latest run failed:</b> {', '.join(failed)}"
    return f"<p class='gaps' data-destination='{coverage.destination.name}'>{text}</p>"


def _as_ranges(chosen: list[str], months: list[str]) -> str:
    """`2019-01..2020-12, 2021-04` from the chosen months, in the order of `months`."""
    ranges: list[list[str]] = []
    previous = None
    for month in chosen:
        if previous is not None and months.index(month) == months.index(previous) + 1:
            ranges[-1][1] = month
        else:
            ranges.append([month, month])
        previous = month
    return ", ".join(first if first == last else f"{first}..{last}" for first, last in ranges)


def _cell(coverage: Coverage, color: str, month: str) -> str:
    key = (color, month)
    dag_id = coverage.destination.dag_id(color)
    load = coverage.loads.get(key)
    parts, state = [], "missing"
    if load:
        state = "loaded"
        rows = f"{load.rows:,}"
        parts.append(_run_link(dag_id, load.run_id, rows) if load.run_id else _runs_link(dag_id, rows))
        parts += [f"<div class='small'>{html.escape(rule)}: −{count:,}</div>"
                  for rule, count in sorted(load.rows_dropped.items()) if count]
        if load.loaded_at:
            parts.append(f"<div class='small'>{load.loaded_at.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC</div>")
    else:
        parts.append("—")
    if key in coverage.behind:
        state = "behind"
        parts.append("<div class='small'>GCS has a newer write</div>")
    if key in coverage.failed_runs:
        state = "failed"
        parts.append(f"<div class='small'>{_run_link(dag_id, coverage.failed_runs[key], 'latest run failed')}</div>")
    return f"<td class='{state}' data-color='{color}' data-month='{month}'>{''.join(parts)}</td>"


def _run_link(dag_id: str, run_id: str, text: str | None = None) -> str:
    from urllib.parse import quote

    href = f"/dags/{quote(dag_id)}/runs/{quote(run_id, safe='')}"
    return f"<a target='_top' title='{html.escape(run_id)}' href='{html.escape(href)}'>{html.escape(text or run_id)}</a>"


def _runs_link(dag_id: str, text: str) -> str:
    return f"<a target='_top' title='{html.escape(dag_id)} runs' href='/dags/{html.escape(dag_id)}/runs'>{text}</a>"


def _rows_chart(coverages: Iterable[Coverage], months: list[str], width: int = 960, height: int = 200) -> str:
    """Rows per month per color, one line per color and destination (dashed: GCS, dotted: BigQuery)."""
    dashes = {POSTGRES.name: "", GCS.name: "6 4", BIGQUERY.name: "2 3"}
    series = [(coverage.destination.name, color, [coverage.loads.get((color, m)) for m in months])
              for coverage in coverages if not coverage.unavailable for color in TAXI_COLORS]
    top = max((load.rows for _, _, loads in series for load in loads if load), default=0)
    if not top:
        return "<p>No month loaded yet: trigger a DAG, or backfill months, to see rows per month here.</p>"
    left, right, bottom = 70, 40, 24
    x_step = (width - left - right) / max(len(months) - 1, 1)

    def point(index: int, rows: int) -> str:
        return f"{left + index * x_step:.1f},{height - bottom - rows / top * (height - bottom - 10):.1f}"

    marks = []
    for destination, color, loads in series:
        stroke = COLOR_STROKES.get(color, "#333")
        points = " ".join(point(i, load.rows) for i, load in enumerate(loads) if load)
        if points:
            marks.append(f"<polyline fill='none' stroke='{stroke}' stroke-width='2' "
                         f"stroke-dasharray='{dashes[destination]}' points='{points}'/>")
        marks += [f"<circle r='3' fill='{stroke}' cx='{point(i, load.rows).split(',')[0]}' "
                  f"cy='{point(i, load.rows).split(',')[1]}'><title>{html.escape(destination)} {color} {months[i]}: "
                  f"{load.rows:,} rows</title></circle>" for i, load in enumerate(loads) if load]
    labels = "".join(
        f"<text x='{left + i * x_step:.1f}' y='{height - 6}' font-size='10' text-anchor='middle'>{month}</text>"
        for i, month in enumerate(months) if month.endswith("-01") or i == len(months) - 1
    )
    legend = " · ".join(f"<span style='color:{COLOR_STROKES.get(c, '#333')}'>{c}</span>" for c in TAXI_COLORS)
    return (
        f"<h2>Rows per month</h2><p class='small'>{legend}; solid Postgres, dashed GCS, dotted BigQuery</p>"
        f"<svg role='img' aria-label='rows per month per color' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}'>"
        f"<text x='4' y='14' font-size='10'>{top:,}</text><text x='4' y='{height - bottom}' font-size='10'>0</text>"
        f"<line x1='{left}' y1='{height - bottom}' x2='{width - right}' y2='{height - bottom}' stroke='#999'/>"
        f"{''.join(marks)}{labels}</svg>"
    )
