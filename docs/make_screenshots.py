"""Regenerate the README screenshots from the bundled demo (headless Chromium, offline).

    python docs/make_screenshots.py            # runs `equiserve demo --offline` into a temp dir

Writes docs/images/map.png (the map with the school gaps and the legend) and
docs/images/report.png (the top of the report). Needs the ``dev`` extra (Playwright) and
a system Chromium, found as the browser tests find it (tests/browser/harness.py).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "browser"))

from harness import CHROMIUM_ARGS, MAP_JS, StaticServer, find_chromium  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

MAP_READY = f"{MAP_JS} && document.getElementById('eq-legend') !== null"


def main() -> None:
    chromium = find_chromium()
    if chromium is None:
        sys.exit("no Chromium found: install chromium or set EQUISERVE_CHROMIUM")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo"
        subprocess.run([sys.executable, "-m", "equiserve", "demo", "--out", str(out),
                        "--offline"], check=True)
        images = HERE / "images"
        images.mkdir(exist_ok=True)
        with StaticServer(out) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900},
                                    device_scale_factor=1)
            page.goto(server.url("map.html"))
            page.wait_for_function(MAP_READY)
            page.wait_for_timeout(1000)  # a moment for the last layers and the legend to draw
            page.screenshot(path=images / "map.png")
            page.goto(server.url("report.html"))
            page.screenshot(path=images / "report.png")
            browser.close()
    print(f"wrote {images / 'map.png'} and {images / 'report.png'}")


if __name__ == "__main__":
    main()
