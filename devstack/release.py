"""The whole release at its real size: each file's row count, with where it was read (`release_counts.csv`), and the
months generated from it once, reproducibly from a seed, with the trips the pipeline's rules keep counted as they
are written, so a load can be checked against the source's own count.

Generated months are kept in `root` beside `release.json`, which records each file's rows, kept trips, bytes and
seed: a second run generates only what is missing or was asked for at another size or seed.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

COUNTS_FILE = Path(__file__).with_name("release_counts.csv")
MANIFEST = "release.json"
# Bumped when synthetic_month writes other bytes for the same rows and seed: every cached file is then rewritten.
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class ReleaseFile:
    """One file of the release: `<color>/<color>_tripdata_<month>.csv.gz`, its real row count and where that was
    read (a URL or a repository's file; `estimate: ...` where no count was found)."""

    color: str
    month: str  # YYYY-MM
    rows: int
    source: str

    @property
    def estimated(self) -> bool:
        return self.source.startswith("estimate")


@dataclass(frozen=True)
class GeneratedFile:
    """A generated stand-in for a release file, as `release.json` records it."""

    color: str
    month: str
    rows: int
    kept: int  # the trips the pipeline's rules keep: what a load of the month must hold
    bytes: int
    seed: int
    generator: int = GENERATOR_VERSION

    @property
    def key(self) -> tuple[str, str]:
        return self.color, self.month


def release_files(colors: Iterable[str] | None = None, first: str | None = None,
                  last: str | None = None) -> list[ReleaseFile]:
    """The release's files from `release_counts.csv`, in its order, narrowed to `colors` and months
    `first`..`last` (YYYY-MM, inclusive)."""
    with open(COUNTS_FILE, newline="") as counts:
        files = [ReleaseFile(row["color"], row["month"], int(row["rows"]), row["source"])
                 for row in csv.DictReader(counts)]
    return [file for file in files
            if (colors is None or file.color in colors)
            and (first is None or file.month >= first) and (last is None or file.month <= last)]


def real_rows(color: str, month: str) -> int | None:
    """The row count of the real file, or None if the release has no such file."""
    return next((file.rows for file in release_files([color], month, month)), None)


def scaled_rows(file: ReleaseFile, fraction: float) -> int:
    """The rows a stand-in at `fraction` of the real size gets: at least one."""
    return max(1, round(file.rows * fraction))


def generate_release(root: Path, files: list[ReleaseFile], fraction: float = 1.0, seed: int = 0,
                     workers: int = os.cpu_count() or 1,
                     progress: Callable[[str], None] = print) -> dict[tuple[str, str], GeneratedFile]:
    """Generate the files at `fraction` of their real rows under `root` in the release's layout, in `workers`
    processes, the largest first; reuse those `release.json` already records at that size and seed. Returns
    {(color, month): GeneratedFile} of `files`."""
    from devstack.synthetic_month import release_path

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(root)
    wanted = {}
    for file in files:
        rows = scaled_rows(file, fraction)
        known = manifest.get((file.color, file.month))
        path = release_path(root, file.color, *map(int, file.month.split("-")))
        if not (known and (known.rows, known.seed, known.generator) == (rows, seed, GENERATOR_VERSION)
                and path.exists() and path.stat().st_size == known.bytes):
            wanted[(file.color, file.month)] = rows
    if wanted:
        total = sum(wanted.values())
        progress(f"==> generating {len(wanted)} release files ({total:,} trips) in {root}, {workers} at a time")
        with ProcessPoolExecutor(workers) as pool:
            futures = [pool.submit(_generate, str(root), color, month, rows, seed)
                       for (color, month), rows in sorted(wanted.items(), key=lambda item: -item[1])]
            for done in as_completed(futures):
                generated = done.result()
                manifest[generated.key] = generated
                _write_manifest(root, manifest)  # each file as it lands: an interrupted run keeps what it made
                progress(f"    {generated.color} {generated.month}: {generated.rows:,} trips, "
                         f"{generated.bytes / 1e6:,.0f} MB")
    return {(file.color, file.month): manifest[(file.color, file.month)] for file in files}


def _generate(root: str, color: str, month: str, rows: int, seed: int) -> GeneratedFile:
    from devstack.synthetic_month import generate_month, release_path

    year, number = map(int, month.split("-"))
    written = generate_month(release_path(Path(root), color, year, number), color, year, number, rows, seed)
    return GeneratedFile(color, month, written.rows, written.kept, written.path.stat().st_size, seed)


def _read_manifest(root: Path) -> dict[tuple[str, str], GeneratedFile]:
    path = root / MANIFEST
    if not path.exists():
        return {}
    entries = [GeneratedFile(**entry) for entry in json.loads(path.read_text())]
    return {entry.key: entry for entry in entries}


def _write_manifest(root: Path, manifest: dict[tuple[str, str], GeneratedFile]) -> None:
    partial = root / (MANIFEST + ".partial")
    partial.write_text(json.dumps([asdict(entry) for _, entry in sorted(manifest.items())], indent=1) + "\n")
    os.replace(partial, root / MANIFEST)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="where to keep the generated release")
    parser.add_argument("--fraction", type=float, default=1.0, help="of each file's real rows (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--color", action="append", help="default: every color")
    args = parser.parse_args(argv)
    generated = generate_release(args.out, release_files(args.color), args.fraction, args.seed)
    print(f"{len(generated)} files, {sum(file.rows for file in generated.values()):,} trips, "
          f"{sum(file.bytes for file in generated.values()) / 1e9:.2f} GB in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
