import pytest

from devstack.synthetic_month import release_path, write_month
from nyc_taxi.months import TaxiMonth
from nyc_taxi.source import MonthNotPublished, SourceError, download_month_file, http_session

MONTH = TaxiMonth("green", 2020, 2)


@pytest.fixture(scope="module")
def published(source_server):
    """A small month on the source server, and its bytes."""
    path = write_month(release_path(source_server.root, MONTH.color, MONTH.year, MONTH.month),
                       MONTH.color, MONTH.year, MONTH.month, rows=20_000)
    return path.read_bytes()


@pytest.fixture
def url(source, published):
    return MONTH.source_url(source.base_url)


def fast_retries():
    return http_session(retries=3, backoff_seconds=0.01)


def requests_for(source, url, since: int):
    """The answers to requests for `url` after the first `since` of the session (its log spans every test)."""
    return [status for _, path, status in source.requests[since:] if url.endswith(path)]


def test_a_month_downloads_whole(url, published, tmp_path):
    download = download_month_file(url, tmp_path / "month.csv.gz")
    assert download.path.read_bytes() == published
    assert download.bytes_downloaded == len(published)


def test_an_unpublished_month_is_named_and_not_retried(source, tmp_path):
    url = TaxiMonth("yellow", 2021, 9).source_url(source.base_url)
    requests_before = len(source.requests)
    with pytest.raises(MonthNotPublished, match=r"HTTP 404 for .*yellow_tripdata_2021-09.csv.gz: the month is not published"):
        download_month_file(url, tmp_path / "month.csv.gz", session=fast_retries())
    assert requests_for(source, url, since=requests_before) == [404]


def test_server_errors_are_retried_with_backoff(source, url, published, tmp_path):
    source.fail(url, status=500, times=2)
    requests_before = len(source.requests)
    download = download_month_file(url, tmp_path / "month.csv.gz", session=fast_retries())
    assert download.path.read_bytes() == published
    assert requests_for(source, url, since=requests_before) == [500, 500, 200]


def test_a_slow_answer_is_retried(source, url, published, tmp_path):
    # The timeout also bounds every read of the retry that succeeds: 2 s leaves a loaded machine room for it.
    source.delay(url, seconds=4, times=1)
    download = download_month_file(url, tmp_path / "month.csv.gz", session=fast_retries(), timeout_seconds=2)
    assert download.path.read_bytes() == published


def test_an_html_page_is_not_taken_for_data(source, url, tmp_path):
    source.serve_html(url)
    with pytest.raises(SourceError, match="green_tripdata_2020-02.csv.gz is not a gzip CSV: it starts with b'<"):
        download_month_file(url, tmp_path / "month.csv.gz")
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_file_names_the_byte_it_ends_at(source, url, tmp_path):
    source.truncate(url, at_byte=50_000, honest_length=True)
    with pytest.raises(SourceError, match="is truncated gzip: the stream ends at byte 50,000"):
        download_month_file(url, tmp_path / "month.csv.gz")
    assert list(tmp_path.iterdir()) == []


def test_a_dropped_connection_says_how_far_it_got(source, url, tmp_path):
    source.truncate(url, at_byte=50_000)
    with pytest.raises(SourceError, match="broke off after"):
        download_month_file(url, tmp_path / "month.csv.gz", session=fast_retries())
    assert list(tmp_path.iterdir()) == []


def test_a_source_that_never_answers_in_time_is_named(source, url, tmp_path):
    source.delay(url, seconds=1.0, times=4)
    with pytest.raises(SourceError, match="green_tripdata_2020-02.csv.gz could not be fetched"):
        download_month_file(url, tmp_path / "month.csv.gz", session=http_session(retries=1, backoff_seconds=0.01),
                            timeout_seconds=0.3)


def test_a_full_staging_disk_fails_the_download_naming_the_month_and_leaves_nothing(url, published, tmp_path):
    from devstack.faults import StagingDisk

    with StagingDisk(tmp_path / "staging", size_mb=1) as disk:
        disk.fill()
        with pytest.raises(SourceError, match=r"green_tripdata_2020-02.csv.gz could not be staged .* No space left"):
            download_month_file(url, disk.folder / MONTH.file_name, session=fast_retries())
        assert [path.name for path in disk.folder.iterdir()] == [disk.ballast.name]
