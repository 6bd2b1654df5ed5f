"""Atomic output: a run's files appear in the output folder all together or not at all.

    check_output_dir(out)      before the computation: a usable folder, writable, with space
    output_lock(out)           one run at a time per folder: ``.<out>.equiserve-lock`` beside it
    atomic_output_dir(out)     write into a temporary folder; at the end, move all in or none

Everything is written into a temporary folder ``.<out>.equiserve-tmp-*`` beside ``out``.
Only when all is written are the files moved in, as one step that can be undone: every
file the run replaces is first moved aside into ``.<out>.equiserve-backup-*`` (beside
``out``, so on the same file system), then the new files are moved in; if any move fails,
the new files are moved back out and the old ones restored, so the folder keeps every old
file, byte for byte, and a :class:`~equiserve.errors.DataError` names the file that could
not be replaced. Files in ``out`` that the run does not produce are never touched. The
temporary and backup folders are removed in every case (the backup is kept only if an
old file could not be put back, and the error then says where it is). Signals (SIGINT,
SIGTERM, SIGHUP) are held back during the move and its clean-up, so an interrupt comes
before it (the folder is left as it was) or after it (the outputs are complete).
"""

from __future__ import annotations

import errno
import glob
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from equiserve.errors import DataError
from equiserve.settings import MIN_FREE_SPACE_MB

__all__ = ["atomic_output_dir", "check_output_dir", "lock_path", "os_error_message",
           "output_lock"]

TMP_MARK = ".equiserve-tmp-"
BACKUP_MARK = ".equiserve-backup-"
LOCK_MARK = ".equiserve-lock"
#: A note added to an interrupt that came while the files were moved in (held back until
#: the move was done): the output folder then holds the run's complete outputs.
MOVED_IN = "the outputs had all been moved in when the interrupt came"

_HELD: set[Path] = set()  # output folders whose lock this process holds (re-entrant)
_DEFERRED = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP")
                  if hasattr(signal, n))


def _resolve(out_dir: str | os.PathLike[str]) -> Path:
    return Path(out_dir).expanduser().resolve()


# -- messages -----------------------------------------------------------------------------

_FIXES = {
    errno.EACCES: "permission denied: check the permissions of the file and its folder, "
                  "or close it if another program (Excel) holds it open",
    errno.EPERM: "not permitted: check the permissions of the file and its folder",
    errno.ENOSPC: "no space left on the disk: free some space or choose another --out",
    errno.EDQUOT: "disk quota exceeded: free some space or choose another --out",
    errno.EROFS: "the file system is read-only: choose another --out",
    errno.EISDIR: "a folder is where a file goes: remove or rename that folder",
    errno.ENOTDIR: "a file is where a folder goes: remove or rename that file",
    errno.EBUSY: "in use by another program: close it (Excel?) and run again",
    errno.EXDEV: "the output folder is on another disk than the folder holding it (a mount "
                 "point): choose a folder inside it as --out",
    errno.ETXTBSY: "in use by another program: close it and run again",
}


def os_error_message(exc: OSError) -> str:
    """One line for an operating-system error: the path, what went wrong, the likely fix.

    >>> os_error_message(PermissionError(13, "Permission denied", "/out/summary.xlsx"))
    '/out/summary.xlsx: permission denied: check the permissions of the file and its \
folder, or close it if another program (Excel) holds it open'
    """
    where = exc.filename if exc.filename is not None else "(no file named)"
    return f"{where}: {_fix(exc)}"


def _fix(exc: OSError) -> str:
    """What went wrong and the likely fix, by the error's number."""
    return _FIXES.get(exc.errno or 0) or (exc.strerror or str(exc))


# -- pre-flight ---------------------------------------------------------------------------

