"""A small headless-Chromium driver over the Chrome DevTools Protocol (CDP), for tests.

It launches Chromium with a fresh profile and no network beyond the loopback interface,
opens pages in tabs, records what happened on them (console errors, uncaught exceptions,
failed resource loads, dialogs, requests), evaluates JavaScript, clicks with a real mouse
and takes screenshots. It speaks CDP over a websocket with ``websocket-client`` (the
``dev`` extra) and needs nothing else; everything runs in the calling thread: each call
reads the websocket until its reply arrives and records the events seen on the way.

Examples
--------
>>> from equiserve.testing.browser import Browser, StaticServer, find_chromium
>>> if find_chromium():  # doctest: +SKIP
...     with StaticServer("out") as server, Browser() as browser:
...         page = browser.open(server.url("map.html"), wait_for="window.L")
...         assert page.console_errors == []
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import functools
import http.server
import itertools
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "Browser",
    "BrowserError",
    "JavaScriptError",
    "Page",
    "StaticServer",
    "find_chromium",
]

#: Executables looked up on PATH by :func:`find_chromium`, in order.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")

#: Hosts the browser may resolve; every other host name resolves to nothing.
ALLOWED_HOSTS = ("localhost", "127.0.0.1")

#: The stand-in proxy for everything off the loopback interface: a host that the
#: resolver rules leave unresolved, so such requests fail at once, IP addresses included.
_NO_PROXY = "http://offline.invalid:9"

#: Requests to data: URLs are recorded shortened to this many characters.
DATA_URL_CHARS = 64

_LAUNCH_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
    "--host-resolver-rules=MAP * ~NOTFOUND, "
    + ", ".join(f"EXCLUDE {host}" for host in ALLOWED_HOSTS),
    f"--proxy-server={_NO_PROXY}",
    # loopback addresses bypass the proxy by Chromium's default (implicit) rule
)


class BrowserError(RuntimeError):
    """Chromium failed to start, a DevTools command failed or timed out, or a page broke."""


class JavaScriptError(BrowserError):
    """A JavaScript expression evaluated on a page threw (or its promise rejected).

    Attributes
    ----------
    expression : str
        The expression that was evaluated.
    text : str
        The exception as JavaScript describes it (usually ``"Error: message"`` and a stack).
    """

    def __init__(self, expression: str, text: str) -> None:
        self.expression = expression
        self.text = text
        shown = expression if len(expression) <= 200 else expression[:200] + "…"
        super().__init__(f"JavaScript {shown!r} threw: {text}")


def find_chromium() -> str | None:
    """The Chromium (or Chrome) executable to use, or None when there is none.

    Returns
    -------
    str or None
        ``$EQUISERVE_CHROMIUM`` when set (a path or a name on PATH), else the first of
        ``chromium``, ``chromium-browser``, ``google-chrome`` found on PATH.
    """
    env = os.environ.get("EQUISERVE_CHROMIUM")
    if env:
        return shutil.which(env) or (env if Path(env).is_file() else None)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


# --------------------------------------------------------------------------- static server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request to stderr, and never from a cache."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self._no_favicon():
            return
        super().do_GET()

    def do_HEAD(self) -> None:
        if self._no_favicon():
            return
        super().do_HEAD()

    def _no_favicon(self) -> bool:
        """Answer a request for a missing /favicon.ico with 204 No Content: Chromium asks
        for one on every page, and a 404 would show up as a console error."""
        path = urllib.parse.urlsplit(self.path).path
        if path == "/favicon.ico" and not Path(self.directory, "favicon.ico").is_file():
            self.send_response(204)
            self.end_headers()
            return True
        return False

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


class StaticServer:
    """Serve a folder over HTTP on 127.0.0.1 at a free port, in a background thread.

    Parameters
    ----------
    root : str or Path
        The folder to serve.

    Examples
    --------
    >>> import tempfile
    >>> with StaticServer(tempfile.mkdtemp()) as server:
    ...     server.url("map.html").startswith("http://127.0.0.1:")
    True
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"no folder to serve at {self.root}")
        handler = functools.partial(_QuietHandler, directory=str(self.root))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        #: The port the server listens on.
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name=f"StaticServer:{self.port}", daemon=True)
        self._thread.start()

    def url(self, name: str = "") -> str:
        """The URL of ``name`` (a path relative to the root, ``/``-separated).

        Parameters
        ----------
        name : str
            File name or relative path; the empty string gives the root URL.

        Returns
        -------
        str
            ``http://127.0.0.1:PORT/name`` with the path percent-encoded.
        """
        return f"http://127.0.0.1:{self.port}/{urllib.parse.quote(name.lstrip('/'))}"

    def close(self) -> None:
        """Stop serving and free the port (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> StaticServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- browser


def _http_json(url: str, method: str = "GET", timeout: float = 10.0) -> Any:
    """GET/PUT a DevTools HTTP endpoint on the loopback interface, bypassing any proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, method=method)
    with opener.open(request, timeout=timeout) as response:
        body = response.read().decode("utf-8", "replace")
    try:
        return json.loads(body)
    except ValueError:
        return body


