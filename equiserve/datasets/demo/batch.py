"""N synthetic demo cities and their ``batch.toml``: :func:`write_demo_batch`
(``equiserve demo --batch N``, run by ``equiserve batch``).

City k is the demo of seed ``seed + k - 1`` (:func:`~equiserve.datasets.demo.write_demo_inputs`),
so the cities differ in their people, facilities and streets; each is a study of its own in
``city_k/``. They lie side by side like the tiles of ``equiserve demo --scale N``
(:class:`~equiserve.datasets.demo.scale.Tiling`, laid out from the union of every city's
bounds, so at least :data:`~equiserve.datasets.demo.scale.GAP` metres of sea lie between any
two cities' regions), each moved by the functions that tile the scaled demo (one tile alone,
:meth:`~equiserve.datasets.demo.scale.Tiling.alone`):

* City 1 is the plain demo, unmoved: the files of ``write_demo_inputs(seed)`` but for the
  study name and ``crs`` in ``study.toml``. City k >= 2's ``README.txt`` says which city and
  seed it is.
* Names and ids need no suffix (each city is its own study): city k keeps its demo's names
  ("Old Town") and ids ("S012"), OSM ids included.
* ``study.toml`` is the demo's, with ``name = "Demo city k (synthetic)"`` and
  ``crs = "EPSG:32649"`` (the CRS the cities are laid out in, as for the tiles).
* City k >= 2 keeps ``[forecast]``: its new town (``newtown.geojson``) moves with the city,
  ``forecast_shares.csv`` has no place in it. It has no ``plan.toml``: the demo plan gives a
  clinic in city 1's coordinates and facility ids of city 1. Its ``places.csv`` (the
  gazetteer) moves with it.
* ``batch.toml`` lists ``city_1`` .. ``city_<n>`` (``[[city]]`` name and study path);
  ``README.txt`` says what is where.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile
from typing import Final

from equiserve.datasets.demo import write_demo_inputs
from equiserve.datasets.demo.layout import DEMO_CRS
from equiserve.datasets.demo.scale import GAP, Tiling, laid_out_study, tile_frame, write_tiles

__all__ = ["batch_toml", "city_name", "write_demo_batch"]

_LAID_OUT: Final = "the cities are"


def city_name(k: int) -> str:
    """The study name of city `k` (from 1).

    >>> city_name(2)
    'Demo city 2 (synthetic)'
    """
    return f"Demo city {k} (synthetic)"


def write_demo_batch(folder: str | os.PathLike[str], n: int, seed: int = 2017) -> pathlib.Path:
    """Write `n` synthetic demo cities into ``folder/city_1`` ... ``folder/city_<n>`` and
    ``folder/batch.toml`` listing them; return the ``batch.toml`` path.

    Parameters
    ----------
    folder : str or os.PathLike
        Destination folder, created if missing (a fresh, empty folder is expected).
    n : int
        Number of cities (>= 1).
    seed : int, default 2017
        Seed of city 1; city k is the demo of seed ``seed + k - 1``.

    Returns
    -------
    pathlib.Path
        Path of the ``batch.toml`` written into `folder`.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a whole number >= 1, got {n!r}")
    import geopandas as gpd
    import numpy as np

    out = pathlib.Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="equiserve-batch-") as tmp:
        # city 1 is written in place; the others first unmoved, to lay out all from their bounds
        sources = [out / "city_1"] + [pathlib.Path(tmp, f"city_{k}") for k in range(2, n + 1)]
        bounds = []
        for k, src in enumerate(sources, start=1):
            write_demo_inputs(src, seed=seed + k - 1)
            regions = gpd.read_file(src / "regions.gpkg", layer="regions")
            bounds.append(regions.to_crs(DEMO_CRS).total_bounds)
        b = np.array(bounds)
        tiling = Tiling.of((*b[:, :2].min(axis=0), *b[:, 2:].max(axis=0)), n)
        for k, src in enumerate(sources[1:], start=2):
            _write_moved_city(src, out / f"city_{k}", tiling.alone(k))
    for k in range(1, n + 1):
        city = out / f"city_{k}"
        study = (city / "study.toml").read_text(encoding="utf-8")
        (city / "study.toml").write_text(laid_out_study(study, city_name(k), _LAID_OUT),
                                         encoding="utf-8")
        if k >= 2:  # city 1's README.txt is the plain demo's
            readme = (city / "README.txt").read_text(encoding="utf-8")
            (city / "README.txt").write_text(readme + _readme_city(k, n, seed),
                                             encoding="utf-8")
    (out / "README.txt").write_text(_readme_batch(n, seed), encoding="utf-8")
    path = out / "batch.toml"
    path.write_text(batch_toml(n), encoding="utf-8")
    return path


