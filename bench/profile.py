"""Where our way's time goes: `./dev bench --profile` runs this in a process of its own.

Runs `ways.ours` under cProfile and adds up the calls that make each step (all of them run on the main thread;
pyarrow's own threads work inside the calls that wait for them; the cleaning runs inside the load, which pulls its
batches). Then times the server's side of the COPY
alone: the same cleaned rows, rendered beforehand, sent from memory as CSV and as binary.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import pstats
import time
from pathlib import Path

import bench  # noqa: F401  (puts plugins/ on sys.path)


def parts() -> list[tuple[str, object]]:
    """(step, function): the step's seconds are the function's cumulative seconds."""
    import psycopg

    from nyc_taxi import postgres, source, transform

    return [
        ("download: whole step", source.download_month_file),
        ("download: gzip check (inflate)", source.GzipChecker.feed),
        ("clean+load: whole step (replace_month)", postgres.replace_month),
        ("clean: CSV read+parse (Arrow, inflates gzip)", transform.read_source_batches),
        ("clean:   of which integer checks + casts", transform._as_integers),
        ("clean: filters + pickup date", transform.clean_batch),
        ("clean:   of which pyarrow importing pandas (1st scalar)", "pandas"),
        ("load: binary COPY encoding (pgpq)", "pgpq_encode"),
        ("load: COPY write (blocks while the server is behind)", psycopg.Copy.write),
        ("load: COPY end (the server finishes)", psycopg.Copy.__exit__),
    ]


def cumulative_seconds(stats: pstats.Stats, function) -> float:
    """A function's cumulative seconds; for a module name, the seconds its import took."""
    if function == "pgpq_encode":
        return sum(entry[3] for key, entry in stats.stats.items()
                   if "ArrowToPostgresBinaryEncoder" in key[2] or key[2].endswith("'write_batch' of 'pgpq"))
    if isinstance(function, str):
        key = (importlib.util.find_spec(function).origin, 1, "<module>")
    else:
        code = function.__code__
        key = (code.co_filename, code.co_firstlineno, code.co_name)
    entry = stats.stats.get(key)
    return entry[3] if entry else 0.0


def measured_apart(dsn: str, cleaned_path: Path) -> dict[str, float]:
    """Reading the staging file, encoding it as CSV and as binary COPY, and COPYing the cleaned month from memory
    into a scratch table: what the server alone needs, per format."""
    import pgpq
    import psycopg
    import pyarrow.csv as pa_csv
    from psycopg import sql

    from nyc_taxi.transform import cleaned_batches

    seconds = {}
    started = time.monotonic()
    batches = list(cleaned_batches(cleaned_path))
    seconds["the cleaned month read back from Arrow IPC"] = time.monotonic() - started
    encoder = pgpq.ArrowToPostgresBinaryEncoder(batches[0].schema)
    rendered = {"csv": [], "binary": [encoder.write_header()]}
    started = time.monotonic()
    for batch in batches:
        buffer = io.BytesIO()
        pa_csv.write_csv(batch, buffer, pa_csv.WriteOptions(include_header=False))
        rendered["csv"].append(buffer.getvalue())
    seconds["load: write_csv"] = time.monotonic() - started
    started = time.monotonic()
    for batch in batches:
        rendered["binary"].append(encoder.write_batch(batch))
    rendered["binary"].append(encoder.finish())
    seconds["load: binary encoding (pgpq)"] = time.monotonic() - started
    del batches
    with psycopg.connect(dsn, autocommit=True) as conn:
        for copy_format, chunks in rendered.items():
            conn.execute("DROP TABLE IF EXISTS bench.copy_scratch")
            conn.execute("CREATE TABLE bench.copy_scratch (LIKE ny_taxi.yellow_tripdata)")
            conn.execute("ALTER TABLE bench.copy_scratch DROP COLUMN source_month")
            started = time.monotonic()
            with conn.cursor().copy(sql.SQL("COPY bench.copy_scratch FROM STDIN (FORMAT {})").format(
                sql.SQL(copy_format))) as copy:
                for chunk in chunks:
                    copy.write(chunk)
            seconds[f"server: COPY {copy_format} from memory ({sum(map(len, chunks)) / 1e6:.0f} MB)"] = (
                time.monotonic() - started)
        conn.execute("DROP TABLE bench.copy_scratch")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--month", default="2021-01")
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="the cProfile stats file to write")
    args = parser.parse_args(argv)
    args.source_root = None

    from bench.ways import ours  # imported before profiling: imports are not the steps

    profiler = cProfile.Profile()
    started = time.monotonic()
    profiler.runcall(ours, args)
    wall = time.monotonic() - started
    profiler.dump_stats(args.out)
    stats = pstats.Stats(str(args.out))
    print(f"ours, {args.month}, under cProfile: {wall:.2f} s (profiling adds a little)")
    for label, function in parts():
        print(f"  {label:<62} {cumulative_seconds(stats, function):6.2f} s")

    # The staging files are gone with the run: make the cleaned month again for the server-side timing.
    from nyc_taxi.transform import transform_month_file
    from nyc_taxi.source import download_month_file
    from nyc_taxi.months import TaxiMonth

    month = TaxiMonth.parse("yellow", args.month)
    scratch = args.work_dir / "profile"
    download = download_month_file(month.source_url(args.base_url), scratch / month.file_name)
    cleaned_path = scratch / "cleaned.arrow"
    transform_month_file(download.path, month.color, cleaned_path)
    print("\nMeasured apart, on the same cleaned month:")
    for label, seconds in measured_apart(args.dsn, cleaned_path).items():
        print(f"  {label:<62} {seconds:6.2f} s")
    download.path.unlink()
    cleaned_path.unlink()

    print("\nTop 12 functions by own time:")
    stats.sort_stats("tottime").print_stats(12)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