def _live_processes(pgid: int, marker: str) -> dict[int, bool]:
    """Running (not zombie) processes in process group ``pgid`` or whose command line holds
    ``marker`` (the browser's temporary folder: its crash handlers leave the group), each
    mapped to whether it is in the group."""
    found = {}
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rfind(")") + 2:].split()  # state ppid pgrp ...
            if fields[0] in ("Z", "X"):
                continue
            in_group = fields[2] == str(pgid)
            if in_group or needle in (entry / "cmdline").read_bytes():
                found[int(entry.name)] = in_group
        except (OSError, IndexError):
            continue
    return found


def _stop_process(proc: subprocess.Popen[bytes], marker: str, grace: float = 5.0) -> None:
    """Stop Chromium and every process it started, and wait until none of them runs.

    The browser process gets SIGTERM, then SIGKILL after ``grace`` seconds. Helpers still
    running after it get SIGKILL: at once those in its process group (zygotes, renderers,
    utilities; the group is Chromium's own as it was started in a new session), after a
    second the crash handlers, which leave the group and are found by ``marker`` in their
    command line (they normally exit by themselves). Orphaned helpers are reaped by init,
    not by this process. Without /proc (not Linux) only the process group is killed.
    """
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=grace)
    if not Path("/proc/self/stat").is_file():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        return
    start = time.monotonic()
    while left := _live_processes(proc.pid, marker):
        waited = time.monotonic() - start
        if waited > grace:
            break  # unkillable (e.g. in uninterruptible sleep): give up rather than hang
        for pid, in_group in left.items():
            if in_group or waited > 1.0:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has Linux kill the child when this process dies, even by
    SIGKILL (``PR_SET_PDEATHSIG``), so no Chromium outlives a killed test run; None
    elsewhere, and off the main thread (the signal follows the thread that started it)."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not \
            threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # loaded here, not in the child
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigkill = 1, int(signal.SIGKILL)

    def preexec() -> None:
        prctl(pr_set_pdeathsig, sigkill, 0, 0, 0)

    return preexec


def _cleanup(proc: subprocess.Popen[bytes], folder: str, stderr: Any) -> None:
    """Finalizer of a Browser: stop the process, close its log, remove its folder."""
    try:
        _stop_process(proc, marker=folder)
    finally:
        with contextlib.suppress(OSError):
            stderr.close()
        shutil.rmtree(folder, ignore_errors=True)


