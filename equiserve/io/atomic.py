"""Atomic output: everything is written into a temporary folder and moved into place.

If anything fails before the end, the temporary folder is removed and the output folder is
left as it was: no partial outputs, and files already there that the run does not produce
are never touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output_dir(out_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder beside ``out_dir``; on success move its files into ``out_dir``.

    Each file is moved with :func:`os.replace` (atomic on one file system), so a reader
    never sees a half-written output. On an exception nothing in ``out_dir`` changes.
    """
    out = Path(out_dir).expanduser().resolve()
    parent = out.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.equiserve-tmp-", dir=parent))
    try:
        yield tmp
        out.mkdir(parents=True, exist_ok=True)
        for item in sorted(tmp.rglob("*")):
            if item.is_file():
                target = out / item.relative_to(tmp)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(item, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
