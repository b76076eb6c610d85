"""The source server serves the release layout byte for byte and injects the faults tests script."""

from __future__ import annotations

import gzip
import http.client
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devstack.source_server import SourceServer

FILE_PATH = "/yellow/yellow_tripdata_2021-01.csv.gz"


@pytest.fixture
def release(tmp_path: Path) -> Path:
    file = tmp_path / FILE_PATH.lstrip("/")
    file.parent.mkdir(parents=True)
    # Incompressible bytes, so the file spans many chunks.
    file.write_bytes(gzip.compress(os.urandom(300_000), mtime=0))
    return tmp_path


@pytest.fixture
def server(release: Path):
    with SourceServer(release) as running:
        yield running


def get(url: str, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_serves_file_bytes(server: SourceServer, release: Path) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    status, headers, body = get(server.base_url + FILE_PATH)
    expected = (release / FILE_PATH.lstrip("/")).read_bytes()
    assert status == 200
    assert body == expected
    assert headers["Content-Type"] == "application/gzip"
    assert headers["Content-Length"] == str(len(expected))
    assert server.requests == [("GET", FILE_PATH, 200)]


def test_head_and_missing_files(server: SourceServer) -> None:
    request = urllib.request.Request(server.base_url + FILE_PATH, method="HEAD")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200 and response.read() == b""
    assert get(server.base_url + "/yellow/yellow_tripdata_2099-01.csv.gz")[0] == 404
    assert get(server.base_url + "/yellow/")[0] == 404


def test_paths_outside_the_root_are_not_served(server: SourceServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", int(server.base_url.rsplit(":", 1)[1]), timeout=5)
    connection.request("GET", "/../../etc/passwd")
    assert connection.getresponse().status == 404
    connection.close()


def test_fail_then_serve(server: SourceServer) -> None:
    server.fail(FILE_PATH, status=500, times=2)
    url = server.base_url + FILE_PATH
    assert get(url)[0] == 500
    assert get(url)[0] == 500
    assert get(url)[0] == 200
    assert [status for _, _, status in server.requests] == [500, 500, 200]


def test_scripted_faults_queue_up_in_order(server: SourceServer) -> None:
    server.truncate(FILE_PATH, at_byte=10, honest_length=True, times=1)
    server.fail(FILE_PATH, status=503, times=1)
    server.serve_html(FILE_PATH, times=1)
    url = server.base_url + FILE_PATH
    assert len(get(url)[2]) == 10
    assert get(url)[0] == 503
    assert get(url)[2].startswith(b"<!DOCTYPE html>")
    assert len(get(url)[2]) > 10


def test_faults_accept_a_full_url_and_reset(server: SourceServer) -> None:
    url = server.base_url + FILE_PATH
    server.fail(url, status=503, times=5)
    assert get(url)[0] == 503
    server.reset_faults()
    assert get(url)[0] == 200


def test_serve_html(server: SourceServer) -> None:
    server.serve_html(FILE_PATH)
    status, headers, body = get(server.base_url + FILE_PATH)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert body.startswith(b"<!DOCTYPE html>")


def test_truncate_with_full_length_drops_the_connection(server: SourceServer) -> None:
    server.truncate(FILE_PATH, at_byte=100_000)
    with urllib.request.urlopen(server.base_url + FILE_PATH, timeout=5) as response:
        assert int(response.headers["Content-Length"]) > 100_000
        with pytest.raises(http.client.IncompleteRead) as error:
            response.read()
    assert len(error.value.partial) == 100_000


def test_truncate_with_honest_length_is_a_short_file(server: SourceServer, release: Path) -> None:
    server.truncate(FILE_PATH, at_byte=1_000, honest_length=True, times=1)
    status, headers, body = get(server.base_url + FILE_PATH)
    assert status == 200 and headers["Content-Length"] == "1000"
    assert body == (release / FILE_PATH.lstrip("/")).read_bytes()[:1_000]
    with pytest.raises(EOFError):
        gzip.decompress(body)
    assert len(get(server.base_url + FILE_PATH)[2]) > 1_000  # times=1: whole again


def test_delay_makes_clients_time_out(server: SourceServer) -> None:
    server.delay(FILE_PATH, seconds=5.0, times=1)
    started = time.monotonic()
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        get(server.base_url + FILE_PATH, timeout=0.3)
    assert time.monotonic() - started < 4
    # Counted although the client gave up, once the server's thread has got to it.
    deadline = time.monotonic() + 5
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.requests == [("GET", FILE_PATH, 200)]


def test_stop_is_prompt_while_a_request_waits(release: Path) -> None:
    server = SourceServer(release).start()
    server.delay(FILE_PATH, seconds=30)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        get(server.base_url + FILE_PATH, timeout=0.2)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    server.stop()  # idempotent


# --- As CloudFront serves the TLC's files: HEAD, ETag, Last-Modified, byte ranges, 403 for a missing month ---------

TLC_PATH = "/trip-data/yellow_tripdata_2024-01.parquet"


def request(url: str, method: str = "GET", headers: dict | None = None) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method, headers=headers or {}),
                                    timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_head_names_the_files_etag_size_and_date_without_a_body(server, release):
    status, headers, body = request(server.base_url + FILE_PATH, "HEAD")
    assert status == 200 and body == b""
    assert int(headers["Content-Length"]) == (release / FILE_PATH.lstrip("/")).stat().st_size
    assert headers["ETag"].startswith('"') and headers["Last-Modified"].endswith("GMT")
    assert headers["Accept-Ranges"] == "bytes"


def test_a_file_written_again_has_another_etag(server, release):
    _, before, _ = request(server.base_url + FILE_PATH, "HEAD")
    file = release / FILE_PATH.lstrip("/")
    file.write_bytes(file.read_bytes() + b"\0")
    _, after, _ = request(server.base_url + FILE_PATH, "HEAD")
    assert after["ETag"] != before["ETag"]


def test_a_range_is_served_as_206_with_its_bytes(server, release):
    whole = (release / FILE_PATH.lstrip("/")).read_bytes()
    status, headers, body = request(server.base_url + FILE_PATH, headers={"Range": "bytes=100-199"})
    assert (status, body) == (206, whole[100:200])
    assert headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
    status, _, tail = request(server.base_url + FILE_PATH, headers={"Range": "bytes=-8"})
    assert (status, tail) == (206, whole[-8:])


def test_a_missing_file_answers_403_like_cloudfront_when_told(release):
    with SourceServer(release, missing_status=403) as cloudfront:
        assert request(cloudfront.base_url + TLC_PATH, "HEAD")[0] == 403
        file = release / TLC_PATH.lstrip("/")
        file.parent.mkdir(parents=True)
        file.write_bytes(b"PAR1....PAR1")
        assert request(cloudfront.base_url + TLC_PATH, "HEAD")[0] == 200
