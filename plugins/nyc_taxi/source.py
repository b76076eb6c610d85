"""Download a month's `.csv.gz` from the release to a staging file, streamed, retried, and checked to be whole gzip."""

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


class SourceError(RuntimeError):
    """The source did not give us a whole gzip CSV for the month."""


class MonthNotPublished(SourceError):
    """The release has no file for the month (HTTP 404): retrying will not help."""


@dataclass(frozen=True)
class Download:
    path: Path  # or the staging ObjectStoragePath it was written to
    url: str
    bytes_downloaded: int
    seconds: float


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
        if response.status_code == 404:
            raise MonthNotPublished(f"HTTP 404 for {url}: the month is not published")
        if response.status_code != 200:
            raise SourceError(f"{url} answered HTTP {response.status_code} {response.reason}")
        checker = GzipChecker(url)
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
        url, f"{checker.compressed_bytes:,}", f"{checker.uncompressed_bytes:,}", seconds,
    )
    return Download(destination, url, checker.compressed_bytes, seconds)


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
