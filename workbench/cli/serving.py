"""``tui --serve``: the workbench in a browser, on Textual's own ``textual-serve``.

Each browser tab that connects gets one workbench process of its own (the command the group
builds, ``flask db tui --read-only`` unless writes were allowed), in a session of its own. Three
things are added to what ``textual-serve`` does:

- a random token: every URL lives under ``/<token>/`` (the page, its websocket, its static files);
  a request without it is refused with 403 and an empty body;
- the page says whether the workbench may write (its title and the start dialog);
- no orphan: when a tab closes or the server stops (SIGINT, SIGTERM), the tab's process is asked
  to quit, then it and every process below it (the workbench's own children run in sessions of
  their own, so a process group is not enough) get SIGTERM, then SIGKILL.

This module imports ``textual_serve`` (and aiohttp) at once: without the ``serve`` extra,
importing it raises ``ImportError``, which the command turns into a one-line hint.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import ipaddress
import logging
import os
import re
import secrets
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.web_runner import GracefulExit
from textual_serve.app_service import AppService
from textual_serve.server import Server

from workbench.errors import WorkbenchError

log = logging.getLogger("textual-serve")

QUIT_SECONDS = 1.0
"""How long a tab's workbench gets to quit on its own when asked."""
TERM_SECONDS = 2.0
"""How long its processes get after SIGTERM before SIGKILL."""
SHUTDOWN_SECONDS = 5.0
"""How long the server waits for open connections when it stops."""
TITLE = "Migration Workbench"
THIRD_PARTY_FONT = re.compile(
    r'<link\s+rel="stylesheet"\s+href="https://fonts\.googleapis\.com[^>]*>'
)


def page_title(allow_writes: bool) -> str:
    """What the page's title says about writing."""
    return f"{TITLE} — {'writes allowed' if allow_writes else 'read-only'}"


def is_loopback(host: str) -> bool:
    """True when ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _descendants(root: int) -> list[int]:
    """The processes below ``root`` (from /proc; empty where there is none)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


def _signal_all(pids: Sequence[int], number: int) -> None:
    """Send ``number`` to each process and to the process group each one leads."""
    for pid in pids:
        for send in (os.killpg, os.kill):
            with contextlib.suppress(OSError):
                send(pid, number)


async def end_process_tree(process: asyncio.subprocess.Process) -> None:
    """End ``process`` and every process below it: SIGTERM, then SIGKILL after a grace."""
    known = {process.pid, *_descendants(process.pid)}
    for number in (signal.SIGTERM, signal.SIGKILL):
        known |= {child for pid in list(known) for child in _descendants(pid)}
        _signal_all(sorted(known), number)
        deadline = time.monotonic() + TERM_SECONDS
        while time.monotonic() < deadline:
            if process.returncode is None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(process.wait(), 0.05)
            known = {pid for pid in known if _alive(pid)}
            if not known:
                return
            await asyncio.sleep(0.05)
    if process.returncode is None:
        await process.wait()


class WorkbenchService(AppService):
    """One tab's workbench: started in a session of its own, ended with everything below it."""

    def __init__(self, argv: Sequence[str], **kwargs: Any) -> None:
        super().__init__(shlex.join(argv), **kwargs)
        self.argv = list(argv)
        self._stopped = False

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
        environment = self._build_environment(width=width, height=height)
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
            start_new_session=True,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def stop(self) -> None:
        """Ask the workbench to quit; then end it and every process below it."""
        if self._stopped:
            return
        self._stopped = True
        task, process = self._task, self._process
        if task is not None:
            await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
            if process is not None and process.returncode is None:
                await self.send_meta({"type": "quit"})
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), QUIT_SECONDS)
        if process is not None:
            await end_process_tree(process)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._task = None


