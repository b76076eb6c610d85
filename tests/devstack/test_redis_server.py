"""The Celery workers' broker: a throwaway redis-server that starts on a free port, carries Celery's messages and
stops, keeping nothing."""

from __future__ import annotations

import shutil

import pytest
import redis
from kombu import Connection

from devstack.redis_server import RedisServer, RedisServerError

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="no redis-server (./dev test installs it)")


@pytest.fixture
def server(tmp_path):
    with RedisServer(tmp_path / "redis") as running:
        yield running
    assert not running.ping()


def test_answers_on_loopback_and_points_celery_at_itself(server):
    assert server.ping()
    assert server.url == f"redis://127.0.0.1:{server.port}/0"
    assert server.environment() == {"AIRFLOW__CELERY__BROKER_URL": server.url}
    assert redis.Redis.from_url(server.url).ping()


def test_carries_a_message_from_a_producer_to_a_consumer(server):
    with Connection(server.url) as connection:
        queue = connection.SimpleQueue("default")
        queue.put({"task": "execute_workload"})
        assert queue.get(timeout=5).payload == {"task": "execute_workload"}
        queue.close()


def test_a_restart_keeps_the_port_and_forgets_the_messages(server):
    port = server.port
    redis.Redis.from_url(server.url).rpush("default", "queued before the restart")
    server.stop()
    server.start()
    assert server.port == port
    assert redis.Redis.from_url(server.url).llen("default") == 0


def test_a_missing_redis_server_is_named_with_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr("devstack.redis_server.Path.exists", lambda path: False)
    with pytest.raises(RedisServerError, match="apt-get install redis-server"):
        RedisServer(tmp_path / "redis").start()
