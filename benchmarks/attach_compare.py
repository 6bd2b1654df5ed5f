"""Attaching cells: two equiserve trees on the same study, every field of every point
compared, with the loading stages' seconds and peak memory of each.

Each tree runs ``Study.load`` in its own process (``PYTHONPATH=<tree>``), with the
stages timed by :class:`equiserve.timings.Timings`, and saves every attachment it made
(the cells per mode and per layer, the facilities per layer, the cells with no
preference): edge, t, access_m, px, py, ok, reason, moved, shift_m. The two are then
compared exactly (NaN equal to NaN).

    python benchmarks/attach_compare.py OLD_TREE NEW_TREE path/to/study.toml

e.g. ``git worktree add /tmp/old <commit>`` for the old tree. Issue 16's 8x demo
(``equiserve demo --scale 8``) peaks near 10 GB with the attacher before it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

FIELDS = ("edge", "t", "access_m", "px", "py", "ok", "reason", "moved", "shift_m")


def dump(study: str, out: str) -> None:
    """Load ``study`` with the equiserve on the path; save its attachments to ``out``."""
    import warnings

    from equiserve.study import Study
    from equiserve.timings import Timings

    warnings.simplefilter("ignore")
    t = Timings()
    s = Study.load(study, progress=t.step)
    t.close()
    snaps = {f"cells.{m}": v for m, v in s.cell_snaps.items()}
    snaps |= {f"layer.{m}": v for m, v in s.layer_cell_snaps.items()}
    snaps |= {f"facilities.{m}": v for m, v in s.facility_snaps.items()}
    snaps |= {f"no preference.{m}": a.attach() for m, a in s.attachers.items()}
    arrays = {}
    for key, snap in snaps.items():
        for f in FIELDS:
            a = np.asarray(getattr(snap, f))
            arrays[f"{key}.{f}"] = a.astype(str) if a.dtype == object else a
    np.savez(out, **arrays)
    print(t.frame().to_string(index=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", help="the old tree (its equiserve package is imported)")
    ap.add_argument("new", help="the new tree")
    ap.add_argument("study", help="study.toml")
    ap.add_argument("--dump", help=argparse.SUPPRESS)  # internal: one tree's side
    args = ap.parse_args()
    if args.dump:
        dump(args.study, args.dump)
        return
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for tree in (args.old, args.new):
            out = str(Path(tmp) / f"{len(files)}.npz")
            print(f"== {tree}", flush=True)
            subprocess.run([sys.executable, __file__, tree, tree, args.study, "--dump", out],
                           check=True, env={**os.environ, "PYTHONPATH": tree})
            files.append(np.load(out))
        old, new = files
        assert set(old.files) == set(new.files), set(old.files) ^ set(new.files)
        differ = [k for k in sorted(old.files) if not (
            old[k].shape == new[k].shape and np.array_equal(
                old[k], new[k], equal_nan=old[k].dtype.kind == "f"))]
        points = {k.rsplit(".", 1)[0]: len(old[k]) for k in old.files}
        print(f"{len(old.files)} arrays ({len(points)} attachments, "
              f"{sum(points.values()):,} points) compared: "
              + ("identical" if not differ else f"{len(differ)} differ: {differ}"))
        if differ:
            sys.exit(1)


if __name__ == "__main__":
    main()
