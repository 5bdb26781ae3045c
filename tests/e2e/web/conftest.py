"""A real server and a real browser: ``insightlog serve`` on a free port over a fresh SQLite store
(the worked example, a signing key, a checkpoint, a demo account, as ``make serve`` makes them),
and headless Chromium (Debian's package) driven over the DevTools pipe.

Without Chromium, or without axe-core (installed from npm by ``make axe``, or here on first use),
the tests are skipped with the reason, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.report.cdp import Browser, CDPError
from tests.helpers import HARBOUR, ROOT

SERVICE = "Harbour Home Care"
USER = "Demo Manager"
AXE_VERSION = "4.11.0"
VENDOR = Path(__file__).parent / "vendor"
AXE = VENDOR / "node_modules" / "axe-core" / "axe.min.js"
IMAGES = ROOT / "docs" / "images"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason}, and CI=true requires the browser tests")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    root: Path
    env: dict[str, str]
    password: str
    proc: subprocess.Popen[bytes]

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        exe = Path(sys.executable).with_name("insightlog")
        return subprocess.run(
            [str(exe), *args], env=self.env, input=stdin, capture_output=True, text=True, timeout=120, check=False
        )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("web-e2e")
    env = {
        **os.environ,
        "INSIGHTLOG_DB": str(root / "ledger.sqlite"),
        "INSIGHTLOG_KEY": str(root / "keys" / "provider.key"),
        "INSIGHTLOG_CHECKPOINT_FILE": str(root / "checkpoints.jsonl"),
        "INSIGHTLOG_PROVIDER_NAME": "Harbour Care Group (demo)",
    }
    env.pop("INSIGHTLOG_DATABASE_URL", None)
    port = free_port()
    password = secrets.token_urlsafe(12)
    exe = Path(sys.executable).with_name("insightlog")
    server = Server(f"http://127.0.0.1:{port}", root, env, password, None)  # type: ignore[arg-type]
    for args, stdin in (
        (["import", str(HARBOUR)], None),
        (["keys", "init"], None),
        (["checkpoint"], None),
        (
            [
                "users",
                "add",
                USER,
                "--staff-id",
                "RM-DEMO",
                "--role",
                "registered_manager",
                "--rights",
                "record,judge,view,audit,admin",
                "--all-services",
            ],
            password + "\n",
        ),
    ):
        done = server.cli(*args, stdin=stdin)
        assert done.returncode == 0, done.stderr
    log = open(root / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    server.proc = proc
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(server.base + "/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log.close()
            pytest.fail(f"the server did not start: {(root / 'server.log').read_text()[-2000:]}")
        time.sleep(0.2)
    yield server
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    log.close()


@pytest.fixture(scope="session")
def chromium() -> str:
    path = os.environ.get("INSIGHTLOG_CHROMIUM") or "/usr/bin/chromium"
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        unavailable(f"Chromium is not installed at {path} (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's axe.min.js, from npm (injected into pages by the tests only, never by the app)."""
    if not AXE.is_file():
        npm = shutil.which("npm")
        if npm is None:
            unavailable("npm is not installed, so axe-core cannot be (apt-get install npm; make axe)")
        done = subprocess.run(
            [
                str(npm),
                "install",
                "--prefix",
                str(VENDOR),
                f"axe-core@{AXE_VERSION}",
                "--no-audit",
                "--no-fund",
                "--no-save",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0 or not AXE.is_file():
            unavailable(f"axe-core could not be installed from npm: {done.stderr.strip()[-300:]}")
    return AXE.read_text(encoding="utf-8")


@dataclass
class Tab:
    """One browser tab on the server: navigate, fill, submit, press keys, read, watch."""

    browser: Browser
    session: str
    base: str
    downloads: Path
    seen: int = 0
    problems: list[str] = field(default_factory=list)

    def _wait_new(self, method: str, since: int, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.browser.events[since:]:
                if event.get("method") == method and event.get("sessionId") == self.session:
                    return event
            if time.monotonic() > deadline:
                raise CDPError(f"timed out waiting for {method}")
            self.browser.drain(0.05)

    def goto(self, path: str) -> None:
        since = len(self.browser.events)
        self.browser.call("Page.navigate", {"url": self.base + path}, session=self.session)
        self._wait_new("Page.loadEventFired", since)

    def js(self, expression: str) -> Any:
        return self.browser.evaluate(expression, session=self.session)

    def wait_load_after(self, action: str) -> None:
        """Run ``action`` (JavaScript that submits or follows a link) and wait for the next page."""
        since = len(self.browser.events)
        self.js(action)
        self._wait_new("Page.loadEventFired", since)

    def fill(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            found = self.js(
                f"""(() => {{ const el = document.getElementById({name!r}); if (!el) return false;
                el.value = {value!r}; el.dispatchEvent(new Event('change', {{bubbles: true}}));
                return el.value === {value!r}; }})()"""
            )
            assert found, f"no field {name} taking {value!r} on {self.url}"

    def submit(self, selector: str = "main form button[type=submit]") -> None:
        self.wait_load_after(f"document.querySelector({selector!r}).click()")

    @property
    def url(self) -> str:
        return str(self.js("location.href"))

    @property
    def text(self) -> str:
        return str(self.js("document.body.innerText"))

    @property
    def html(self) -> str:
        return str(self.js("document.documentElement.outerHTML"))

    def key(self, key: str, *, shift: bool = False) -> None:
        codes = {"Tab": 9, "Enter": 13, "ArrowDown": 40, "ArrowUp": 38, " ": 32}
        params: dict[str, Any] = {
            "key": key,
            "code": "Space" if key == " " else key,
            "windowsVirtualKeyCode": codes[key],
        }
        if shift:
            params["modifiers"] = 8
        if key == "Enter":
            params["text"] = "\r"
        if key == " ":
            params["text"] = " "
        self.browser.call("Input.dispatchKeyEvent", {"type": "keyDown", **params}, session=self.session)
        self.browser.call("Input.dispatchKeyEvent", {"type": "keyUp", **params}, session=self.session)

    def type_text(self, text: str) -> None:
        self.browser.call("Input.insertText", {"text": text}, session=self.session)

    def screenshot(self, name: str) -> Path:
        import base64

        height = int(self.js("Math.min(document.documentElement.scrollHeight, 2400)"))
        shot = self.browser.call(
            "Page.captureScreenshot",
            {
                "format": "png",
                "clip": {"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1},
                "captureBeyondViewport": True,
            },
            session=self.session,
        )
        IMAGES.mkdir(parents=True, exist_ok=True)
        path = IMAGES / f"web-{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def outside_requests(self) -> list[str]:
        """URLs this tab asked for that are not the app's own."""
        urls = [
            e["params"]["request"]["url"]
            for e in self.browser.session_events(self.session, "Network.requestWillBeSent")
        ]
        # data: URLs are the browser's own drawing of its date inputs' calendar icon: no request leaves.
        return [u for u in urls if not (u.startswith((self.base + "/", "data:")) or u == "about:blank")]

    def console_errors(self) -> list[str]:
        out = []
        for e in self.browser.session_events(
            self.session, "Runtime.consoleAPICalled", "Log.entryAdded", "Runtime.exceptionThrown"
        ):
            p = e["params"]
            if e["method"] == "Runtime.consoleAPICalled" and p.get("type") == "error":
                out.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif e["method"] == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(f"{p['entry'].get('url', '')}: {p['entry'].get('text', '')}")
            elif e["method"] == "Runtime.exceptionThrown":
                out.append(str(p.get("exceptionDetails", {}).get("text")))
        return out


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Browser]:
    with Browser(chromium, timeout=60.0) as b:
        yield b


def new_tab(browser: Browser, server: Server, tmp: Path) -> Tab:
    """A tab in a browser context of its own (its own cookies: a new visitor)."""
    context = browser.call("Target.createBrowserContext")["browserContextId"]
    target = browser.call("Target.createTarget", {"url": "about:blank", "browserContextId": context})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.call(f"{domain}.enable", session=session)
    metrics = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
    browser.call("Emulation.setDeviceMetricsOverride", metrics, session=session)
    downloads = tmp / "downloads"
    downloads.mkdir(exist_ok=True)
    behaviour = {
        "behavior": "allow",
        "downloadPath": str(downloads),
        "eventsEnabled": True,
        "browserContextId": context,
    }
    browser.call("Browser.setDownloadBehavior", behaviour)
    return Tab(browser, session, server.base, downloads)


def signed_in_tab(browser: Browser, server: Server, tmp: Path) -> Tab:
    tab = new_tab(browser, server, tmp)
    tab.goto("/sign-in")
    tab.fill({"name": USER, "password": server.password})
    tab.submit()
    assert tab.url.endswith("/services"), tab.url
    return tab
