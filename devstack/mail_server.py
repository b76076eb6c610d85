"""A real SMTP server for the alerts: aiosmtpd in a thread, each message it receives kept as an `.eml` file.

The tests read the mails from it; `./dev stack` runs one and points the alert connection at it, so a user sees the
mails their failed months send in `.local/mail/` (any mail program opens an `.eml`).
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from devstack.server_process import free_port


class _SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        with self._lock:
            self._count += 1
            name = f"{time.strftime('%Y%m%dT%H%M%S')}-{self._count:04d}.eml"
        (self.folder / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


class MailServer:
    """SMTP on 127.0.0.1:`port` (a free one by default), saving each message to `folder/<time>-<n>.eml`."""

    def __init__(self, folder: Path, port: int = 0) -> None:
        self.folder = Path(folder)
        self.port = port or free_port()
        self._controller: Controller | None = None

    def start(self) -> MailServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(_SaveToFolder(self.folder), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def connection_uri(self) -> str:
        """The alert connection's value: plain SMTP, no login, a short timeout and one try."""
        return (f"smtp://127.0.0.1:{self.port}?disable_ssl=true&disable_tls=true&timeout=10&retry_limit=0"
                "&from_email=nyc-taxi-alerts%40localhost")

    def environment(self, recipients: str = "data-team@localhost") -> dict[str, str]:
        """What Airflow needs to mail through this server: the connection and the recipients' Variable."""
        return {"AIRFLOW_CONN_NYC_TAXI_ALERTS_SMTP": self.connection_uri(),
                "AIRFLOW_VAR_NYC_TAXI_ALERT_EMAIL_TO": recipients}

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in sorted(self.folder.glob("*.eml"))]
