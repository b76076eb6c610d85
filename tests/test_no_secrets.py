"""Nothing committed holds a private key or a credential for anything but this machine."""

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|\"private_key\"\s*:")
CREDENTIALS_IN_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@'\"\\]+:([^\s@'\"\\]+)@([^\s:/'\"]+)")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "ny-taxi-db", "airflow-db"}  # the last two: docker-compose services
THIS_FILE = Path(__file__).resolve()


def tracked_text_files():
    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for name in names:
        path = REPO / name
        if path.resolve() == THIS_FILE or not path.is_file():
            continue
        try:
            yield name, path.read_text()
        except UnicodeDecodeError:
            continue


def test_no_private_key_is_committed():
    assert [name for name, text in tracked_text_files() if PRIVATE_KEY.search(text)] == []


def test_committed_credentials_are_for_local_hosts_only():
    remote = [
        f"{name}: {match.group(0)}"
        for name, text in tracked_text_files()
        for match in CREDENTIALS_IN_URL.finditer(text)
        if match.group(2) not in LOCAL_HOSTS and "{" not in match.group(0)
    ]
    assert remote == []