def _write_moved_city(src: pathlib.Path, dst: pathlib.Path, alone: Tiling) -> None:
    """The demo in `src` moved as the one tile of `alone` into `dst`; no plan (see above)."""
    import geopandas as gpd

    dst.mkdir(parents=True, exist_ok=True)
    write_tiles(src, dst, alone)
    newtown = gpd.read_file(src / "newtown.geojson")
    tile_frame(newtown, alone).to_file(dst / "newtown.geojson", driver="GeoJSON")
    for name in ("forecast_shares.csv", "study.toml", "README.txt"):
        shutil.copyfile(src / name, dst / name)


def batch_toml(n: int) -> str:
    """``batch.toml`` of `n` demo cities (read by ``equiserve batch``).

    >>> print(batch_toml(1), end="")
    # A SYNTHETIC batch of 1 demo cities (equiserve.datasets.demo.batch.write_demo_batch)
    #   equiserve batch batch.toml --out batch_out/
    [batch]
    name = "Demo province (synthetic, 1 cities)"
    # scheduler = "tcp://127.0.0.1:8786"   # default: a LocalCluster sized to this machine
    <BLANKLINE>
    [[city]]
    name = "city_1"
    study = "city_1/study.toml"
    """
    head = (
        f"# A SYNTHETIC batch of {n} demo cities "
        f"(equiserve.datasets.demo.batch.write_demo_batch)\n"
        f"#   equiserve batch batch.toml --out batch_out/\n"
        f"[batch]\n"
        f'name = "Demo province (synthetic, {n} cities)"\n'
        f'# scheduler = "tcp://127.0.0.1:8786"   # default: a LocalCluster sized to this machine\n'
    )
    return head + "".join(f'\n[[city]]\nname = "city_{k}"\nstudy = "city_{k}/study.toml"\n'
                          for k in range(1, n + 1))


def _readme_city(k: int, n: int, seed: int) -> str:
    """What the README.txt of city `k` >= 2 adds to the demo's."""
    return (
        f"\nBatch\n-----\n"
        f"This is city {k} of {n} of a SYNTHETIC batch (equiserve demo --batch {n};\n"
        f"equiserve.datasets.demo.batch.write_demo_batch): the demo of seed {seed + k - 1},\n"
        f"named \"{city_name(k)}\" in study.toml, which sets crs = \"{DEMO_CRS}\",\n"
        f"the CRS the cities are laid out in. It is moved west and then north of city 1,\n"
        f"as tile {k} of equiserve demo --scale is; its names and ids are the demo's.\n"
        f"It has no plan.toml: the demo plan names a clinic in city 1's coordinates.\n"
    )


def _readme_batch(n: int, seed: int) -> str:
    title = f"Demo province (synthetic, {n} cities) - a batch of demo studies for equiserve"
    return (
        f"{title}\n{'=' * len(title)}\n\n"
        f"THIS IS GENERATED SYNTHETIC DATA. IT IS NOT ZHUHAI.\n\n"
        f"Written by equiserve.datasets.demo.batch.write_demo_batch(n={n}, seed={seed})\n"
        f"(equiserve demo --batch {n}). Every city is invented.\n\n"
        f"batch.toml      the batch: its name and one [[city]] per study\n"
        f"city_1/         the plain demo city (seed {seed}), study.toml and its inputs\n"
        f"city_k/         the demo city of seed {seed} + k - 1 (other people, facilities and\n"
        f"                streets), moved west and then north like the tiles of\n"
        f"                equiserve demo --scale, at least {GAP / 1000:.0f} km of sea from the\n"
        f"                others; its names and ids are the demo's (each city is a study\n"
        f"                of its own); no plan.toml (the demo plan is city 1's)\n\n"
        f"Run every city's study:\n"
        f"    equiserve batch batch.toml --out batch_out/\n"
        f"One city alone:\n"
        f"    equiserve report city_2/study.toml --out city_2_out/\n"
    )