class Browser:
    """A headless Chromium, launched on entry and stopped (with all its processes) on exit.

    The browser gets a fresh temporary profile, a fixed window size and no network off
    the loopback interface: host names other than ``localhost`` do not resolve, and any
    other request goes to a proxy that does not exist, so it fails at once.

    Parameters
    ----------
    executable : str, optional
        Chromium or Chrome to run; default :func:`find_chromium`.
    width, height : int
        Window size, and the size of each page's viewport, in CSS pixels (device
        scale factor 1, so screenshots have this many pixels).
    timeout : float
        Seconds to wait for the browser to start, and the default for page loads and
        DevTools replies.
    args : sequence of str
        Extra command-line flags.

    Raises
    ------
    BrowserError
        No executable is found, or Chromium does not start (the message carries the
        end of its stderr).

    Examples
    --------
    >>> with Browser() as browser:  # doctest: +SKIP
    ...     page = browser.open("data:text/html,<p>hi</p>")
    ...     page.evaluate("document.body.textContent")
    'hi'
    """

    def __init__(self, executable: str | None = None, width: int = 1280, height: int = 900,
                 timeout: float = 30.0, args: Sequence[str] = ()) -> None:
        exe = executable or find_chromium()
        if exe is None:
            raise BrowserError("no Chromium found: install chromium or set EQUISERVE_CHROMIUM")
        self.executable = exe
        self.width, self.height, self.timeout = int(width), int(height), float(timeout)
        self.pages: list[Page] = []
        # one temporary folder holds the profile, Chromium's stderr, and its config, cache
        # and crash reports (which it would otherwise keep under ~/.config and ~/.cache)
        self._tmp = tempfile.mkdtemp(prefix="equiserve-chromium-")
        self._profile = os.path.join(self._tmp, "profile")
        self._stderr_path = Path(self._tmp, "stderr.log")
        stderr = self._stderr_path.open("wb")
        env = {**os.environ, "XDG_CONFIG_HOME": os.path.join(self._tmp, "config"),
               "XDG_CACHE_HOME": os.path.join(self._tmp, "cache")}
        cmd = [exe, *_LAUNCH_FLAGS, f"--user-data-dir={self._profile}",
               f"--window-size={self.width},{self.height}", *args, "about:blank"]
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=stderr,
                                          env=env, start_new_session=True,
                                          preexec_fn=_die_with_parent())
        except OSError as exc:
            stderr.close()
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise BrowserError(f"cannot run {exe}: {exc}") from exc
        self._finalizer = weakref.finalize(self, _cleanup, self._proc, self._tmp, stderr)
        try:
            self.port = self._wait_for_port(time.monotonic() + self.timeout)
        except BaseException:
            self.close()
            raise

    # -- lifecycle --------------------------------------------------------------------

    def _stderr_tail(self, chars: int = 3000) -> str:
        try:
            text = self._stderr_path.read_text("utf-8", "replace")
        except OSError:
            return ""
        return text[-chars:]

    def _wait_for_port(self, deadline: float) -> int:
        port_file = Path(self._profile) / "DevToolsActivePort"
        while True:
            if port_file.is_file():
                lines = port_file.read_text().splitlines()
                if len(lines) >= 2 and lines[0].strip().isdigit():
                    return int(lines[0])
            code = self._proc.poll()
            if code is not None:
                raise BrowserError(f"{self.executable} exited with code {code} before "
                                   f"DevTools started; its stderr:\n{self._stderr_tail()}")
            if time.monotonic() > deadline:
                raise BrowserError(f"{self.executable} did not start DevTools within "
                                   f"{self.timeout:g} s; its stderr:\n{self._stderr_tail()}")
            time.sleep(0.05)

    @property
    def alive(self) -> bool:
        """Whether the Chromium process is still running."""
        return self._finalizer.alive and self._proc.poll() is None

    def close(self) -> None:
        """Close every page, stop Chromium and all its processes, remove its temporary folder.

        Idempotent; also runs when the Browser is garbage-collected or Python exits.
        """
        for page in self.pages:
            page._disconnect()
        self.pages.clear()
        self._finalizer()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- pages ------------------------------------------------------------------------

    def new_page(self) -> Page:
        """Open a new blank tab and connect to it.

        Returns
        -------
        Page
            The tab, with its event lists empty.
        """
        if not self.alive:
            raise BrowserError(f"the browser is not running; its stderr:\n{self._stderr_tail()}")
        base = f"http://127.0.0.1:{self.port}"
        target = _http_json(f"{base}/json/new?about:blank", method="PUT", timeout=self.timeout)
        if not isinstance(target, dict) or "webSocketDebuggerUrl" not in target:
            raise BrowserError(f"DevTools did not open a tab: {target!r}")
        page = Page(self, target["id"], target["webSocketDebuggerUrl"], self.timeout)
        self.pages.append(page)
        return page

    def open(self, url: str, wait_for: str | None = None,
             timeout: float | None = None) -> Page:
        """Open ``url`` in a new tab and wait for its load event.

        Parameters
        ----------
        url : str
            The address to load.
        wait_for : str, optional
            A JavaScript expression to wait for, after the load event, until it is truthy.
        timeout : float, optional
            Seconds for the load and the wait together; default the browser's timeout.

        Returns
        -------
        Page
            The loaded page; its lists hold what happened while it loaded.

        Raises
        ------
        BrowserError
            The navigation failed (e.g. ``net::ERR_CONNECTION_REFUSED``) or timed out.
        """
        page = self.new_page()
        try:
            page.goto(url, wait_for=wait_for, timeout=timeout)
        except BaseException:
            page.close()
            raise
        return page


