"""map.html at city scale: ``equiserve demo --scale 8 --offline`` (724,000 cells) writes a
map of at most 15 MB that headless Chromium opens and makes interactive (every overlay
shown at first on the map, a hovered block showing its tooltip) within 5 seconds.

The run takes a minute or two; it is the one slow browser test (``-m "not slow"`` leaves
it out with the others).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness import MAP_JS, OVERLAYS_JS, feature_counts, feature_values, hover_feature

pytestmark = pytest.mark.slow

#: Largest map.html of the 8x demo, bytes.
MAX_MAP_BYTES = 15_000_000
#: Longest time from navigation until the map is interactive, seconds.
MAX_INTERACTIVE_S = 5.0


@pytest.fixture(scope="module")
def city_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city8") / "out"
    run = subprocess.run([sys.executable, "-m", "equiserve", "demo", "--scale", "8",
                          "--offline", "--out", str(out)], capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return out


def test_city_map_is_small_and_interactive_within_seconds(open_page, serve, city_out: Path):
    size = (city_out / "map.html").stat().st_size
    print(f"\n8x demo map.html: {size / 1e6:.2f} MB")
    assert size <= MAX_MAP_BYTES
    url = serve(city_out).url("map.html")
    start = time.perf_counter()
    watched = open_page(url, wait_for=f"""(() => {{
        const map = {MAP_JS}, o = {OVERLAYS_JS};
        return document.querySelectorAll('.leaflet-control-layers-overlays input').length
            === Object.keys(o).length && document.querySelectorAll(
            '.leaflet-control-layers-overlays input:checked').length ===
            Object.values(o).filter(l => map.hasLayer(l)).length; }})()""", timeout=60)
    page = watched.page
    counts = feature_counts(page)
    gaps = next(n for n in counts if n.startswith("Gaps: "))
    unserved = feature_values(page, gaps, "unserved")
    k = max(range(len(unserved)), key=lambda i: float(unserved[i].replace(",", "")))
    tip = hover_feature(page, gaps, k)
    seconds = time.perf_counter() - start
    print(f"8x demo map interactive (loaded, overlays on, a block's tooltip shown) "
          f"after {seconds:.2f} s")
    assert f"(people){unserved[k]}" in tip, tip
    assert counts[gaps] > 10_000  # the blocks of a city, all of them
    assert seconds <= MAX_INTERACTIVE_S
    watched.assert_clean()
