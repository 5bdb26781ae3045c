"""Writing output files safely: never through a symbolic link, never over a file unless asked.

Every file insightlog writes for a user (exports, reports, packs, backups, keys, the outside
checkpoint file) goes through here, so that someone who can write to the output directory
cannot redirect the write with a planted symlink (``F``, or a predictable ``F.partial``) or make
it clobber a file:

- ``write_bytes`` / ``write_with`` / ``creating`` write into a new temporary file in the target's
  directory (random name, ``O_CREAT | O_EXCL | O_NOFOLLOW``), flush and fsync it, then move it
  into place: by ``link`` when the target must not exist (atomic, fails if anything, a symlink
  included, holds the name) or by ``replace`` when ``overwrite=True`` (a symlink at the target is
  replaced, never followed). Readers see the old file or the whole new one, never a part.
- ``append_bytes`` appends to a regular file opened with ``O_APPEND | O_NOFOLLOW``.
- ``private_directory`` makes missing directories with mode 0700 whatever the umask;
  ``private_workdir`` gives a fresh 0700 directory beside a target for tools that write a file
  themselves (SQLite, Chromium), and ``publish`` moves their finished file into place.

``mode`` sets the new file's permission bits exactly (umask ignored); without it a new file gets
0666 less the umask, like any file a program creates. Pure standard library; POSIX (Linux, macOS).
Errors are ``OutputFileError``, one line naming the path.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, TypeVar

from insightlog.errors import InsightlogError

T = TypeVar("T")

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
# link() unsupported on this file system: fall back to a checked rename (see _commit).
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS}


class OutputFileError(InsightlogError):
    """Raised when an output file cannot be written safely; the message names the path."""


def _describe(path: Path) -> str:
    try:
        st = os.lstat(path)
    except OSError:
        return "exists"
    if stat.S_ISLNK(st.st_mode):
        return "exists (a symbolic link)"
    if stat.S_ISDIR(st.st_mode):
        return "exists (a directory)"
    return "exists"


def _exists_error(path: Path) -> OutputFileError:
    return OutputFileError(f"{path} {_describe(path)}; not overwriting it")


def _os_error(path: Path, exc: OSError) -> OutputFileError:
    return OutputFileError(f"cannot write {path}: {exc.strerror or exc}")


def _split(path: str | os.PathLike[str]) -> tuple[Path, Path, str]:
    target = Path(path)
    name = target.name
    if not name or name in (".", ".."):
        raise OutputFileError(f"{target} is not a file name")
    return target, target.parent, name


def _open_directory(directory: Path, target: Path) -> int:
    try:
        return os.open(directory, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    except FileNotFoundError:
        raise OutputFileError(f"cannot write {target}: no directory {directory}") from None
    except NotADirectoryError:
        raise OutputFileError(f"cannot write {target}: {directory} is not a directory") from None
    except OSError as exc:
        raise _os_error(target, exc) from None


def _commit(dir_fd: int, temporary: str, name: str, target: Path, overwrite: bool) -> None:
    if overwrite:
        try:
            os.replace(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except IsADirectoryError:
            raise OutputFileError(f"cannot write {target}: it is a directory") from None
        return
    try:
        os.link(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    except FileExistsError:
        raise _exists_error(target) from None
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        # No hard links here (some network and FAT file systems): check, then rename. The window
        # between the two is the only place a racing writer could be overwritten.
        try:
            os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            os.rename(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            return
        raise _exists_error(target) from None
    with contextlib.suppress(OSError):  # the file is in place; a stray temporary name is harmless
        os.unlink(temporary, dir_fd=dir_fd)


@contextlib.contextmanager
def creating(path: str | os.PathLike[str], *, overwrite: bool = False, mode: int | None = None) -> Iterator[BinaryIO]:
    """A binary file object whose content becomes ``path`` when the block ends without error.

    Nothing appears at ``path`` if the block raises; an existing ``path`` (a symlink included)
    is refused with ``OutputFileError`` unless ``overwrite``, and then replaced, never followed.
    """
    target, directory, name = _split(path)
    if not overwrite and os.path.lexists(target):
        raise _exists_error(target)
    dir_fd = _open_directory(directory, target)
    temporary = f".{name}.{secrets.token_hex(8)}.tmp"
    created = False
    try:
        try:
            fd = os.open(
                temporary,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC,
                0o600 if mode is not None else 0o666,
                dir_fd=dir_fd,
            )
        except OSError as exc:
            raise _os_error(target, exc) from None
        created = True
        with os.fdopen(fd, "wb") as fh:
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        try:
            _commit(dir_fd, temporary, name, target, overwrite)
        except OSError as exc:
            raise _os_error(target, exc) from None
        created = False
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)
    finally:
        if created:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=dir_fd)
        os.close(dir_fd)


def write_with(
    path: str | os.PathLike[str],
    writer: Callable[[BinaryIO], T],
    *,
    overwrite: bool = False,
    mode: int | None = None,
) -> T:
    """Call ``writer`` with a file object for ``path`` (see ``creating``); return what it returns."""
    with creating(path, overwrite=overwrite, mode=mode) as fh:
        return writer(fh)


def write_bytes(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = False, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` safely (see ``creating``)."""
    with creating(path, overwrite=overwrite, mode=mode) as fh:
        fh.write(data)


