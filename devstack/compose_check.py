"""`./dev compose-check`: docker-compose.yaml run as a user runs it, on a Docker engine of this machine, every profile.

The engine and Compose come from devstack.container_engine, the images the compose file names from
devstack.stand_in_images. The month the DAGs load is generated here and served from the host (devstack's source
server on the host's bridge address); a compose override of the check's own points the Airflow services at it and
switches scheduled runs off, so only the check's runs run. The compose file itself is used as users have it.
Stages, each timed: up (every service healthy, the login, a month through the Postgres DAG), emulators (the GCS and
BigQuery DAGs), celery (a two-month backfill on two workers), restart (down and up keep months and secrets), and
down -v (removes them). A JSON report goes to .local/compose-check/report.json.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import requests
import yaml

from devstack.container_engine import STATE_DIR, DockerEngine, EngineError
from devstack.source_server import SourceServer
from devstack.stand_in_images import build_stand_ins, image_sizes, stand_in_tags
from devstack.synthetic_month import generate_month, release_path

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yaml"
PROJECT = "nyc-taxi-compose-check"  # not the folder's name: a stack of the user's own from this folder stays
# Host ports of the check's own (docker-compose.yaml's AIRFLOW_API_PORT and NY_TAXI_DB_PORT), so a `./dev stack`
# or `./dev demo` on 8080 and 54320 neither stops the check nor is reached by it.
AIRFLOW_PORT = 18080
TAXI_DB_PORT = 15432
AIRFLOW_URL = f"http://127.0.0.1:{AIRFLOW_PORT}"
TAXI_DSN = f"postgresql://taxi:taxi@127.0.0.1:{TAXI_DB_PORT}/ny_taxi"
AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-worker", "airflow-triggerer")
ONE_SHOT_SERVICES = ("airflow-secrets", "airflow-init", "gcs-bucket")
SECRET_FILES = ("jwt_secret", "fernet_key", "api_secret_key")
PASSWORD_FILE = "/opt/airflow/auth/simple_auth_manager_passwords.json.generated"
COLOR = "yellow"
MONTHS = ("2021-01", "2021-02")
ROWS = 20_000
PROJECT_IMAGES = ("nyc-taxi-airflow:3.3.2", "nyc-taxi-bigquery-emulator:0.3.2")


class CheckFailed(AssertionError):
    """A stage found the stack not as a user expects it; the message says what and where."""


@dataclass
class Stage:
    name: str
    ok: bool = False
    seconds: float = 0.0
    figures: dict = field(default_factory=dict)
    error: str = ""


def override_file(source_url: str) -> dict:
    """The check's compose override: where the month files are, and no scheduled runs (catchup would queue the
    release's other months, which the check's source does not serve)."""
    environment = {"AIRFLOW_VAR_NYC_TAXI_SOURCE_BASE_URL": source_url,
                   "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}
    return {"services": {service: {"environment": environment} for service in AIRFLOW_SERVICES}}


def poll(session: requests.Session, path: str) -> dict | None:
    """GET /api/v2/`path` as JSON; None while it is not there yet or the api-server is too busy to answer in 30 s
    (on a loaded 2-core machine it sometimes is: the callers poll until their own deadline)."""
    try:
        response = session.get(f"{AIRFLOW_URL}/api/v2/{path}", timeout=30)
    except requests.RequestException:
        return None
    return response.json() if response.ok else None


def service_states(ps_json: str) -> dict[str, list[dict]]:
    """`docker compose ps -a --format json` (one object a line, or one list) as service -> its containers."""
    text = ps_json.strip()
    rows = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines() if line]
    services: dict[str, list[dict]] = {}
    for row in rows:
        services.setdefault(row["Service"], []).append(row)
    return services


def not_ready(services: dict[str, list[dict]]) -> dict[str, str]:
    """Each container that is not yet what a started stack has: healthy (or running, without a health check),
    or for a one-shot service exited 0. Service -> its status."""
    waiting = {}
    for service, containers in services.items():
        for container in containers:
            state, health = container.get("State", ""), container.get("Health", "")
            if service in ONE_SHOT_SERVICES:
                ready = state == "exited" and container.get("ExitCode", 1) == 0
            else:
                ready = state == "running" and health in ("", "healthy")
            if not ready:
                waiting[container.get("Name", service)] = container.get("Status", state)
    return waiting


def failed_one_shots(services: dict[str, list[dict]]) -> dict[str, int]:
    return {container["Name"]: container.get("ExitCode") for service in ONE_SHOT_SERVICES
            for container in services.get(service, [])
            if container.get("State") == "exited" and container.get("ExitCode", 0) != 0}


class ComposeCheck:
    def __init__(self, engine: DockerEngine, state_dir: Path = STATE_DIR, log: Callable[[str], None] = print) -> None:
        self.engine = engine
        self.engine.environment.update(AIRFLOW_API_PORT=str(AIRFLOW_PORT), NY_TAXI_DB_PORT=str(TAXI_DB_PORT))
        self.state_dir = state_dir
        self.log = log
        self.override = state_dir / "compose.check.yaml"
        self.expected: dict[str, int] = {}
        self.stages: list[Stage] = []
        self.password = ""

    # --- compose ---------------------------------------------------------------------------------------------

    def compose(self, *args: str, profiles: tuple[str, ...] = (), check: bool = True, capture: bool = True,
                timeout: float | None = None):
        profile_args = [arg for profile in profiles for arg in ("--profile", profile)]
        return self.engine.docker("compose", "--project-directory", str(REPO), "-p", PROJECT,
                                  "-f", str(COMPOSE_FILE), "-f", str(self.override), *profile_args, *args,
                                  check=check, capture=capture, timeout=timeout)

    def wait_until_ready(self, profiles: tuple[str, ...] = (), timeout_seconds: float = 600) -> dict[str, list]:
        deadline = time.monotonic() + timeout_seconds
        while True:
            services = service_states(self.compose("ps", "-a", "--format", "json", profiles=profiles).stdout)
            if failed := failed_one_shots(services):
                raise CheckFailed(f"one-shot services failed: {failed}\n{self.logs(*failed)}")
            waiting = not_ready(services)
            if not waiting and services:
                return services
            if time.monotonic() > deadline:
                raise CheckFailed(f"not ready after {timeout_seconds:.0f} s: {waiting}\n{self.logs()}")
            time.sleep(3)

    def logs(self, *containers: str, lines: int = 25) -> str:
        result = self.compose("logs", "--no-color", "--tail", str(lines), check=False)
        text = result.stdout + result.stderr
        if containers:
            names = [name.removeprefix(f"{PROJECT}-").rsplit("-", 1)[0] for name in containers]
            text = "\n".join(line for line in text.splitlines() if any(line.startswith(name) for name in names))
        return text[-6000:]

    def exec(self, service: str, *command: str) -> str:
        return self.compose("exec", "-T", service, *command).stdout

    # --- the REST API ----------------------------------------------------------------------------------------

    def api(self) -> requests.Session:
        response = requests.post(f"{AIRFLOW_URL}/auth/token", json={"username": "admin", "password": self.password},
                                 timeout=30)
        if response.status_code not in (200, 201):
            raise CheckFailed(f"login as admin with the generated password: HTTP {response.status_code} {response.text}")
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        return session

    def wait_for_dag(self, session: requests.Session, dag_id: str, timeout_seconds: float = 180) -> None:
        deadline = time.monotonic() + timeout_seconds
        while poll(session, f"dags/{dag_id}") is None:
            if time.monotonic() > deadline:
                raise CheckFailed(f"{dag_id} was not parsed within {timeout_seconds:.0f} s\n{self.logs()}")
            time.sleep(2)
        session.patch(f"{AIRFLOW_URL}/api/v2/dags/{dag_id}", params={"update_mask": "is_paused"},
                      json={"is_paused": False}, timeout=30).raise_for_status()

    def run_month(self, session: requests.Session, dag_id: str, month: str, timeout_seconds: float = 600) -> dict:
        """Trigger `dag_id` for `month` through the REST API and wait for the run to end; fail unless it succeeded."""
        self.wait_for_dag(session, dag_id)
        year, number = (int(part) for part in month.split("-"))
        response = session.post(f"{AIRFLOW_URL}/api/v2/dags/{dag_id}/dagRuns", timeout=30,
                                json={"logical_date": None, "conf": {"year": year, "month": number}})
        response.raise_for_status()
        run_id = response.json()["dag_run_id"]
        run = self.wait_for_run(session, dag_id, run_id, timeout_seconds)
        if run["state"] != "success":
            raise CheckFailed(f"{dag_id} {run_id} ended {run['state']}: {self.failed_tasks(session, dag_id, run_id)}")
        return run

    def wait_for_run(self, session: requests.Session, dag_id: str, run_id: str, timeout_seconds: float) -> dict:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            run = poll(session, f"dags/{dag_id}/dagRuns/{run_id}")
            if run and run["state"] in ("success", "failed"):
                return run
            time.sleep(2)
        raise CheckFailed(f"{dag_id} {run_id} did not finish within {timeout_seconds:.0f} s\n{self.logs()}")

    def failed_tasks(self, session: requests.Session, dag_id: str, run_id: str) -> list:
        instances = session.get(f"{AIRFLOW_URL}/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                                timeout=30).json().get("task_instances", [])
        return [(ti["task_id"], ti["state"], ti.get("hostname")) for ti in instances if ti["state"] != "success"]

    def task_instances(self, session: requests.Session, dag_id: str, run_id: str) -> list[dict]:
        return session.get(f"{AIRFLOW_URL}/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                           timeout=30).json()["task_instances"]

    # --- what landed -----------------------------------------------------------------------------------------

    def postgres_months(self) -> dict[str, int]:
        import psycopg

        with psycopg.connect(TAXI_DSN, connect_timeout=10) as conn:
            exists = conn.execute("SELECT to_regclass(%s)", (f"ny_taxi.{COLOR}_tripdata",)).fetchone()[0]
            if exists is None:
                return {}
            return dict(conn.execute(f"SELECT to_char(source_month, 'YYYY-MM'), count(*) FROM ny_taxi.{COLOR}_tripdata"
                                     " GROUP BY 1 ORDER BY 1").fetchall())

    def bigquery_rows(self) -> int:
        query = (
            "import json, urllib.request\n"
            "body = json.dumps({'query': 'SELECT COUNT(*) FROM ny_taxi.%s_tripdata', 'useLegacySql': False})\n"
            "request = urllib.request.Request('http://127.0.0.1:9050/bigquery/v2/projects/nyc-taxi-local/queries',"
            " data=body.encode(), headers={'Content-Type': 'application/json'})\n"
            "print(json.load(urllib.request.urlopen(request, timeout=60))['rows'][0]['f'][0]['v'])\n" % COLOR)
        return int(self.exec("bigquery-emulator", "python", "-c", query).strip())

    def secrets(self) -> dict[str, str]:
        """A digest of each generated secret and of the admin's password file (the secrets themselves stay put)."""
        digests = {}
        for name in SECRET_FILES:
            digests[name] = hashlib.sha256(self.exec("airflow-scheduler", "cat", f"/opt/airflow/secrets/{name}").encode()).hexdigest()
        digests["admin_password"] = hashlib.sha256(self.read_password().encode()).hexdigest()
        return digests

    def read_password(self) -> str:
        return json.loads(self.exec("airflow-apiserver", "cat", PASSWORD_FILE))["admin"]

    def volumes(self) -> list[str]:
        return self.engine.docker("volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}").stdout.split()

    # --- stages ----------------------------------------------------------------------------------------------

    def stage(self, name: str, work: Callable[[Stage], None]) -> bool:
        stage = Stage(name)
        self.stages.append(stage)
        self.log(f"==> stage {name}")
        started = time.monotonic()
        try:
            work(stage)
            stage.ok = True
        except Exception as error:  # noqa: BLE001  every failure is the stage's result, reported
            stage.error = f"{type(error).__name__}: {error}"
            self.log(traceback.format_exc())
        stage.seconds = round(time.monotonic() - started, 1)
        self.log(f"    {name}: {'ok' if stage.ok else 'FAILED'} in {stage.seconds} s {stage.figures}"
                 + (f"\n    {stage.error[:2000]}" if stage.error else ""))
        return stage.ok

    def up(self, stage: Stage) -> None:
        started = time.monotonic()
        self.compose("up", "-d", "--build", capture=False, timeout=1800)
        stage.figures["up_returned_s"] = round(time.monotonic() - started, 1)
        services = self.wait_until_ready()
        stage.figures["healthy_s"] = round(time.monotonic() - started, 1)
        stage.figures["services"] = sorted(services)
        self.password = self.read_password()
        rejected = requests.post(f"{AIRFLOW_URL}/auth/token", json={"username": "admin", "password": "not-it"}, timeout=30)
        if rejected.status_code != 401:
            raise CheckFailed(f"a wrong password got HTTP {rejected.status_code}, not 401")
        session = self.api()
        if not session.get(AIRFLOW_URL + "/", timeout=30).ok:
            raise CheckFailed("the UI's start page does not answer")
        month = MONTHS[0]
        self.run_month(session, f"{COLOR}_taxi_to_postgres", month)
        stage.figures["up_to_loaded_month_s"] = round(time.monotonic() - started, 1)
        loaded = self.postgres_months()
        if loaded.get(month) != self.expected[month]:
            raise CheckFailed(f"Postgres holds {loaded} of {COLOR} {month}; the source's rules keep {self.expected[month]}")
        stage.figures["rows"] = loaded[month]

    def emulators(self, stage: Stage) -> None:
        # The Airflow services pick the profiles up when they start (with-profiles.sh): a running stack is
        # brought down first, its volumes kept, as docs/README say.
        self.compose("down", timeout=300)
        started = time.monotonic()
        self.compose("up", "-d", "--build", profiles=("emulators",), capture=False, timeout=1800)
        self.wait_until_ready(("emulators",))
        stage.figures["healthy_s"] = round(time.monotonic() - started, 1)
        session = self.api()
        month = MONTHS[0]
        self.run_month(session, f"{COLOR}_taxi_to_gcs", month)
        stage.figures["gcs_loaded_s"] = round(time.monotonic() - started, 1)
        self.run_month(session, f"{COLOR}_taxi_gcs_to_bigquery", month)
        stage.figures["bigquery_loaded_s"] = round(time.monotonic() - started, 1)
        rows = self.bigquery_rows()
        if rows != self.expected[month]:
            raise CheckFailed(f"BigQuery holds {rows} rows of {COLOR} {month}; the source's rules keep {self.expected[month]}")
        stage.figures["bigquery_rows"] = rows

    def celery(self, stage: Stage) -> None:
        self.compose("down", profiles=("emulators",), timeout=300)
        started = time.monotonic()
        self.compose("up", "-d", "--build", "--scale", "airflow-worker=2", profiles=("celery",), capture=False,
                     timeout=1800)
        services = self.wait_until_ready(("celery",))
        stage.figures["healthy_s"] = round(time.monotonic() - started, 1)
        workers = services.get("airflow-worker", [])
        if len(workers) != 2:
            raise CheckFailed(f"{len(workers)} workers, not 2: {workers}")
        hostnames = {self.engine.docker("inspect", "--format", "{{.Config.Hostname}}", worker["ID"]).stdout.strip()
                     for worker in workers}
        session = self.api()
        dag_id = f"{COLOR}_taxi_to_postgres"
        self.wait_for_dag(session, dag_id)
        backfill_started = time.monotonic()
        response = session.post(f"{AIRFLOW_URL}/api/v2/backfills", timeout=30, json={
            "dag_id": dag_id, "from_date": f"{MONTHS[0]}-01T00:00:00Z", "to_date": f"{MONTHS[-1]}-01T00:00:00Z",
            "reprocess_behavior": "completed", "max_active_runs": 2})
        response.raise_for_status()
        backfill_id = response.json()["id"]
        deadline = time.monotonic() + 600
        while not (poll(session, f"backfills/{backfill_id}") or {}).get("completed_at"):
            if time.monotonic() > deadline:
                raise CheckFailed(f"the backfill did not complete within 600 s\n{self.logs()}")
            time.sleep(3)
        stage.figures["backfill_s"] = round(time.monotonic() - backfill_started, 1)
        runs = [run for run in session.get(f"{AIRFLOW_URL}/api/v2/dags/{dag_id}/dagRuns", timeout=30,
                                           params={"order_by": "-id", "limit": 100}).json()["dag_runs"]
                if run["run_type"] == "backfill"][:len(MONTHS)]
        if sorted(run["state"] for run in runs) != ["success"] * len(MONTHS):
            raise CheckFailed(f"backfill runs: {[(run['dag_run_id'], run['state']) for run in runs]}: "
                              f"{[self.failed_tasks(session, dag_id, run['dag_run_id']) for run in runs]}")
        ran_on = {ti["hostname"] for run in runs for ti in self.task_instances(session, dag_id, run["dag_run_id"])}
        stage.figures["task_hostnames"] = sorted(ran_on)
        if ran_on != hostnames:
            raise CheckFailed(f"the backfill's tasks ran on {sorted(ran_on)}, the workers are {sorted(hostnames)}")
        loaded = self.postgres_months()
        if {month: loaded.get(month) for month in MONTHS} != {month: self.expected[month] for month in MONTHS}:
            raise CheckFailed(f"Postgres holds {loaded}; the source's rules keep {self.expected}")
        stage.figures["rows"] = {month: loaded[month] for month in MONTHS}

    def restart(self, stage: Stage) -> None:
        before_secrets = self.secrets()
        before_months = self.postgres_months()
        self.compose("down", profiles=("celery",), timeout=300)
        started = time.monotonic()
        self.compose("up", "-d", capture=False, timeout=900)
        self.wait_until_ready()
        stage.figures["healthy_s"] = round(time.monotonic() - started, 1)
        if (after := self.secrets()) != before_secrets:
            changed = sorted(name for name in after if after[name] != before_secrets.get(name))
            raise CheckFailed(f"down and up changed the generated {changed}")
        if (months := self.postgres_months()) != before_months:
            raise CheckFailed(f"down and up changed the loaded months: {before_months} -> {months}")
        self.api()  # the password from before still logs in
        stage.figures["months_kept"] = months

    def remove(self, stage: Stage) -> None:
        before = self.volumes()
        self.compose("down", "-v", profiles=("celery", "emulators"), timeout=300)
        if left := self.volumes():
            raise CheckFailed(f"down -v left the volumes {left}")
        stage.figures["volumes_removed"] = len(before)

    # --- the whole check -------------------------------------------------------------------------------------

    def prepare_source(self) -> SourceServer:
        root = self.state_dir / "source"
        for month in MONTHS:
            year, number = (int(part) for part in month.split("-"))
            self.expected[month] = generate_month(release_path(root, COLOR, year, number), COLOR, year, number,
                                                  rows=ROWS).kept
        server = SourceServer(root, host=self.engine.bridge_gateway()).start()
        self.override.write_text(yaml.safe_dump(override_file(f"{server.base_url}"), sort_keys=False))
        return server

    def run(self, stages: tuple[str, ...]) -> bool:
        work = {"up": self.up, "emulators": self.emulators, "celery": self.celery, "restart": self.restart,
                "down-v": self.remove}
        with self.prepare_source():
            for name in stages:
                if not self.stage(name, work[name]):
                    break
        return all(stage.ok for stage in self.stages) and len(self.stages) == len(stages)


