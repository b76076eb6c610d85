"""Every local command reads `.env`, then `.env.local`, then the shell, the later winning."""

from __future__ import annotations

from devstack.airflow_stack import airflow_environment
from devstack.local_env import local_environment

POSTGRES = "AIRFLOW_CONN_NY_TAXI_POSTGRES"
SCHEMA = "AIRFLOW_VAR_NYC_TAXI_POSTGRES_SCHEMA"


def write_env_files(root, env: str, env_local: str | None = None):
    (root / ".env").write_text(env)
    if env_local is not None:
        (root / ".env.local").write_text(env_local)


def test_env_local_overrides_env_and_the_shell_overrides_both(tmp_path):
    write_env_files(
        tmp_path,
        "# the repo's local defaults\n"
        f"{POSTGRES}=postgresql://taxi:taxi@127.0.0.1:54320/ny_taxi\n"
        f"{SCHEMA}=from_env\n"
        "ARROW_DEFAULT_MEMORY_POOL=jemalloc\n",
        f"{POSTGRES}='postgresql://me:mine@localhost:5433/taxi'\n{SCHEMA}=from_env_local\n",
    )
    shell = {SCHEMA: "from_shell", "PATH": "/usr/bin"}

    assert local_environment(tmp_path, shell) == {
        POSTGRES: "postgresql://me:mine@localhost:5433/taxi",
        SCHEMA: "from_shell",
        "ARROW_DEFAULT_MEMORY_POOL": "jemalloc",
        "PATH": "/usr/bin",
    }


def test_env_local_is_optional(tmp_path):
    write_env_files(tmp_path, f"{SCHEMA}=from_env\n")

    assert local_environment(tmp_path, {}) == {SCHEMA: "from_env"}


def test_airflow_processes_get_the_files_under_the_shell(tmp_path):
    write_env_files(tmp_path, f"{SCHEMA}=from_env\nARROW_DEFAULT_MEMORY_POOL=jemalloc\n", f"{SCHEMA}=from_env_local\n")
    env = airflow_environment(tmp_path / "home", "sqlite://", tmp_path / "staging",
                              base=local_environment(tmp_path, {"ARROW_DEFAULT_MEMORY_POOL": "system"}))

    assert (env[SCHEMA], env["ARROW_DEFAULT_MEMORY_POOL"]) == ("from_env_local", "system")