# --------------------------------------------------------------------------- page


def _remote_text(obj: dict[str, Any]) -> str:
    """A CDP RemoteObject as text, like the console shows it."""
    if "value" in obj:
        value = obj["value"]
        return value if isinstance(value, str) else json.dumps(value)
    for key in ("unserializableValue", "description"):
        if key in obj:
            return str(obj[key])
    return str(obj.get("type", "?"))


def _plain_value(obj: dict[str, Any]) -> Any:
    """The Python value of a CDP RemoteObject returned by value."""
    if "unserializableValue" in obj:
        return _unserializable(obj["unserializableValue"])
    return obj.get("value")


def _truthy(obj: dict[str, Any]) -> bool:
    """JavaScript truthiness of a CDP RemoteObject (by reference or by value)."""
    if obj.get("type") == "undefined" or obj.get("subtype") == "null":
        return False
    if "unserializableValue" in obj:
        return obj["unserializableValue"] not in ("NaN", "-0", "0n", "-0n")
    if "value" in obj:
        return bool(obj["value"])
    return True  # objects, functions, symbols


def _unserializable(text: str) -> Any:
    if text.endswith("n") and text[:-1].lstrip("-").isdigit():  # BigInt
        return int(text[:-1])
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf,
            "-0": -0.0}.get(text, text)


