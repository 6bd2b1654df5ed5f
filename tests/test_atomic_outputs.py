"""No lost results (issue 13): a run's outputs replace the old ones all together or not at
all; the output folder is checked before the computation; one run at a time writes into
a folder; SIGTERM cleans up as Ctrl-C does; CSV text cannot run as a spreadsheet formula."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import equiserve
from equiserve import Study, write
from equiserve.cli import app
from equiserve.errors import DataError
from equiserve.io.atomic import atomic_output_dir, check_output_dir, lock_path, output_lock
from equiserve.outputs.tables import safe_text
from equiserve.testing import write_tiny_study

runner = CliRunner()
#: The folder holding the equiserve package these tests import, for subprocesses.
SOURCE = Path(equiserve.__file__).resolve().parents[1]
EVIL = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="module")
def study(tiny_loaded) -> Study:
    return tiny_loaded


@pytest.fixture(scope="module")
def coverage(study):
    return study.coverage()


def old_outputs(study, coverage, out: Path) -> dict[str, bytes]:
    """A folder holding an earlier run's files (each with recognisable old bytes) and a
    planner's own file; returns every file's bytes."""
    write(study, coverage, out_dir=out, basemap=None)
    for f in out.iterdir():
        f.write_bytes(b"old " + f.name.encode())
    (out / "notes.txt").write_text("planner's notes", encoding="utf-8")
    return snapshot(out)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    """Temporary, backup and lock files of equiserve beside the output folders."""
    return sorted(p.name for p in parent.iterdir() if ".equiserve-" in p.name)


def fail_replace(monkeypatch, out: Path, when) -> list[tuple[str, str]]:
    """Make the first os.replace into or out of ``out`` for which ``when(n, src, dst)``
    holds fail (PermissionError), once; returns the calls seen."""
    real, calls = os.replace, []

    def replace(src, dst, **kw):
        src, dst = Path(src), Path(dst)
        if out in (src.parent, dst.parent):
            calls.append((str(src), str(dst)))
            if when(len(calls), src, dst):
                when.fired = True
                raise PermissionError(13, "Permission denied", str(src))
        return real(src, dst, **kw)

    when.fired = False
    monkeypatch.setattr(os, "replace", replace)
    return calls


# -- the all-or-nothing move --------------------------------------------------------------

@pytest.mark.parametrize("nth", ["first", "last backup", "first in", "last in"])
def test_a_failed_replace_is_rolled_back(study, coverage, tmp_path, monkeypatch, nth):
    """Whichever move fails, every old file keeps its bytes, the new files are gone and
    no temporary or backup folder is left."""
    out = tmp_path / "o"
    before = old_outputs(study, coverage, out)
    n = len(before) - 1  # files the run writes (notes.txt is the planner's)
    at = {"first": 1, "last backup": n, "first in": n + 1, "last in": 2 * n}[nth]

    def when(k, src, dst):
        return not when.fired and k == at

    fail_replace(monkeypatch, out, when)
    with pytest.raises(DataError, match=r"could not replace .*: permission denied.*left as "
                                        "it was"):
        write(study, coverage, out_dir=out, basemap=None)
    assert when.fired
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_summary_csv_and_xlsx_never_mix(study, coverage, tmp_path, monkeypatch):
    """summary.xlsx held open (cannot be replaced) after summary.csv was moved in: the
    csv is put back, so the two never disagree; the message names the xlsx and the fix."""
    out = tmp_path / "o"
    before = old_outputs(study, coverage, out)

    def when(k, src, dst):
        return not when.fired and dst == out / "summary.xlsx" and src.parent != out

    calls = fail_replace(monkeypatch, out, when)
    with pytest.raises(DataError, match=r"could not replace .*summary\.xlsx: .*close it if "
                                        r"another program \(Excel\) holds it open"):
        write(study, coverage, out_dir=out, basemap=None)
    moved_in = [d for s, d in calls if Path(s).parent != out]  # new files, in order
    assert moved_in.index(str(out / "summary.csv")) < moved_in.index(str(out / "summary.xlsx"))
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_an_old_file_that_cannot_be_put_back_stays_in_the_named_backup(tmp_path,
                                                                       monkeypatch):
    """The one case a backup is kept: restoring an old file failed too. The error says
    where it is; nothing is deleted."""
    out = tmp_path / "o"
    out.mkdir()
    for name in ("a.csv", "b.csv"):
        (out / name).write_text("old " + name, encoding="utf-8")

    def when(k, src, dst):
        return k == 3 or (src.parent.name.startswith(".o.equiserve-backup-")
                          and src.name == "a.csv")

    fail_replace(monkeypatch, out, when)
    with pytest.raises(DataError, match=r"could not be put back .*a\.csv.*: the old ones are "
                                        r"in .*\.o\.equiserve-backup-"):
        with atomic_output_dir(out) as tmp:
            for name in ("a.csv", "b.csv"):
                (tmp / name).write_text("new", encoding="utf-8")
    (backup,) = [p for p in tmp_path.iterdir() if ".equiserve-backup-" in p.name]
    assert (backup / "a.csv").read_text(encoding="utf-8") == "old a.csv"
    assert (out / "b.csv").read_text(encoding="utf-8") == "old b.csv"


def test_a_folder_where_a_file_goes_fails_before_anything_moves(study, coverage, tmp_path):
    out = tmp_path / "o"
    before = old_outputs(study, coverage, out)
    (out / "summary.csv").unlink()
    del before["summary.csv"]
    (out / "summary.csv").mkdir()
    (out / "summary.csv" / "mine.txt").write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match=r"summary\.csv: a folder of that name .* remove or "
                                        "rename it; nothing was changed"):
        write(study, coverage, out_dir=out, basemap=None)
    assert snapshot(out) == before
    assert (out / "summary.csv" / "mine.txt").read_text(encoding="utf-8") == "x"
    assert leftovers(tmp_path) == []


def test_a_new_output_folder_is_not_left_behind_by_a_failed_move(tmp_path, monkeypatch):
    out = tmp_path / "new"

    def when(k, src, dst):
        return not when.fired and k == 2

    fail_replace(monkeypatch, out, when)
    with pytest.raises(DataError, match="could not replace"):
        with atomic_output_dir(out) as tmp:
            for name in ("a.csv", "b.csv", "c.csv"):
                (tmp / name).write_text(name, encoding="utf-8")
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_disk_full_while_writing_names_the_file(tmp_path):
    out = tmp_path / "o"
    with pytest.raises(DataError, match=r"summary\.csv: no space left on the disk: free "
                                        "some space or choose another --out"):
        with atomic_output_dir(out) as tmp:
            raise OSError(28, "No space left on device", str(tmp / "summary.csv"))
    assert not out.exists() and leftovers(tmp_path) == []


# -- pre-flight ---------------------------------------------------------------------------

def no_computation(monkeypatch):
    def load(*_a, **_k):
        raise AssertionError("the study was loaded before the output folder was checked")

    monkeypatch.setattr(Study, "load", load)


@pytest.mark.parametrize("command", ["report", "sites", "demo"])
def test_out_is_a_file_fails_before_the_computation(tiny_study, tmp_path, monkeypatch,
                                                    command):
    out = tmp_path / "o"
    out.write_text("not a folder", encoding="utf-8")
    no_computation(monkeypatch)
    args = {"report": ["report", str(tiny_study)],
            "sites": ["sites", str(tiny_study), "--layer", "schools", "--count", "1"],
            "demo": ["demo"]}[command]
    result = runner.invoke(app, [*args, "--out", str(out), "--offline"])
    assert result.exit_code == 2, result.output
    assert f"{out.resolve()} is a file, not a folder: remove or rename it" in result.output
    assert out.read_text(encoding="utf-8") == "not a folder"
    assert leftovers(tmp_path) == []


def test_a_folder_under_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match=r"f is a file, so .* cannot be created in it"):
        check_output_dir(tmp_path / "f" / "sub" / "out")


def test_unwritable_parent_is_refused(tmp_path, monkeypatch):
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if Path(p) == tmp_path else real(p, m))
    with pytest.raises(DataError, match=rf"cannot write into {tmp_path}: check its "
                                        "permissions or choose another --out"):
        check_output_dir(tmp_path / "new" / "out")


def test_a_failing_probe_is_refused_even_when_access_says_yes(tmp_path, monkeypatch):
    """As root os.access says yes to everything; the probe file is the real test."""
    import tempfile

    def mkstemp(*_a, **_k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    with pytest.raises(DataError, match=r"cannot write into .*Permission denied"):
        check_output_dir(tmp_path / "out")


def test_read_only_folder_really_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        probe = folder / "probe"
        try:
            probe.write_text("x", encoding="utf-8")
        except PermissionError:
            pass
        else:
            pytest.skip("running as root: a read-only folder is writable anyway (the "
                        "refusal is tested with a failing probe above)")
        with pytest.raises(DataError, match="cannot write into"):
            check_output_dir(folder / "out")
    finally:
        folder.chmod(0o755)


def test_low_free_space_is_refused(tmp_path, monkeypatch):
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage",
                        lambda p: usage._replace(free=10 * 2**20))
    with pytest.raises(DataError, match=r"only 10 MB free on the disk of .*at least 200 MB"):
        check_output_dir(tmp_path / "out")


def test_the_check_is_quick(tmp_path):
    t0 = time.perf_counter()
    assert check_output_dir(tmp_path / "out") == (tmp_path / "out").resolve()
    assert time.perf_counter() - t0 < 1.0
    assert list(tmp_path.iterdir()) == []


# -- the lock -----------------------------------------------------------------------------

def write_lock(out: Path, pid: int, host: str | None = None) -> Path:
    import socket

    lock = lock_path(out)
    lock.write_text(f"pid={pid}\nhost={host or socket.gethostname()}\n"
                    "started=2024-01-01 09:00:00 +0800\n", encoding="utf-8")
    return lock


def test_a_live_runs_lock_is_respected(study, coverage, tmp_path):
    out = tmp_path / "o"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = write_lock(out, other.pid)
        with pytest.raises(DataError, match=rf"another equiserve run \(pid {other.pid} on "
                                            r".*started at 2024-01-01 09:00:00 \+0800\) is "
                                            rf"writing into {out}.*delete {lock}"):
            write(study, coverage, out_dir=out, basemap=None)
        assert not out.exists()
        assert lock.read_text(encoding="utf-8").startswith(f"pid={other.pid}\n")
    finally:
        other.kill()
        other.wait()


def test_another_hosts_lock_is_respected(tmp_path):
    out = tmp_path / "o"
    write_lock(out, 1, host="elsewhere.example")
    with pytest.raises(DataError, match="pid 1 on elsewhere.example"):
        with output_lock(out):
            pass


def test_a_stale_lock_is_taken_over(study, coverage, tmp_path):
    out = tmp_path / "o"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_lock(out, gone.pid)
    write(study, coverage, out_dir=out, basemap=None)
    assert (out / "summary.csv").is_file()
    assert leftovers(tmp_path) == []


def test_the_lock_is_held_while_writing_and_removed_after(study, coverage, tmp_path):
    out = tmp_path / "o"
    lock, seen = lock_path(out), []
    write(study, coverage, out_dir=out, basemap=None,
          progress=lambda _m: seen.append(lock.read_text(encoding="utf-8")))
    assert seen and all(f"pid={os.getpid()}" in s for s in seen)
    assert leftovers(tmp_path) == []


def test_the_lock_is_removed_after_a_failure(study, coverage, tmp_path, monkeypatch):
    import equiserve.outputs.writer as writer

    def broken(*_a, **_k):
        raise RuntimeError("the map broke")

    monkeypatch.setattr(writer, "study_map", broken)
    with pytest.raises(RuntimeError, match="the map broke"):
        write(study, coverage, out_dir=tmp_path / "o", basemap=None)
    assert leftovers(tmp_path) == [] and not (tmp_path / "o").exists()


def test_the_lock_is_reentrant_in_a_process(study, coverage, tmp_path):
    out = tmp_path / "o"
    with output_lock(out) as lock:
        write(study, coverage, out_dir=out, basemap=None)
        assert lock.is_file()
    assert leftovers(tmp_path) == []


def test_the_cli_holds_the_lock_through_the_computation(tiny_study, tmp_path, monkeypatch):
    out, held = tmp_path / "o", []
    real = Study.equity

    def equity(self, *a, **k):
        held.append(lock_path(out).is_file())
        return real(self, *a, **k)

    monkeypatch.setattr(Study, "equity", equity)
    result = runner.invoke(app, ["report", str(tiny_study), "--out", str(out), "--offline"])
    assert result.exit_code == 0, result.output
    assert held == [True]
    assert leftovers(tmp_path) == []


# -- signals ------------------------------------------------------------------------------

SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from equiserve.cli import install_signal_handlers
    from equiserve.io.atomic import atomic_output_dir, output_lock

    install_signal_handlers()
    out = Path(sys.argv[1])
    try:
        with output_lock(out), atomic_output_dir(out) as tmp:
            (tmp / "summary.csv").write_text("new", encoding="utf-8")
            print("writing", flush=True)
            time.sleep(60)
    except KeyboardInterrupt as exc:
        print(type(exc).__name__, exc, flush=True)
        sys.exit(3)
""")