def _existing_ancestor(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_writable(folder: Path) -> None:
    """Raise a DataError unless a file can be created and removed in ``folder``.

    Both :func:`os.access` and a real probe: root passes ``os.access`` on a read-only
    mount, and ACLs can refuse what the mode bits allow.
    """
    fix = "check its permissions or choose another --out"
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DataError(f"output folder: cannot write into {folder}: {fix}")
    try:
        with _signals_held():  # an interrupt never leaves the probe behind
            fd, probe = tempfile.mkstemp(prefix=".equiserve-probe-", dir=folder)
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise DataError(f"output folder: cannot write into {folder} "
                        f"({exc.strerror or exc}): {fix}") from exc


def _check_free_space(folder: Path) -> None:
    free_mb = shutil.disk_usage(folder).free / 2**20
    if free_mb < MIN_FREE_SPACE_MB:
        raise DataError(f"output folder: only {free_mb:,.0f} MB free on the disk of {folder} "
                        f"(a run needs at least {MIN_FREE_SPACE_MB:,} MB): free some space "
                        "or choose another --out")


def check_output_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Check, before any computation, that a run can write its outputs into ``out_dir``.

    Takes a few milliseconds: it creates and removes one empty file per folder.

    Parameters
    ----------
    out_dir : path-like
        The output folder; it need not exist (it is created when the outputs are moved in).

    Returns
    -------
    pathlib.Path
        ``out_dir`` resolved.

    Raises
    ------
    DataError
        If ``out_dir`` (or a folder above it) is a file; if ``out_dir`` or the folder it is
        created in (where the temporary folder and the lock go) is not writable; if the
        disk has less than ``settings.MIN_FREE_SPACE_MB`` free.
    """
    out = _resolve(out_dir)
    if out.exists() and not out.is_dir():
        raise DataError(f"output folder: {out} is a file, not a folder: remove or rename "
                        "it, or choose another --out")
    base = _existing_ancestor(out.parent)
    if not base.is_dir():
        raise DataError(f"output folder: {base} is a file, so {out} cannot be created in "
                        "it: remove or rename the file, or choose another --out")
    for folder in dict.fromkeys([base, *([out] if out.exists() else [])]):
        _check_writable(folder)
    _check_free_space(base)
    return out


# -- lock ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Holder:
    """Who holds a lock: what its file says."""

    pid: int | None
    host: str
    started: str

    @classmethod
    def me(cls) -> _Holder:
        return cls(os.getpid(), socket.gethostname(),
                   time.strftime("%Y-%m-%d %H:%M:%S %z"))

    def text(self) -> str:
        return f"pid={self.pid}\nhost={self.host}\nstarted={self.started}\n"

    @classmethod
    def read(cls, path: Path) -> _Holder:
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        kv = dict(ln.split("=", 1) for ln in lines if "=" in ln)
        pid = kv.get("pid", "")
        return cls(int(pid) if pid.isdigit() else None, kv.get("host", "?"),
                   kv.get("started", "?"))

    def is_stale(self) -> bool:
        """The holder ran on this host and is gone (another host's run cannot be checked)."""
        if self.pid is None or self.host != socket.gethostname() or os.name == "nt":
            return False  # on Windows os.kill(pid, 0) would end the process
        if self.pid == os.getpid():
            return True  # this process, which does not hold it: left from an earlier run
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False  # alive, another user's
        return False


def lock_path(out_dir: str | os.PathLike[str]) -> Path:
    """The lock file of an output folder: ``<parent>/.<name>.equiserve-lock``."""
    out = _resolve(out_dir)
    return out.parent / f".{out.name}{LOCK_MARK}"


def _create_lock(lock: Path, me: _Holder) -> bool:
    """Create ``lock`` holding ``me``; False if it exists already."""
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    except OSError as exc:
        raise DataError(f"output lock: {os_error_message(exc)}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(me.text())
    return True


def _acquire(out: Path, lock: Path) -> _Holder:
    me = _Holder.me()
    lock.parent.mkdir(parents=True, exist_ok=True)
    if _create_lock(lock, me):
        return me
    holder = _Holder.read(lock)
    if holder.is_stale():  # its run was killed: take it over
        lock.unlink(missing_ok=True)
        if _create_lock(lock, me):
            return me
        holder = _Holder.read(lock)
    who = f"pid {holder.pid}" if holder.pid is not None else "an unknown process"
    raise DataError(f"another equiserve run ({who} on {holder.host}, started at "
                    f"{holder.started}) is writing into {out}: wait for it to finish, or "
                    f"choose another --out; if that process is gone, delete {lock}")


def _clear_killed_runs(out: Path) -> None:
    """What runs killed outright (SIGKILL, a power cut) left beside ``out``, found once its
    lock is held, so that no live run's: temporary folders are removed; a backup folder
    means the run died while moving its files in, and the folder may mix old and new
    files, so the run stops and says where the old files are."""
    for tmp in out.parent.glob(f".{glob.escape(out.name)}{TMP_MARK}*"):
        shutil.rmtree(tmp, ignore_errors=True)
    backups = sorted(out.parent.glob(f".{glob.escape(out.name)}{BACKUP_MARK}*"))
    if backups:
        raise DataError(f"{backups[0]} holds the old outputs of a run that was killed while "
                        f"moving its new ones into {out}, which may now mix old and new "
                        "files: move the files in it back into the folder (or delete it to "
                        "keep the new ones), then run again")


@contextmanager
def output_lock(out_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the lock of ``out_dir`` so that no other run writes into it meanwhile.

    The lock is the file :func:`lock_path` created exclusively (pid, host and start time
    in it) and removed at the end, however the block ends. It is re-entrant within a
    process: a block inside another for the same folder does nothing. A lock left by a
    process of this host that no longer runs is taken over.

    Yields
    ------
    pathlib.Path
        The lock file.

    Raises
    ------
    DataError
        If another live run holds the lock (naming its pid, host and start, and the file
        to delete if that process is gone).
    """
    out = _resolve(out_dir)
    lock = lock_path(out)
    if out in _HELD:
        yield lock
        return
    me: _Holder | None = None
    try:
        with _signals_held():  # a signal between creating the lock and the try: no leak
            me = _acquire(out, lock)
            _HELD.add(out)
        _clear_killed_runs(out)
        yield lock
    finally:
        with _signals_held():
            _HELD.discard(out)
            if me is not None and _Holder.read(lock).pid == me.pid:  # never another run's
                lock.unlink(missing_ok=True)


# -- the all-or-nothing move ----------------------------------------------------------------

def _deliver(signum: int, handler: Any) -> None:
    """Deliver a signal held back to the handler it would have gone to."""
    if callable(handler):
        handler(signum, None)  # Python's SIGINT handler, the CLI's: raise KeyboardInterrupt
    elif handler != signal.SIG_IGN:
        signal.raise_signal(signum)  # the default action (or a handler not set in Python)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back SIGINT, SIGTERM and SIGHUP until the block has ended, then deliver them.

    Python runs signal handlers in the main thread only, so elsewhere nothing can
    interrupt the block and nothing needs holding.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda n, _f: caught.append(n)) for sig in _DEFERRED}
    try:
        yield
    finally:
        for sig, handler in previous.items():  # None: a handler not set from Python
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        for signum in dict.fromkeys(caught):
            _deliver(signum, previous[signum])


def _check_targets(out: Path, files: list[Path]) -> None:
    """Refuse, before anything moves, a folder where a file goes (or a file where a
    folder goes)."""
    if out.exists() and not out.is_dir():
        raise DataError(f"output folder: {out} is a file, not a folder: remove or rename it")
    for rel in files:
        target = out / rel
        if target.is_dir():
            raise DataError(f"cannot write {target}: a folder of that name is in the output "
                            "folder: remove or rename it; nothing was changed")
        for parent in list(target.parents)[: len(rel.parts) - 1]:
            if parent.exists() and not parent.is_dir():
                raise DataError(f"cannot write {target}: {parent} is a file, not a folder: "
                                "remove or rename it; nothing was changed")


@dataclass
class _Move:
    """The state of one all-or-nothing move of ``tmp``'s files into ``out``."""

    tmp: Path
    out: Path
    backup: Path
    saved: list[Path]  # old files moved into backup
    placed: list[Path]  # new files moved into out
    made: list[Path]  # folders created in out (out itself first when it was missing)

    def mkdirs(self, folder: Path) -> None:
        missing = [p for p in [*reversed(folder.parents), folder]
                   if (p == self.out or self.out in p.parents) and not p.exists()]
        for p in missing:
            p.mkdir()
            self.made.append(p)

    def run(self, files: list[Path]) -> None:
        for rel in files:
            if os.path.lexists(self.out / rel):
                (self.backup / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.out / rel, self.backup / rel)
                self.saved.append(rel)
        for rel in files:
            self.mkdirs((self.out / rel).parent)
            os.replace(self.tmp / rel, self.out / rel)
            self.placed.append(rel)

    def undo(self) -> list[Path]:
        """Move the new files out and the old ones back; returns the files not put right
        (an old file not restored, a new one that stayed)."""
        lost = []
        for rel in reversed(self.placed):
            try:
                os.replace(self.out / rel, self.tmp / rel)
            except OSError:
                if rel not in self.saved:  # else restoring the old file replaces it
                    lost.append(rel)
        for rel in reversed(self.saved):
            try:
                os.replace(self.backup / rel, self.out / rel)
            except OSError:
                lost.append(rel)
        for folder in reversed(self.made):
            try:
                folder.rmdir()
            except OSError:
                pass  # not empty: something else is in it now
        return lost


def _move_in(tmp: Path, out: Path) -> None:
    """Move every file of ``tmp`` into ``out``, all or none (see the module's docstring)."""
    files = [p.relative_to(tmp) for p in sorted(tmp.rglob("*")) if p.is_file()]
    _check_targets(out, files)
    backup = Path(tempfile.mkdtemp(prefix=f".{out.name}{BACKUP_MARK}", dir=out.parent))
    move = _Move(tmp, out, backup, [], [], [])
    lost: list[Path] = []
    try:
        move.mkdirs(out)
        move.run(files)
    except BaseException as exc:
        lost = move.undo()
        if isinstance(exc, OSError):
            raise _move_error(exc, move, files, lost) from exc
        raise
    finally:
        if not lost:
            shutil.rmtree(backup, ignore_errors=True)


def _move_error(exc: OSError, move: _Move, files: list[Path], lost: list[Path]) -> DataError:
    name = Path(exc.filename) if exc.filename else move.out
    target = next((move.out / f for f in files
                   if name in (move.out / f, move.tmp / f, move.backup / f)), name)
    fix = _fix(exc)
    kept = (f"; {len(lost)} file(s) could not be put back ({', '.join(map(str, lost))}): "
            f"the old ones are in {move.backup}" if lost
            else "; the output folder was left as it was")
    return DataError(f"could not replace {target}: {fix}{kept}")


@contextmanager
def atomic_output_dir(out_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder beside ``out_dir``; at the end move all its files into
    ``out_dir``, or none.

    On an exception in the block nothing in ``out_dir`` changes. A failed move is undone
    (see the module's docstring). Operating-system errors while writing or moving
    (permission denied, disk full, a folder in a file's place) become a
    :class:`~equiserve.errors.DataError` naming the file and the fix.

    Yields
    ------
    pathlib.Path
        The temporary folder to write the outputs into.
    """
    out = _resolve(out_dir)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}{TMP_MARK}", dir=out.parent))
    except OSError as exc:
        raise DataError(f"output folder: {os_error_message(exc)}") from exc
    try:
        try:
            yield tmp
        except OSError as exc:
            raise DataError(f"could not write the outputs: {os_error_message(exc)}; the "
                            f"output folder {out} was left as it was") from exc
        moved = False
        try:
            with _signals_held():  # the move and its clean-up are one step
                try:
                    _move_in(tmp, out)
                    moved = True
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
        except KeyboardInterrupt as exc:  # held back during a move that succeeded
            if moved:
                exc.add_note(f"{MOVED_IN}: {out} holds this run's complete outputs")
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
