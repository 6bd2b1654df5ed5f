"""Helpers of the browser tests (and of docs/make_screenshots.py): the system Chromium for
Playwright, a static file server on 127.0.0.1, and pages that record what went wrong.

The fixtures that use them are in conftest.py beside this file. Nothing here imports
pytest, nor Playwright but for type hints: the callers launch it.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import struct
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Route, WebSocketRoute

#: Executables looked up on PATH by :func:`find_chromium`, in order.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")

#: Flags for headless Chromium: without them the machine's closed network shows up as
#: refused connections at start-up (component updates, sync, QUIC probes, first-run pages).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

#: Viewport of every page, in CSS pixels at device scale factor 1 (= screenshot pixels).
WIDTH, HEIGHT = 1280, 900

#: Host names a page may reach; a request to any other host is aborted and recorded.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: URL schemes that never leave the browser.
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})

#: The first bytes of every PNG file.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: JavaScript: the folium map object (folium names it ``map_<hex>`` on window).
MAP_JS = ("window[Object.keys(window).find(k => k.startsWith('map_') "
          "&& window[k] instanceof L.Map)]")
#: JavaScript: the overlays folium gave its layer control (``layer_control_<hex>_layers``).
OVERLAYS_JS = ("window[Object.keys(window).find(k => k.startsWith('layer_control_') "
               "&& k.endsWith('_layers'))].overlays")


def find_chromium() -> str | None:
    """``$EQUISERVE_CHROMIUM`` (a path or a name on PATH) when set, else the first of
    :data:`CHROMIUM_NAMES` on PATH; None when there is none."""
    env = os.environ.get("EQUISERVE_CHROMIUM")
    if env:
        return shutil.which(env) or (env if Path(env).is_file() else None)
    return next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


def is_local(url: str) -> bool:
    """Whether a request to ``url`` stays on this machine (loopback host or local scheme)."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOOPBACK_HOSTS


# --------------------------------------------------------------------------- static server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request, and never from a cache."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


class StaticServer:
    """Serve a folder over HTTP on 127.0.0.1 at a free port, in a daemon thread."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"no folder to serve at {self.root}")
        handler = functools.partial(_QuietHandler, directory=str(self.root))
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def url(self, name: str = "") -> str:
        """``http://127.0.0.1:PORT/name``, the path percent-encoded."""
        return f"http://127.0.0.1:{self.port}/{urllib.parse.quote(name.lstrip('/'))}"

    def close(self) -> None:
        """Stop serving and free the port."""
        self._httpd.shutdown()
        self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> StaticServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- watched pages


@dataclass
class WatchedPage:
    """A Playwright page and what happened on it since it opened.

    Every list grows while Playwright dispatches events, i.e. during any call on the
    page; :meth:`settle` waits for late ones (timers, rejections).
    """

    page: Page
    #: every console message as ``"type: text"``
    console: list[str] = field(default_factory=list)
    #: ``console.error`` and failed ``console.assert`` texts, and the errors Chromium logs
    #: to the console itself (such as failed resource loads)
    errors: list[str] = field(default_factory=list)
    #: uncaught exceptions and unhandled promise rejections
    exceptions: list[str] = field(default_factory=list)
    #: ``"type: message"`` of each alert, confirm, prompt or beforeunload (each dismissed)
    dialogs: list[str] = field(default_factory=list)
    #: every URL requested, in order
    requests: list[str] = field(default_factory=list)
    #: requested URLs off the loopback interface: aborted, never sent
    blocked: list[str] = field(default_factory=list)
    #: ``"url (error)"`` of each request that got no response (blocked ones included)
    failed: list[str] = field(default_factory=list)

    def settle(self, ms: float = 200) -> None:
        """Let the page run for ``ms`` milliseconds, recording its events meanwhile."""
        self.page.wait_for_timeout(ms)

    def problems(self) -> dict[str, list[str]]:
        """The lists that record something wrong and are not empty."""
        found = {"errors": self.errors, "exceptions": self.exceptions,
                 "dialogs": self.dialogs, "blocked": self.blocked, "failed": self.failed}
        return {name: items for name, items in found.items() if items}

    def assert_clean(self) -> None:
        """Nothing went wrong (after a moment for late errors) and the page requested
        something, all of it on the loopback interface."""
        self.settle()
        assert self.problems() == {}
        assert self.requests, "the page requested nothing, not even itself"
        off = [url for url in self.requests if not is_local(url)]
        assert off == [], f"requests off the loopback interface: {off}"


def _on_dialog(watched: WatchedPage, dialog: Any) -> None:
    watched.dialogs.append(f"{dialog.type}: {dialog.message}")
    if dialog.type == "beforeunload":
        dialog.accept()  # let the page go
    else:
        dialog.dismiss()


