"""Serve a directory over HTTP on 127.0.0.1 (or another local address) in the release's URL layout
(`/<color>/<file>`) or the TLC's (`/trip-data/<file>`), with per-path fault injection (errors, HTML pages, truncated
bodies, delays) for tests.

As CloudFront does for the TLC's files, it answers HEAD, gives each file an ETag and a Last-Modified (an ETag
changes when the file is written again: a re-published month) and serves byte ranges (`Range: bytes=N-M`, 206).
A missing file is a 404, or with `missing_status=403` a 403, which is what CloudFront answers for a month the TLC
has not published."""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import mimetypes
import re
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

CHUNK_BYTES = 64 * 1024
HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n"
    b"<body><p>This page is not the file you asked for.</p></body></html>\n"
)


@dataclass
class _Fault:
    kind: str  # "fail", "html", "truncate" or "delay"
    remaining: int | None  # None: every request until reset_faults()
    status: int = 500
    at_byte: int = 0
    honest_length: bool = False
    seconds: float = 0.0


class SourceServer:
    """`root/<color>/<file>` served at `{base_url}/<color>/<file>`; faults are scripted per URL path."""

    def __init__(self, root: Path, port: int = 0, host: str = "127.0.0.1", missing_status: int = 404) -> None:
        self.root = Path(root).resolve()
        self.port = port
        # Containers reach the host at its address on their bridge, not at 127.0.0.1 (devstack.compose_check).
        self.host = host
        # What a file that is not there answers: 404, or 403 as the TLC's CloudFront does (settable while running).
        self.missing_status = missing_status
        self.requests: list[tuple[str, str, int]] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> SourceServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = ThreadingHTTPServer((self.host, self.port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="source-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()  # wakes handlers sleeping in a delay
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = None
        self._thread = None

    def __enter__(self) -> SourceServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # Fault injection. `path` is the URL path (`/yellow/yellow_tripdata_2021-01.csv.gz`) or a full URL.
    # Faults on a path apply in the order scripted; a delay combines with whichever answer comes next.

    def fail(self, path: str, status: int = 500, times: int = 1) -> None:
        """Answer `status` for the next `times` requests of `path`, then serve it normally."""
        self._add(path, _Fault("fail", times, status=status))

    def serve_html(self, path: str, times: int | None = None) -> None:
        """Answer 200 with an HTML page instead of the file (every time unless `times` is given)."""
        self._add(path, _Fault("html", times))

    def truncate(self, path: str, at_byte: int, honest_length: bool = False, times: int | None = None) -> None:
        """Send only the first `at_byte` bytes of the file, then close the connection.

        By default the Content-Length announces the whole file, like a dropped connection; with
        `honest_length=True` it matches the short body, like a file that really is truncated.
        """
        self._add(path, _Fault("truncate", times, at_byte=at_byte, honest_length=honest_length))

    def delay(self, path: str, seconds: float, times: int | None = None) -> None:
        """Sleep `seconds` before answering requests of `path`."""
        self._add(path, _Fault("delay", times, seconds=seconds))

    def reset_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _add(self, path: str, fault: _Fault) -> None:
        with self._lock:
            self._faults.setdefault(_url_path(path), []).append(fault)

    def _take_faults(self, path: str) -> list[_Fault]:
        """The faults this request gets, each used up once: the first pending delay, plus the first
        pending fail/html/truncate in the order they were scripted (so scripted faults queue up)."""
        with self._lock:
            pending = [f for f in self._faults.get(path, []) if f.remaining is None or f.remaining > 0]
            delays = [f for f in pending if f.kind == "delay"][:1]
            answers = [f for f in pending if f.kind != "delay"][:1]
            for fault in delays + answers:
                if fault.remaining is not None:
                    fault.remaining -= 1
            return delays + answers

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, status))


def _url_path(path_or_url: str) -> str:
    path = urlsplit(path_or_url).path if "://" in path_or_url else path_or_url.split("?", 1)[0]
    return "/" + unquote(path).lstrip("/")


def _make_handler(server: SourceServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._answer(send_body=True)

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

        def _answer(self, send_body: bool) -> None:
            path = _url_path(self.path)
            faults = {fault.kind: fault for fault in server._take_faults(path)}
            file = self._resolve(path)
            if "fail" in faults:
                status = faults["fail"].status
            else:
                status = 200 if "html" in faults or file is not None else server.missing_status
            # Recorded on arrival, so a test can count the requests whose client timed out during a delay.
            server._record(self.command, path, status)
            try:
                if "delay" in faults and server._stopping.wait(faults["delay"].seconds):
                    self.close_connection = True
                    return
                if "fail" in faults:
                    self._send_small(status, f"injected failure {status}\n".encode(), "text/plain", send_body)
                elif "html" in faults:
                    self._send_small(200, HTML_PAGE, "text/html; charset=utf-8", send_body)
                elif file is None:
                    self._send_small(server.missing_status, b"not found\n", "text/plain", send_body)
                else:
                    self._send_file(file, send_body, faults.get("truncate"))
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (a timeout in a test); nothing left to answer.
                self.close_connection = True

        def _resolve(self, path: str) -> Path | None:
            file = (server.root / path.lstrip("/")).resolve()
            if not file.is_relative_to(server.root) or not file.is_file():
                return None
            return file

        def _send_small(self, status: int, body: bytes, content_type: str, send_body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def _send_file(self, file: Path, send_body: bool, truncate: _Fault | None) -> None:
            stat = file.stat()
            size = stat.st_size
            first, last = _byte_range(self.headers.get("Range"), size)
            length = last - first + 1 if size else 0
            body_bytes = length if truncate is None else min(truncate.at_byte, length)
            announced = body_bytes if truncate is not None and truncate.honest_length else length
            partial = (first, last) != (0, size - 1) and size > 0
            self.send_response(206 if partial else 200)
            self.send_header("Content-Type", _content_type(file))
            self.send_header("Content-Length", str(announced))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", etag_of(file))
            self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
            if partial:
                self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            if truncate is not None:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if not send_body:
                return
            with open(file, "rb") as source:
                source.seek(first)
                left = body_bytes
                while left > 0:
                    chunk = source.read(min(CHUNK_BYTES, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)

    return Handler


def etag_of(file: Path) -> str:
    """A strong ETag that changes when the file is written again (S3's is an MD5 of the content; this one is of
    the size and modification time, so a big file needs no reading)."""
    stat = file.stat()
    return '"' + hashlib.md5(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest() + '"'


_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


def _byte_range(header: str | None, size: int) -> tuple[int, int]:
    """The first and last byte a `Range: bytes=N-M` (or `N-`, or `-K`: the last K) asks for; the whole file when
    there is none or it cannot be served."""
    whole = (0, size - 1)
    matched = _RANGE.match(header.strip()) if header else None
    if not matched or not size or matched.groups() == ("", ""):
        return whole
    start, end = matched.groups()
    if start == "":
        return max(0, size - int(end)), size - 1
    first = int(start)
    last = min(int(end), size - 1) if end else size - 1
    return (first, last) if first <= last else whole


def _content_type(file: Path) -> str:
    if file.name.endswith(".gz"):
        return "application/gzip"
    if file.name.endswith(".parquet"):
        return "binary/octet-stream"  # as S3 stores the TLC's files
    return mimetypes.guess_type(file.name)[0] or "application/octet-stream"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, required=True, help="directory holding <color>/<file>")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    server = SourceServer(args.root, args.port).start()
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
