"""Write tests/reference/outputs.json from the current code (run once, before a refactor).

    python tests/reference/make_reference.py [--zhuhai ../shared/data/zhuhai]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from digest import folder_digest  # noqa: E402
from runs import DEMO, RUNS, ZHUHAI_RUNS, argv, write_tiny, write_tiny_plain  # noqa: E402


def zhuhai_example(data: Path, folder: Path) -> Path:
    """examples/zhuhai with its paths pointed at ``data`` (as tests/conftest.py does)."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in (HERE.parents[1] / "examples" / "zhuhai").iterdir():
        if f.suffix in (".toml", ".csv"):
            text = f.read_text(encoding="utf-8").replace("../../../shared/data/zhuhai",
                                                         data.as_posix())
            (folder / f.name).write_text(text, encoding="utf-8")
    return folder


def main() -> None:
    from typer.testing import CliRunner

    from equiserve.cli import app

    ap = argparse.ArgumentParser()
    ap.add_argument("--zhuhai", type=Path,
                    default=HERE.parents[2] / "shared" / "data" / "zhuhai")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="equiserve-reference-"))
    paths = {"demo": tmp / DEMO, "tiny": write_tiny(tmp / "tiny"),
             "tiny_plain": write_tiny_plain(tmp / "tiny_plain"),
             "zhuhai": zhuhai_example(args.zhuhai.resolve(), tmp / "zhuhai")}
    out = {}
    runner = CliRunner()
    for name, run in {**RUNS, **ZHUHAI_RUNS}.items():
        folder = tmp / name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = runner.invoke(app, argv(run, out=folder, **paths))
        if res.exit_code != 0:
            raise SystemExit(f"{name} failed:\n{res.output}")
        out[name] = folder_digest(folder)
        print(name, ", ".join(out[name]))
    (HERE / "outputs.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