def _on_console(watched: WatchedPage, message: Any) -> None:
    watched.console.append(f"{message.type}: {message.text}")
    if message.type in ("error", "assert"):
        where = message.location.get("url")
        watched.errors.append(message.text + (f" ({where})" if where else ""))


def _route(watched: WatchedPage, route: Route) -> None:
    url = route.request.url
    if is_local(url):
        route.continue_()
    else:
        watched.blocked.append(url)
        route.abort("blockedbyclient")


def _route_web_socket(watched: WatchedPage, ws: WebSocketRoute) -> None:
    if is_local(ws.url):
        ws.connect_to_server()
    else:
        watched.blocked.append(ws.url)
        ws.close(code=1008, reason="off the loopback interface")


def watch(context: BrowserContext) -> WatchedPage:
    """A new page of ``context`` that records its events (see :class:`WatchedPage`) and
    whose requests off the loopback interface (HTTP and WebSocket) are aborted.

    Use one context per watched page: the routes are set on the whole context.
    """
    watched = WatchedPage(context.new_page())
    context.route("**/*", functools.partial(_route, watched))
    context.route_web_socket("**/*", functools.partial(_route_web_socket, watched))
    page = watched.page
    page.on("console", functools.partial(_on_console, watched))
    page.on("pageerror", lambda error: watched.exceptions.append(f"{error.name}: "
                                                                 f"{error.message}"))
    page.on("dialog", functools.partial(_on_dialog, watched))
    page.on("request", lambda request: watched.requests.append(request.url))
    page.on("requestfailed", lambda request: watched.failed.append(
        f"{request.url} ({request.failure})"))
    return watched


def feature_counts(page: Page) -> dict[str, int]:
    """Features drawn in each overlay of a folium map's layer control, by overlay name:
    the features of a folium GeoJSON layer, the blocks, areas or points of an equiserve
    compact layer (``eqCount``: its points are made when it is first shown)."""
    return page.evaluate(f"""(() => {{
        const o = {OVERLAYS_JS}, out = {{}};
        for (const n of Object.keys(o))
            out[n] = o[n].eqCount !== undefined ? o[n].eqCount : o[n].getLayers().length;
        return out; }})()""")


#: JavaScript (argument [overlay name, feature]): show only that overlay (and the regions
#: below it), centre the map on the feature at zoom 15 or closer (a 1 km block is then
#: hundreds of pixels wide) and return its container point.
_SHOW_ONLY_JS = f"""([name, k]) => {{
    const map = {MAP_JS}, o = {OVERLAYS_JS};
    for (const n of Object.keys(o))
        if (n !== name && !n.startsWith('Regions') && map.hasLayer(o[n])) map.removeLayer(o[n]);
    if (!map.hasLayer(o[name])) map.addLayer(o[name]);
    const at = o[name].centre ? o[name].centre(k) : o[name].getLayers()[k].getLatLng();
    map.setView(at, Math.max(map.getZoom(), 15), {{animate: false}});
    const p = map.latLngToContainerPoint(at), box = map.getContainer().getBoundingClientRect();
    return [box.left + p.x, box.top + p.y];
}}"""


def hover_feature(page: Page, overlay: str, k: int) -> str:
    """Show only ``overlay``, move the real mouse onto its feature ``k`` (the centre of a
    block, a point) and return the text of the tooltip that opens."""
    page.mouse.move(1, 1)  # off any feature, so that the next move is a new hover
    # a closed tooltip fades out for 200 ms before Leaflet removes it
    page.wait_for_function("!document.querySelector('.leaflet-tooltip')")
    x, y = page.evaluate(_SHOW_ONLY_JS, [overlay, k])
    page.mouse.move(x - 3, y - 3)
    page.mouse.move(x, y, steps=3)
    tip = page.wait_for_selector(".leaflet-tooltip", state="attached")
    # the canvas handles a hover at most every 32 ms and skips moves in between: move
    # once more after that, so the last position counts
    page.wait_for_timeout(50)
    page.mouse.move(x + 1, y)
    page.wait_for_timeout(50)
    return tip.text_content() or ""


def feature_values(page: Page, overlay: str, column: str) -> list:
    """The values (as shown: escaped) of one tooltip column of a compact layer."""
    return page.evaluate(f"([n, c]) => {OVERLAYS_JS}[n].eqTable.cols[c]", [overlay, column])


def run_cli(command: str, study: Path, out: Path, *args: str) -> Path:
    """Run ``equiserve COMMAND STUDY --out OUT --offline ARGS`` in-process; ``out``."""
    from typer.testing import CliRunner

    from equiserve.cli import app

    result = CliRunner().invoke(app, [command, str(study), "--out", str(out), "--offline",
                                      *args])
    assert result.exit_code == 0, result.output
    return out


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG file, which must be one and not nearly empty."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert len(data) > 1000, f"{path} is nearly empty ({len(data)} bytes)"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    return width, height
