"""Verify a migration history on scratch databases: pytest-alembic's checks, as data.

The checks (``CHECKS``): one head; upgrade from base to head; the models match the schema the
migrations build (autogenerate finds nothing); and up/down/up of every revision, from base to
head. They run in the child process (a ``VerifyRequest``) or in ``flask db verify``, on scratch
databases made here: a temporary SQLite file, or a database created on the same PostgreSQL or
MySQL/MariaDB server and dropped afterwards. The real databases are never connected to for
anything but ``CREATE DATABASE`` and ``DROP DATABASE`` of the scratch ones.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import threading
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from workbench.core.databases import sync_url
from workbench.core.secrets import mask_passwords

if TYPE_CHECKING:
    from sqlalchemy import URL

CHECKS = ("single-head", "upgrade", "models-match", "up-down-up")
SCRATCH_PREFIX = "wb_verify_"
SERVER_BACKENDS = frozenset({"postgresql", "mysql", "mariadb"})

Status = Literal["passed", "failed", "skipped"]


class VerifyError(Exception):
    """Verification could not run (not a failed check), explained in one line."""


@dataclass(frozen=True)
class RevisionCheck:
    """Up/down/up of one revision: ``step`` names the one that failed ("upgrade", "downgrade",
    "upgrade again"), ``message`` says why in one line (with the failing SQL statement)."""

    revision: str
    passed: bool
    step: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome; ``revision`` is the revision at fault, when one is."""

    name: str
    status: Status
    message: str
    revision: str | None = None
    revisions: tuple[RevisionCheck, ...] = ()

    @property
    def passed(self) -> bool:
        """True unless the check failed (a skipped check did not fail)."""
        return self.status != "failed"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        """A check as the child sent it."""
        return cls(
            name=data["name"],
            status=data["status"],
            message=data["message"],
            revision=data.get("revision"),
            revisions=tuple(RevisionCheck(**item) for item in data.get("revisions", ())),
        )


@dataclass(frozen=True)
class ScratchInfo:
    """A scratch database a verification ran on: which real database it stood in for."""

    name: str
    dialect: str
    url: str


@dataclass(frozen=True)
class VerifyReport:
    """Every check's outcome and the scratch databases they ran on (URLs masked)."""

    checks: tuple[CheckResult, ...]
    databases: tuple[ScratchInfo, ...] = ()

    @property
    def passed(self) -> bool:
        """True when no check failed."""
        return all(check.passed for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (what the child sends); ``passed`` included."""
        return {**asdict(self), "passed": self.passed}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VerifyReport:
        """The report a child sent."""
        return cls(
            checks=tuple(CheckResult.from_dict(item) for item in data.get("checks", ())),
            databases=tuple(ScratchInfo(**item) for item in data.get("databases", ())),
        )


@dataclass
class ScratchDatabases:
    """Creates scratch databases beside real ones and drops every one of them at the end.

    SQLite gets a file in ``folder``; a server gets ``CREATE DATABASE wb_verify_<random>``
    through the real URL's connection (the only statements ever sent to it). Use as a context
    manager: leaving it drops them all, also after a failure.
    """

    folder: str
    created: list[tuple[URL, str]] = field(default_factory=list)

    def __enter__(self) -> ScratchDatabases:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.drop_all()

    def create(self, real_url: str | URL, name: str) -> URL:
        """A new empty database on the real one's server (or a SQLite file); its URL."""
        from sqlalchemy.engine import make_url

        url = make_url(real_url)
        backend = url.get_backend_name()
        if backend == "sqlite":
            path = os.path.join(self.folder, f"{name}-{secrets.token_hex(4)}.sqlite")
            return url.set(database=path)
        if backend not in SERVER_BACKENDS:
            raise VerifyError(
                f"verify needs SQLite, PostgreSQL or MySQL/MariaDB; {backend} is not supported"
            )
        database = f"{SCRATCH_PREFIX}{secrets.token_hex(6)}"
        self.created.append((url, database))  # first: an interrupted CREATE is dropped too
        _run_on_server(url, "create a scratch database", [f"CREATE DATABASE {database}"])
        return url.set(database=database)

    def drop_all(self) -> None:
        """Drop every server database created here (SQLite files go with the folder).

        A cancel (SIGINT, then SIGTERM) that arrives meanwhile waits until they are gone.
        """
        with _signals_held():
            self._drop_each()

    def _drop_each(self) -> None:
        """Drop the server databases one by one; one that cannot be dropped is left.

        On PostgreSQL, connections still open on it (a cancelled statement's) are ended by
        ``WITH (FORCE)`` (13 and later), or else terminated first.
        """
        while self.created:
            url, database = self.created.pop()
            attempts = [[f"DROP DATABASE IF EXISTS {database}"]]
            if url.get_backend_name() == "postgresql":
                terminate = (
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    f" WHERE datname = '{database}' AND pid <> pg_backend_pid()"
                )
                attempts = [[f"{attempts[0][0]} WITH (FORCE)"], [terminate, *attempts[0]]]
            for statements in attempts:
                try:
                    _run_on_server(url, "drop a scratch database", statements)
                    break
                except VerifyError:
                    continue


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while the block runs (main thread only), then restore them.

    A signal that came meanwhile is delivered once the block ends, so cleanup is not cut short
    and the cancel still happens.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []

    def hold(number: int, frame: object) -> None:
        arrived.append(number)

    previous = {number: signal.signal(number, hold) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        for number in arrived[:1]:
            signal.raise_signal(number)


def _run_on_server(url: URL, doing: str, statements: list[str]) -> None:
    """Run statements in autocommit mode on the server of a URL, through its sync driver."""
    synchronous = sync_url(url)
    if synchronous is None:
        raise VerifyError(
            f"cannot {doing}: no synchronous driver installed for {url.get_backend_name()}"
            " (install psycopg or PyMySQL)"
        )
    url = synchronous
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    except Exception as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""]
        raise VerifyError(mask_passwords(f"cannot {doing}: {detail[0]}")) from exc
    finally:
        engine.dispose()