class Page:
    """One browser tab, driven over its own DevTools websocket.

    Made by :meth:`Browser.open` or :meth:`Browser.new_page`; a context manager whose
    exit closes the tab. Events are recorded while a call waits for its reply, so the
    lists are up to date with everything the page did before the last call; :meth:`pump`
    waits for later events.

    Attributes
    ----------
    browser : Browser
        The browser the tab belongs to.
    url : str
        The last URL navigated to.
    console_errors : list of str
        ``console.error`` and failed ``console.assert`` messages, uncaught exceptions
        and unhandled rejections (``Runtime.exceptionThrown``), and browser log entries
        of level error such as failed resource loads.
    console_messages : list of str
        Every console call as ``"type: text"`` (log, info, warning, error, ...).
    dialogs : list of str
        ``"type: message"`` of each alert, confirm, prompt or beforeunload dialog that
        opened; each is dismissed at once (beforeunload is accepted) so the page goes on.
    requests : list of str
        Every URL requested, in order (data: URLs shortened to ``DATA_URL_CHARS``).
    failed_requests : list of str
        ``"url (net::ERR_...)"`` for each request that got no response.
    """

    def __init__(self, browser: Browser, target_id: str, ws_url: str,
                 timeout: float) -> None:
        import websocket  # websocket-client, the dev extra

        self.browser = browser
        self.target_id = target_id
        self.timeout = timeout
        self.url = "about:blank"
        self.console_errors: list[str] = []
        self.console_messages: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.failed_requests: list[str] = []
        self._request_urls: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._replies: dict[int, dict[str, Any]] = {}
        self._ignored: set[int] = set()
        self._loads = 0
        self._crashed = False
        self._timeout_exc = websocket.WebSocketTimeoutException
        self._closed_exc = websocket.WebSocketConnectionClosedException
        self._ws: websocket.WebSocket | None = websocket.create_connection(
            ws_url, timeout=timeout, suppress_origin=True, enable_multithread=False)
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.send(f"{domain}.enable")
        # the window size includes headless Chromium's imaginary browser UI: make the
        # viewport itself the size asked for
        self.send("Emulation.setDeviceMetricsOverride", {
            "width": browser.width, "height": browser.height, "deviceScaleFactor": 1,
            "mobile": False})

    # -- protocol ---------------------------------------------------------------------

    def _post(self, method: str, params: dict[str, Any] | None = None) -> int:
        if self._ws is None:
            raise BrowserError("the page is closed")
        msg_id = next(self._ids)
        try:
            self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
        except (self._closed_exc, OSError) as exc:
            raise BrowserError(f"lost the DevTools connection to {self.url}: {exc}; "
                               f"browser stderr:\n{self.browser._stderr_tail()}") from exc
        return msg_id

    def _read(self, deadline: float) -> bool:
        """Read and handle one message; False when the deadline passed first."""
        if self._ws is None:
            raise BrowserError("the page is closed")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self._ws.settimeout(remaining)
        try:
            raw = self._ws.recv()
        except self._timeout_exc:
            return False
        except (self._closed_exc, OSError) as exc:
            raise BrowserError(f"lost the DevTools connection to {self.url}: {exc}; "
                               f"browser stderr:\n{self.browser._stderr_tail()}") from exc
        msg = json.loads(raw)
        if "id" in msg:
            if msg["id"] in self._ignored:
                self._ignored.discard(msg["id"])
            else:
                self._replies[msg["id"]] = msg
        else:
            self._on_event(msg.get("method", ""), msg.get("params", {}))
        return True

    def send(self, method: str, params: dict[str, Any] | None = None,
             timeout: float | None = None) -> dict[str, Any]:
        """Send one DevTools command and wait for its result, recording events meanwhile.

        Parameters
        ----------
        method : str
            A CDP method such as ``"Page.navigate"``.
        params : dict, optional
            Its parameters.
        timeout : float, optional
            Seconds to wait for the reply; default the page's timeout.

        Returns
        -------
        dict
            The command's ``result``.

        Raises
        ------
        BrowserError
            The command failed, timed out, or the page crashed.
        """
        if self._crashed:
            raise BrowserError(f"the page {self.url} crashed")
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        msg_id = self._post(method, params)
        while msg_id not in self._replies:
            if not self._read(deadline):
                self._ignored.add(msg_id)
                raise BrowserError(f"no reply to {method} within {limit:g} s on {self.url}")
            if self._crashed:
                raise BrowserError(f"the page {self.url} crashed during {method}")
        reply = self._replies.pop(msg_id)
        if "error" in reply:
            err = reply["error"]
            raise BrowserError(f"{method} failed: {err.get('message')} ({err.get('code')})"
                               + (f": {err['data']}" if err.get("data") else ""))
        return reply.get("result", {})

    def _on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled":
            text = " ".join(_remote_text(arg) for arg in params.get("args", []))
            kind = params.get("type", "log")
            self.console_messages.append(f"{kind}: {text}")
            if kind in ("error", "assert"):
                self.console_errors.append(text)
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            exc = details.get("exception")
            text = details.get("text", "Uncaught")
            if exc:
                text = f"{text} {_remote_text(exc)}".strip()
            where = details.get("url")
            if where:
                text += f" ({where}:{details.get('lineNumber', 0) + 1})"
            self.console_errors.append(text)
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            if entry.get("level") == "error":
                text = entry.get("text", "")
                if entry.get("url"):
                    text += f" ({entry['url']})"
                self.console_errors.append(text)
        elif method == "Page.javascriptDialogOpening":
            kind = params.get("type", "alert")
            self.dialogs.append(f"{kind}: {params.get('message', '')}")
            self._ignored.add(self._post("Page.handleJavaScriptDialog",
                                         {"accept": kind == "beforeunload"}))
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            self._request_urls[params.get("requestId", "")] = url
            if url.startswith("data:") and len(url) > DATA_URL_CHARS:
                url = url[:DATA_URL_CHARS] + "…"
            self.requests.append(url)
        elif method == "Network.loadingFailed":
            url = self._request_urls.get(params.get("requestId", ""), "?")
            self.failed_requests.append(f"{url} ({params.get('errorText', '')})")
        elif method == "Page.loadEventFired":
            self._loads += 1
        elif method in ("Inspector.targetCrashed", "Inspector.detached"):
            self._crashed = True

    def pump(self, seconds: float) -> None:
        """Record the page's events for ``seconds`` (e.g. to catch late console errors)."""
        deadline = time.monotonic() + seconds
        while self._read(deadline):
            pass

    # -- navigation and scripts -------------------------------------------------------

    def goto(self, url: str, wait_for: str | None = None,
             timeout: float | None = None) -> None:
        """Navigate this tab to ``url`` and wait for the load event (and ``wait_for``).

        Parameters
        ----------
        url : str
            The address to load.
        wait_for : str, optional
            A JavaScript expression to wait for, after the load event, until it is truthy.
        timeout : float, optional
            Seconds for the load and the wait together; default the page's timeout.
        """
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        loads = self._loads
        self.url = url
        result = self.send("Page.navigate", {"url": url}, timeout=limit)
        if result.get("errorText"):
            raise BrowserError(f"cannot load {url}: {result['errorText']}")
        while self._loads == loads:
            if not self._read(deadline):
                raise BrowserError(f"{url} did not finish loading within {limit:g} s; "
                                   f"console errors: {self.console_errors}")
            if self._crashed:
                raise BrowserError(f"the page {url} crashed while loading")
        if wait_for is not None:
            self.wait_for(wait_for, timeout=max(deadline - time.monotonic(), 0.0))

    def evaluate(self, expression: str, timeout: float | None = None) -> Any:
        """Evaluate a JavaScript expression on the page and return its value.

        Promises are awaited; the value comes back as JSON (numbers, strings, booleans,
        lists, dicts; ``undefined`` and ``null`` as None, NaN and the infinities as floats).

        Parameters
        ----------
        expression : str
            JavaScript source, evaluated as if typed in the console.
        timeout : float, optional
            Seconds to wait; default the page's timeout.

        Returns
        -------
        Any
            The value.

        Raises
        ------
        JavaScriptError
            The expression threw or its promise rejected; the message has the JS error.
        """
        try:
            result = self.send("Runtime.evaluate", {
                "expression": expression, "returnByValue": True, "awaitPromise": True,
                "userGesture": True,
            }, timeout=timeout)
        except BrowserError as exc:
            if "reference chain" in str(exc) or "by value" in str(exc):
                raise BrowserError(f"the value of {expression!r} cannot be passed as JSON "
                                   f"({exc}); return plain data from it") from exc
            raise
        details = result.get("exceptionDetails")
        if details:
            exc = details.get("exception")
            text = _remote_text(exc) if exc else details.get("text", "exception")
            raise JavaScriptError(expression, text)
        return _plain_value(result.get("result", {}))

    def wait_for(self, expression: str, timeout: float | None = None,
                 interval: float = 0.05) -> Any:
        """Evaluate ``expression`` until it is truthy and return that value.

        An expression that throws counts as not yet true (e.g. while a library loads).

        Parameters
        ----------
        expression : str
            JavaScript expression (promises are awaited).
        timeout : float, optional
            Seconds to wait; default the page's timeout.
        interval : float
            Seconds between tries (events are recorded meanwhile).

        Returns
        -------
        Any
            The first truthy value as JSON, or True when it cannot be passed as JSON
            (DOM nodes, class instances with cycles such as a Leaflet map).

        Raises
        ------
        BrowserError
            Still falsy after ``timeout`` (the message has the last value or error).
        """
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        last: object = None
        group = "equiserve-wait-for"
        while True:
            result = self.send("Runtime.evaluate", {
                "expression": expression, "awaitPromise": True, "objectGroup": group,
            }, timeout=max(deadline - time.monotonic(), 1.0))
            details = result.get("exceptionDetails")
            obj = result.get("result", {})
            if details:
                exc = details.get("exception")
                last = _remote_text(exc) if exc else details.get("text", "exception")
            elif _truthy(obj):
                try:
                    return self._by_value(obj)
                finally:
                    self.send("Runtime.releaseObjectGroup", {"objectGroup": group})
            else:
                last = _plain_value(obj)
            self.send("Runtime.releaseObjectGroup", {"objectGroup": group})
            if time.monotonic() >= deadline:
                raise BrowserError(f"{expression!r} still not true after {limit:g} s on "
                                   f"{self.url}; last result: {last!r}; "
                                   f"console errors: {self.console_errors}")
            self.pump(min(interval, max(deadline - time.monotonic(), 0.0)))

    def _by_value(self, obj: dict[str, Any]) -> Any:
        """A RemoteObject's value as JSON, or True when it cannot be passed as JSON."""
        if "objectId" not in obj:
            return _plain_value(obj)
        try:
            reply = self.send("Runtime.callFunctionOn", {
                "objectId": obj["objectId"], "functionDeclaration": "function () { return this; }",
                "returnByValue": True})
        except BrowserError:
            return True
        if reply.get("exceptionDetails"):
            return True
        return _plain_value(reply.get("result", {}))

    # -- input and output -------------------------------------------------------------

    def _centre(self, selector: str) -> tuple[float, float]:
        """Scroll the element into view; its centre in viewport CSS pixels."""
        box = self.evaluate(f"""(async () => {{
            const sel = {json.dumps(selector)};
            const el = document.querySelector(sel);
            if (!el) throw new Error('no element matches ' + sel);
            let r = el.getBoundingClientRect();
            if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) {{
                // only when needed: scrolling boxes that undo it (Leaflet's map) would move
                // the element away again
                el.scrollIntoView({{block: 'center', inline: 'nearest'}});
                await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
                r = el.getBoundingClientRect();
            }}
            if (r.width === 0 || r.height === 0) throw new Error(sel + ' is not visible');
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            const hit = document.elementFromPoint(x, y);
            if (hit !== el && !el.contains(hit)) {{
                const what = hit ? hit.tagName.toLowerCase() +
                    (hit.id ? '#' + hit.id : '') +
                    (hit.className && typeof hit.className === 'string'
                        ? '.' + hit.className.trim().split(/\\s+/).join('.') : '') : 'nothing';
                throw new Error(sel + ' is covered by ' + what);
            }}
            return [x, y];
        }})()""")
        return float(box[0]), float(box[1])

    def hover(self, selector: str) -> None:
        """Move the mouse to the centre of the first element matching ``selector``."""
        x, y = self._centre(selector)
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})

    def click(self, selector: str) -> None:
        """Click the first element matching a CSS selector with a real mouse.

        The element is scrolled into view (if it is not in view); the mouse moves to the
        centre of its box, presses and releases the left button there.

        Parameters
        ----------
        selector : str
            CSS selector.

        Raises
        ------
        JavaScriptError
            Nothing matches, the element has an empty box, or another element covers
            its centre (the message names it).
        """
        x, y = self._centre(selector)
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y,
                                                   "button": "left", "buttons": 1,
                                                   "clickCount": 1})

    def screenshot(self, path: str | os.PathLike[str], full_page: bool = False) -> Path:
        """Save a PNG screenshot of the viewport (or of the whole page).

        Parameters
        ----------
        path : str or Path
            Where to write it; missing folders are made.
        full_page : bool
            Capture the whole scrollable page rather than the viewport.

        Returns
        -------
        Path
            The file written.
        """
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True, clip={
                "x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
        data = self.send("Page.captureScreenshot", params)["data"]
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(data))
        return out

    # -- closing ----------------------------------------------------------------------

    def _disconnect(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                self._ws.close(timeout=1)
            self._ws = None

    def close(self) -> None:
        """Close the tab (idempotent)."""
        if self._ws is None:
            return
        self._disconnect()
        if self.browser.alive:
            with contextlib.suppress(OSError, ValueError):
                _http_json(f"http://127.0.0.1:{self.browser.port}/json/close/{self.target_id}")
        with contextlib.suppress(ValueError):
            self.browser.pages.remove(self)

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
