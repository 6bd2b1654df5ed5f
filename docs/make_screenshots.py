"""Regenerate the README screenshots from the bundled demo (headless Chromium, offline).

    python docs/make_screenshots.py            # runs `equiserve demo --offline` into a temp dir

Writes docs/images/map.png (the map with the school gaps and the legend) and
docs/images/report.png (the top of the report).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from equiserve.testing.browser import Browser, StaticServer

HERE = Path(__file__).resolve().parent
MAP_READY = ("Object.keys(window).some(k => k.startsWith('map_') && window[k] instanceof L.Map)"
             " && document.getElementById('eq-legend') !== null")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo"
        subprocess.run([sys.executable, "-m", "equiserve", "demo", "--out", str(out),
                        "--offline"], check=True)
        images = HERE / "images"
        images.mkdir(exist_ok=True)
        with StaticServer(out) as server, Browser(width=1400, height=900) as browser:
            page = browser.open(server.url("map.html"), wait_for=MAP_READY)
            page.pump(1.0)
            page.screenshot(images / "map.png")
            page = browser.open(server.url("report.html"))
            page.screenshot(images / "report.png")
    print(f"wrote {images / 'map.png'} and {images / 'report.png'}")


if __name__ == "__main__":
    main()
