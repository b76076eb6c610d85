"""Health check of a compose service that runs an Airflow job (`job-alive.py DagProcessorJob`, `TriggererJob`): its
job in the metadata database is running, on this container's host name, with a heartbeat in the last minute.

What `airflow jobs check` tells, without starting Airflow's CLI, which took 65 s on a busy 2-core machine: longer
than any sensible health-check timeout, and a core's worth of work every interval.
"""

import os
import socket
import sys

import psycopg2

job_type = sys.argv[1]
# The metadata database's SQLAlchemy URL, as psycopg2 takes it.
url = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("postgresql+psycopg2://", "postgresql://", 1)
with psycopg2.connect(url, connect_timeout=5) as connection, connection.cursor() as cursor:
    # Airflow records the host name as socket.getfqdn() (core.hostname_callable's default).
    cursor.execute(
        "SELECT count(*) FROM job WHERE job_type = %s AND hostname = %s AND state = 'running'"
        " AND latest_heartbeat > now() - interval '60 seconds'",
        (job_type, socket.getfqdn()),
    )
    alive = cursor.fetchone()[0]
if not alive:
    print(f"no running {job_type} on {socket.getfqdn()} with a heartbeat in the last 60 s", file=sys.stderr)
sys.exit(0 if alive else 1)
