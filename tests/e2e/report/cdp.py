"""A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (stdlib only).

Chromium reads commands from fd 3 and writes replies and events to fd 4, each message a JSON
text followed by a NUL byte. No port is opened and no websocket library is needed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Self

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
]


class CDPError(RuntimeError):
    pass


class Browser:
    """Headless Chromium driven through the DevTools pipe. Use as a context manager."""

    def __init__(self, executable: str, *, timeout: float = 20.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="insightlog-cdp-")
        self._log = open(Path(self._profile.name) / "chromium-stderr.log", "wb")  # noqa: SIM115
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire() -> None:  # in the child, before exec: fd 3 = commands in, fd 4 = replies out
            a = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [executable, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self._profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            close_fds=False,
            preexec_fn=wire,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                self._inbox.put(None)
                return
            buf += chunk
            while b"\0" in buf:
                message, buf = buf.split(b"\0", 1)
                self._inbox.put(json.loads(message))

    def _pump(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CDPError("timed out waiting for Chromium")
        try:
            message = self._inbox.get(timeout=remaining)
        except queue.Empty:
            raise CDPError("timed out waiting for Chromium") from None
        if message is None:
            raise CDPError(f"Chromium closed the DevTools pipe (exit {self.proc.poll()})")
        if "id" in message:
            self._replies[message["id"]] = message
        else:
            self.events.append(message)

    def call(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        mid = self._next_id
        message: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while mid not in self._replies:
            self._pump(deadline)
        reply = self._replies.pop(mid)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_event(self, method: str, *, session: str | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method and (session is None or event.get("sessionId") == session):
                    return event
            seen = len(self.events)
            self._pump(deadline)

    def drain(self, seconds: float) -> None:
        """Collect events for a little while (late console messages, requests)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                message = self._inbox.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                return
            if message is None:
                return
            if "id" in message:
                self._replies[message["id"]] = message
            else:
                self.events.append(message)

    def open_page(self, url: str, *, width: int = 1280, height: int = 900) -> str:
        """A new tab with console, log and network events on; navigates and waits for load."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=session)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        self.call("Page.navigate", {"url": url}, session=session)
        self.wait_event("Page.loadEventFired", session=session)
        return session

    def evaluate(self, expression: str, *, session: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
        if "exceptionDetails" in result:
            raise CDPError(f"evaluate failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def session_events(self, session: str, *methods: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("sessionId") == session and e.get("method") in methods]

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                with contextlib.suppress(CDPError):
                    self.call("Browser.close")
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=5)
        finally:
            for fd in (self._to_browser, self._from_browser):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._log.close()
            self._profile.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