def append_bytes(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644) -> None:
    """Append ``data`` to the regular file ``path`` (created with ``mode`` if missing) and fsync.

    A symbolic link, a FIFO or a device at ``path`` is refused, not written through.
    """
    target = Path(path)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _CLOEXEC | _NONBLOCK, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputFileError(f"{target} is a symbolic link; not appending through it") from None
        if exc.errno == errno.ENXIO:  # a FIFO with no reader, opened non-blocking
            raise OutputFileError(f"{target} is not a regular file; not appending to it") from None
        raise _os_error(target, exc) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OutputFileError(f"{target} is not a regular file; not appending to it")
        os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except OSError as exc:
        raise _os_error(target, exc) from None
    finally:
        os.close(fd)


def check_appendable(path: str | os.PathLike[str]) -> None:
    """Raise ``OutputFileError`` unless ``append_bytes(path, ...)`` would be allowed: ``path`` is
    missing (its directory existing) or a regular file. For checking before a commit elsewhere."""
    target = Path(path)
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        if not target.parent.is_dir():
            raise OutputFileError(f"cannot write {target}: no directory {target.parent}") from None
        return
    except OSError as exc:
        raise _os_error(target, exc) from None
    if stat.S_ISLNK(st.st_mode):
        raise OutputFileError(f"{target} is a symbolic link; not appending through it")
    if not stat.S_ISREG(st.st_mode):
        raise OutputFileError(f"{target} is not a regular file; not appending to it")


def private_directory(path: str | os.PathLike[str]) -> Path:
    """Make ``path`` and any missing parents, each new one with mode exactly 0700.

    Directories that already exist are left as they are (a symlink to a directory is accepted);
    something other than a directory in the way is an ``OutputFileError``.
    """
    directory = Path(path)
    missing: list[Path] = []
    probe = directory
    while not probe.is_dir():
        if os.path.lexists(probe):
            raise OutputFileError(f"{probe} exists and is not a directory")
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for item in reversed(missing):
        try:
            os.mkdir(item, 0o700)
        except FileExistsError:
            if not item.is_dir():
                raise OutputFileError(f"{item} exists and is not a directory") from None
            continue
        except OSError as exc:
            raise OutputFileError(f"cannot make directory {item}: {exc.strerror or exc}") from None
        os.chmod(item, 0o700, follow_symlinks=False)
    return directory


@contextlib.contextmanager
def private_workdir(beside: str | os.PathLike[str]) -> Iterator[Path]:
    """A fresh directory (mode 0700, random name) in the directory of ``beside``; removed after.

    For tools that open their output file themselves (SQLite's backup, Chromium's PDF printer):
    let them write inside it, then ``publish`` the result. Being on the same file system as the
    target, the move is a link or rename, not a copy.
    """
    target, directory, name = _split(beside)
    work = directory / f".{name}.{secrets.token_hex(8)}.work"
    try:
        os.mkdir(work, 0o700)
    except FileNotFoundError:
        raise OutputFileError(f"cannot write {target}: no directory {directory}") from None
    except OSError as exc:
        raise _os_error(target, exc) from None
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def publish(
    source: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    mode: int | None = None,
) -> None:
    """Move the finished file ``source`` (in a ``private_workdir`` beside ``path``) to ``path``.

    Same rules as ``creating``: never through a symlink, an existing ``path`` refused unless
    ``overwrite``. ``source`` must be a regular file, not a symlink.
    """
    target, directory, name = _split(path)
    origin = Path(source)
    try:
        st = os.lstat(origin)
    except OSError as exc:
        raise _os_error(target, exc) from None
    if not stat.S_ISREG(st.st_mode):
        raise OutputFileError(f"cannot write {target}: {origin} is not a regular file")
    if mode is not None:
        os.chmod(origin, mode)
    if not overwrite and os.path.lexists(target):
        raise _exists_error(target)
    if origin.parent.resolve().parent != directory.resolve():
        raise OutputFileError(f"cannot write {target}: {origin} is not in a work directory beside it")
    dir_fd = _open_directory(directory, target)
    try:
        relative = os.path.join(origin.parent.name, origin.name)
        try:
            _commit(dir_fd, relative, name, target, overwrite)
        except OSError as exc:
            raise _os_error(target, exc) from None
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