def python_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(SOURCE), *filter(None, [os.environ.get("PYTHONPATH")])])}


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGTERM/SIGHUP on Windows")
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_a_signal_while_writing_cleans_up(tmp_path, sig):
    out = tmp_path / "o"
    out.mkdir()
    (out / "summary.csv").write_text("old", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(out)], env=python_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
        assert any(".equiserve-tmp-" in n for n in leftovers(tmp_path))
        proc.send_signal(getattr(signal, sig))
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 3, stderr
    assert stdout == f"Interrupted {sig}\n"
    assert snapshot(out) == {"summary.csv": b"old"}
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name == "nt", reason="POSIX signals")
def test_sigterm_ends_the_cli_cleanly(tmp_path):
    """A real ``equiserve report`` killed while its lock is held: exit 143, one line, the
    folder as it was, nothing left beside it."""
    study_toml = write_tiny_study(tmp_path / "in")
    out = tmp_path / "runs" / "o"
    out.mkdir(parents=True)
    (out / "summary.csv").write_text("old", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "equiserve", "report", str(study_toml),
                             "--out", str(out), "--offline"], env=python_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = lock_path(out)
    try:
        deadline = time.monotonic() + 60
        while (not lock.exists() and not leftovers(out.parent) and proc.poll() is None
               and time.monotonic() < deadline):  # the lock (or a temporary folder)
            time.sleep(0.002)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal came")
    assert proc.returncode == 143, stderr
    assert "interrupted (SIGTERM): the output folder was left as it was" in stderr
    assert "Traceback" not in stderr
    assert snapshot(out) == {"summary.csv": b"old"}
    assert leftovers(out.parent) == []


@pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="no SIGTERM")
def test_a_signal_during_the_move_waits_until_it_is_done(tmp_path, monkeypatch):
    """SIGTERM while the files are moved in is held back: the move completes, then the
    interrupt comes, with a note saying the outputs are complete."""
    from equiserve.cli import install_signal_handlers

    out, real = tmp_path / "o", os.replace

    def replace(src, dst, **kw):
        os.kill(os.getpid(), signal.SIGTERM)
        return real(src, dst, **kw)

    previous = install_signal_handlers()
    try:
        with pytest.raises(KeyboardInterrupt) as info:
            with atomic_output_dir(out) as tmp:
                for name in ("a.csv", "b.csv"):
                    (tmp / name).write_text("new", encoding="utf-8")
                monkeypatch.setattr(os, "replace", replace)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    assert snapshot(out) == {"a.csv": b"new", "b.csv": b"new"}
    assert any("holds this run's complete outputs" in n for n in info.value.__notes__)
    assert leftovers(tmp_path) == []


# -- errors of the operating system -------------------------------------------------------

def test_the_cli_names_the_file_of_an_os_error(tiny_study, tmp_path, monkeypatch):
    def load(*_a, **_k):
        raise PermissionError(13, "Permission denied", "/data/schools.gpkg")

    monkeypatch.setattr(Study, "load", load)
    result = runner.invoke(app, ["report", str(tiny_study), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert lines == ["error: /data/schools.gpkg: permission denied: check the permissions "
                     "of the file and its folder, or close it if another program (Excel) "
                     "holds it open"]
    assert leftovers(tmp_path) == []


# -- CSV injection ------------------------------------------------------------------------

def test_text_that_would_run_as_a_formula_is_quoted():
    frame = pd.DataFrame({"name": [EVIL, "+1", "-x", "@SUM(A1)", "\tt", "\rr", "Core", None],
                          "change": [-1.5, -2.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
                          "count": [-1, -2, 0, 1, 2, 3, 4, 5]})
    copy = frame.copy()
    safe = safe_text(frame)
    assert safe["name"].tolist()[:7] == ["'" + EVIL, "'+1", "'-x", "'@SUM(A1)", "'\tt",
                                         "'\rr", "Core"]
    assert pd.isna(safe["name"].iloc[7])
    pd.testing.assert_frame_equal(safe[["change", "count"]], frame[["change", "count"]])
    pd.testing.assert_frame_equal(frame, copy)  # the input is not changed


def test_csv_outputs_quote_formulas_and_the_workbook_keeps_the_name(tmp_path):
    """A region named =HYPERLINK(...) comes out of summary.csv as '=HYPERLINK(...), and
    summary.xlsx keeps the name as written, as text (never a formula)."""
    study_toml = write_tiny_study(tmp_path / "in")
    regions = gpd.read_file(tmp_path / "in" / "regions.geojson")
    regions.loc[regions["name"] == "Core", "name"] = EVIL
    regions.to_file(tmp_path / "in" / "regions.geojson", driver="GeoJSON")
    out = tmp_path / "o"
    result = runner.invoke(app, ["report", str(study_toml), "--out", str(out), "--offline"])
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(out / "summary.csv")
    assert "'" + EVIL in set(summary["name"]) and EVIL not in set(summary["name"])
    assert summary["coverage_pct"].dtype.kind == "f"
    ws = openpyxl.load_workbook(out / "summary.xlsx")["summary"]
    cells = [c for row in ws.iter_rows() for c in row if c.value == EVIL]
    assert cells and all(c.data_type == "s" for c in cells)


def test_what_a_killed_run_left_is_found_when_the_lock_is_taken(tmp_path):
    """SIGKILL cannot be caught: its temporary folder is removed by the next run, and a
    backup folder (killed during the move) stops the next run with where the files are."""
    from equiserve.errors import DataError
    from equiserve.io.atomic import output_lock

    out = tmp_path / "out"
    out.mkdir()
    tmp = tmp_path / ".out.equiserve-tmp-abc"
    tmp.mkdir()
    (tmp / "summary.csv").write_text("half", encoding="utf-8")
    with output_lock(out):
        assert not tmp.exists()
    backup = tmp_path / ".out.equiserve-backup-abc"
    backup.mkdir()
    (backup / "summary.csv").write_text("old", encoding="utf-8")
    with pytest.raises(DataError, match=r"equiserve-backup-abc holds the old outputs of a run "
                                        r"that was killed"):
        with output_lock(out):
            pass
    assert (backup / "summary.csv").read_text(encoding="utf-8") == "old"
    assert not (tmp_path / ".out.equiserve-lock").exists()  # released on the error


@pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="no SIGTERM")
def test_a_signal_while_the_lock_is_taken_leaves_no_lock(tmp_path, monkeypatch):
    """SIGTERM right after the lock file is created (before the block that removes it):
    held back until the lock is ours to remove, so the interrupt leaves nothing."""
    import equiserve.io.atomic as atomic
    from equiserve.cli import install_signal_handlers

    real = atomic._create_lock

    def create(lock, me):
        made = real(lock, me)
        os.kill(os.getpid(), signal.SIGTERM)
        return made

    monkeypatch.setattr(atomic, "_create_lock", create)
    previous = install_signal_handlers()
    try:
        with pytest.raises(KeyboardInterrupt):
            with atomic.output_lock(tmp_path / "o"):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    assert not lock_path(tmp_path / "o").exists()