class WorkbenchServer(Server):
    """``textual-serve``'s server behind a token, with workbench processes that never outlive it."""

    def __init__(
        self, argv: Sequence[str], *, host: str, port: int, allow_writes: bool, token: str
    ) -> None:
        super().__init__(shlex.join(argv), host=host, port=port, title=page_title(allow_writes))
        self.argv = list(argv)
        self.token = token
        self.prefix = f"/{token}"
        self.allow_writes = allow_writes
        self.services: set[WorkbenchService] = set()
        self.sockets: set[web.WebSocketResponse] = set()

    @property
    def url(self) -> str:
        """The address to open, token included."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}{self.prefix}/"

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        prefix = self.prefix
        app.add_routes(
            [
                web.get(f"{prefix}/", self.handle_index, name="index"),
                web.get(f"{prefix}/ws", self.handle_websocket, name="websocket"),
                web.static(f"{prefix}/static", self.statics_path, name="static"),
            ]
        )
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Refuse every request whose path does not start with the token; title the page."""
        first = request.path.lstrip("/").split("/", 1)[0]
        if not secrets.compare_digest(first.encode(), self.token.encode()):
            return web.Response(status=403)
        if request.path == self.prefix:
            raise web.HTTPFound(f"{self.prefix}/")
        response = await handler(request)
        if request.path == f"{self.prefix}/" and isinstance(response, web.Response):
            response.text = _titled(response.text or "", self.title)
        return response

    async def handle_index(self, request: web.Request) -> Any:
        # The page's URLs point back at the address the browser used, whatever --host was.
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)

    async def on_startup(self, app: web.Application) -> None:
        """Nothing to say yet: the address is announced once it is bound."""

    def announce(self, *_: object) -> None:
        """Say where to point the browser (called once the server listens)."""
        mode = "writes allowed" if self.allow_writes else "read-only (--allow-writes to write)"
        print(f"Serving the migration workbench, {mode}.", flush=True)
        if not is_loopback(self.host):
            print(
                f"Warning: listening on {self.host}: anyone who can reach this machine "
                "and has the URL can use the workbench.",
                file=sys.stderr,
                flush=True,
            )
        print(f"Open {self.url}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)

    async def on_shutdown(self, app: web.Application) -> None:
        """End every tab's workbench, then close the tabs."""
        await asyncio.gather(*(service.stop() for service in list(self.services)))
        for websocket in list(self.sockets):
            with contextlib.suppress(Exception):
                await websocket.close()

    def serve(self, debug: bool = False) -> None:
        """Serve until SIGINT or SIGTERM; every workbench started is ended before returning."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, ValueError):
                loop.add_signal_handler(number, self.request_exit)
        try:
            web.run_app(
                self._make_app(),
                host=self.host,
                port=self.port,
                handle_signals=False,
                loop=loop,
                shutdown_timeout=SHUTDOWN_SECONDS,
                print=self.announce,
            )
        except OSError as exc:
            raise WorkbenchError(
                f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}"
            ) from exc

    def request_exit(self) -> None:
        raise GracefulExit()

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One tab: start its workbench, relay the browser's input, end it when the tab goes."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = _int(request.query.get("width", "80"), 80)
        height = _int(request.query.get("height", "24"), 24)
        service: WorkbenchService | None = None
        self.sockets.add(websocket)
        try:
            await websocket.prepare(request)
            service = WorkbenchService(
                self.argv,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            self.services.add(service)
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:
            log.exception(error)
        finally:
            self.sockets.discard(websocket)
            if service is not None:
                await service.stop()
                self.services.discard(service)
        return websocket


def _int(value: str, default: int) -> int:
    try:
        return int(value)
    except ValueError:
        return default


CLOSE_ON_LEAVING = """<script>
      (() => {
        // Leaving the page (not only closing the tab) ends the tab's workbench: a page kept
        // in the back-forward cache would keep its websocket, and its workbench, open.
        const Native = window.WebSocket;
        const open = new Set();
        function Closing(url, protocols) {
          const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
          open.add(socket);
          socket.addEventListener("close", () => open.delete(socket));
          return socket;
        }
        Closing.prototype = Native.prototype;
        Object.assign(Closing, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
        window.WebSocket = Closing;
        window.addEventListener("pagehide", () => open.forEach((socket) => socket.close()));
      })();
    </script>"""


def _titled(page: str, title: str) -> str:
    """The page with a ``<title>``, without the font of a third-party site, closing on leave."""
    page = page.replace(
        "<head>", f"<head>\n    <title>{html.escape(title)}</title>\n    {CLOSE_ON_LEAVING}", 1
    )
    return THIRD_PARTY_FONT.sub("", page, count=1)


def serve_workbench(
    argv: Sequence[str], *, host: str, port: int, allow_writes: bool, token: str | None = None
) -> None:
    """Serve the workbench command ``argv`` to browsers until SIGINT or SIGTERM."""
    server = WorkbenchServer(
        argv,
        host=host,
        port=port,
        allow_writes=allow_writes,
        token=token or secrets.token_urlsafe(24),
    )
    server.serve()