STAGES = ("up", "emulators", "celery", "restart", "down-v")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev compose-check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stages", default=",".join(STAGES),
                        help=f"comma-separated, in this order: {','.join(STAGES)} (default: all)")
    parser.add_argument("--keep", action="store_true", help="leave the stack and the engine running at the end")
    args = parser.parse_args(argv)
    stages = tuple(name for name in STAGES if name in args.stages.split(","))

    lock = hold_lock(STATE_DIR / "check.lock")
    if lock is None:
        print(f"compose check: another one is running (it holds {STATE_DIR / 'check.lock'})", file=sys.stderr)
        return 2
    started = time.monotonic()
    engine = DockerEngine()
    report: dict = {"stages": []}
    check = None
    try:
        engine.ensure()
        report.update(engine.versions())
        print(f"==> {report['engine']}; {report['compose']}")
        build_started = time.monotonic()
        build_stand_ins(engine, engine.state_dir)
        report["stand_ins_s"] = round(time.monotonic() - build_started, 1)
        check = ComposeCheck(engine)
        ok = check.run(stages)
    except (EngineError, OSError) as error:
        print(f"compose check: {error}", file=sys.stderr)
        ok = False
    finally:
        if check is not None:
            report["stages"] = [asdict(stage) for stage in check.stages]
            if not args.keep:
                check.compose("down", "-v", profiles=("celery", "emulators"), check=False, timeout=300)
        report["images"] = image_sizes(engine, sorted(stand_in_tags()) + list(PROJECT_IMAGES)) if engine.answers() else {}
        report["total_s"] = round(time.monotonic() - started, 1)
        if not args.keep:
            engine.stop_daemon()
        (engine.state_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)
    return 0 if ok else 1


def hold_lock(path: Path):
    """The open lock file, locked for this process, or None when another compose check holds it: two checks
    would bring each other's stack down (the same project, ports 8080 and 54320)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = open(path, "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    return lock


def running_elsewhere() -> bool:
    """Whether a compose check is running now (holding its lock)."""
    lock = hold_lock(STATE_DIR / "check.lock")
    if lock is None:
        return True
    lock.close()
    return False


def print_report(report: dict) -> None:
    print("\n==> compose check")
    for stage in report["stages"]:
        print(f"  {stage['name']:<10} {'ok' if stage['ok'] else 'FAILED':<7} {stage['seconds']:>7.1f} s  "
              f"{json.dumps(stage['figures'])}")
        if stage["error"]:
            print(f"             {stage['error'][:500]}")
    for tag, size in report.get("images", {}).items():
        print(f"  {tag:<36} {size / 1e6:>8.0f} MB")
    print(f"  stand-ins built in {report.get('stand_ins_s', '?')} s; whole check {report['total_s']} s "
          f"(report: {STATE_DIR / 'report.json'})")


if __name__ == "__main__":
    sys.exit(main())
