"""Download a month's file to a staging file, streamed and retried: the release's `.csv.gz`, checked to be whole
gzip, or a TLC `.parquet`, checked to be whole Parquet (its magic at both ends, the length the server announced).
What the server says of the file (ETag, Last-Modified, size) is kept: it tells a re-published month."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from isal import isal_zlib
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"


PARQUET_MAGIC = b"PAR1"
# Answers that mean "no such file (yet)": the release's GitHub answers 404; the TLC's CloudFront, in front of S3,
# answers 403 for a month not published yet (seen for fhv 2026-08 in October 2026, docs/parquet-eras.md).
NOT_PUBLISHED_STATUSES = (403, 404)


class SourceError(RuntimeError):
    """The source did not give us a whole file for the month."""


class MonthNotPublished(SourceError):
    """The source has no file for the month (HTTP 404, or 403 from the TLC): retrying now will not help."""


@dataclass(frozen=True)
class Download:
    path: Path  # or the staging ObjectStoragePath it was written to
    url: str
    bytes_downloaded: int
    seconds: float
    etag: str | None = None
    last_modified: str | None = None


def http_session(retries: int = 4, backoff_seconds: float = 1.0) -> requests.Session:
    """A session that retries connection errors and 429/5xx answers with exponential backoff."""
    retry = Retry(
        total=retries,
        backoff_factor=backoff_seconds,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=("GET",),
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


def download_month_file(
    url: str,
    destination,
    *,
    session: requests.Session | None = None,
    timeout_seconds: float = 60.0,
) -> Download:
    """Stream `url` into `destination` (a `Path`, or a staging `ObjectStoragePath`), verifying on the way that the
    body is one whole gzip stream.

    The file appears at `destination` only once complete and verified, so a failed download leaves nothing behind.
    """
    from nyc_taxi.staging import open_output

    session = session or http_session()
    started = time.monotonic()
    try:
        response = session.get(url, stream=True, timeout=(10, timeout_seconds))
    except requests.exceptions.RequestException as error:
        raise SourceError(f"{url} could not be fetched: {error}") from error
    with response:
        if response.status_code in NOT_PUBLISHED_STATUSES:
            raise MonthNotPublished(f"HTTP {response.status_code} for {url}: the month is not published")
        if response.status_code != 200:
            raise SourceError(f"{url} answered HTTP {response.status_code} {response.reason}")
        announced = response.headers.get("Content-Length")
        checker = ParquetChecker(url, int(announced) if announced else None) if url.endswith(".parquet") \
            else GzipChecker(url)
        with open_output(destination) as out:
            try:
                for chunk in response.iter_content(CHUNK_BYTES):
                    checker.feed(chunk)
                    out.write(chunk)
            except requests.exceptions.RequestException as error:
                raise SourceError(
                    f"download of {url} broke off after {checker.compressed_bytes:,} bytes: {error}"
                ) from error
            except OSError as error:  # the staging disk: full, gone, read-only
                raise SourceError(f"download of {url} could not be staged at {destination} after "
                                  f"{checker.compressed_bytes:,} bytes: {error.strerror or error}") from error
            checker.finish()
    seconds = time.monotonic() - started
    log.info(
        "downloaded %s: %s bytes (%s uncompressed) in %.1f s",
        url, f"{checker.compressed_bytes:,}", f"{checker.uncompressed_bytes:,}" if checker.uncompressed_bytes
        else "not", seconds,
    )
    return Download(destination, url, checker.compressed_bytes, seconds,
                    etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"))


class GzipChecker:
    """Inflates a byte stream as it arrives, only to prove it is gzip and whole; names the byte where it is not."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.compressed_bytes = 0
        self.uncompressed_bytes = 0
        self._head = b""
        self._members_done = 0
        self._new_member()

    def _new_member(self) -> None:
        # ISA-L's inflate, zlib's API: 0.25 s against zlib's 0.54 s for a yellow month, 1.4 s against 5.7 s for FHV
        # 2019-01 (bench/README.md); the check is most of the download's time.
        self._inflater = isal_zlib.decompressobj(wbits=16 + isal_zlib.MAX_WBITS)
        self._member_bytes = 0

    def feed(self, chunk: bytes) -> None:
        if len(self._head) < len(GZIP_MAGIC):
            self._head = (self._head + chunk)[: len(GZIP_MAGIC)]
            if not GZIP_MAGIC.startswith(self._head):
                raise SourceError(f"{self.name} is not a gzip CSV: it starts with {chunk[:60]!r}")
        offset = self.compressed_bytes
        self.compressed_bytes += len(chunk)
        data = chunk
        while data:
            self._member_bytes += len(data)
            try:
                self.uncompressed_bytes += len(self._inflater.decompress(data))
            except isal_zlib.error as error:
                raise SourceError(
                    f"{self.name} is corrupt gzip in the chunk at byte offset {offset:,}: {error}"
                ) from error
            if not self._inflater.eof:
                break
            # A gzip file may hold several members back to back; each starts afresh.
            self._members_done += 1
            data = self._inflater.unused_data
            self._new_member()

    def finish(self) -> None:
        """Raise unless the stream ended exactly at the end of a gzip member."""
        if self.compressed_bytes < len(GZIP_MAGIC) or self._head != GZIP_MAGIC:
            raise SourceError(f"{self.name} is not a gzip CSV: only {self.compressed_bytes} bytes")
        if self._members_done == 0 or self._member_bytes:
            raise SourceError(
                f"{self.name} is truncated gzip: the stream ends at byte {self.compressed_bytes:,} "
                f"inside its compressed data ({self.uncompressed_bytes:,} bytes inflated by then)"
            )


class ParquetChecker:
    """Proves a byte stream is one whole Parquet file as it arrives: `PAR1` first and last, and as long as the
    server said. Nothing is decoded: the footer is read again when the file is."""

    def __init__(self, name: str, announced_bytes: int | None) -> None:
        self.name = name
        self.announced_bytes = announced_bytes
        self.compressed_bytes = 0
        self.uncompressed_bytes = 0
        self._head = b""
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        if len(self._head) < len(PARQUET_MAGIC):
            self._head = (self._head + chunk)[: len(PARQUET_MAGIC)]
            if not PARQUET_MAGIC.startswith(self._head):
                raise SourceError(f"{self.name} is not a Parquet file: it starts with {chunk[:60]!r}")
        self._tail = (self._tail + chunk)[-len(PARQUET_MAGIC):]
        self.compressed_bytes += len(chunk)

    def finish(self) -> None:
        if self._head != PARQUET_MAGIC:
            raise SourceError(f"{self.name} is not a Parquet file: only {self.compressed_bytes} bytes")
        if self.announced_bytes is not None and self.compressed_bytes != self.announced_bytes:
            raise SourceError(f"{self.name} is truncated: {self.compressed_bytes:,} of the {self.announced_bytes:,} "
                              f"bytes announced")
        if self._tail != PARQUET_MAGIC or self.compressed_bytes < 2 * len(PARQUET_MAGIC) + 4:
            raise SourceError(f"{self.name} is truncated Parquet: it ends at byte {self.compressed_bytes:,} without "
                              f"the footer's magic")
