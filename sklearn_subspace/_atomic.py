"""Atomic, durable file writes: the one writer every output goes through.

A file is written to a temporary name in its final folder, flushed and
fsynced, given the mode ``open()`` would have given it, and renamed over the
final name with :func:`os.replace`, which is atomic. A reader therefore sees
the old file or the new one, never half of one; a writer killed at any moment
leaves at worst a temporary file (named ``.<name>.<random>.tmp``); and after a
crash (power loss) the rename survives because the folder is fsynced too.

:func:`tempfile.mkstemp` creates files readable by their owner only (mode
``0600``). Results and cache shards are shared with other users and with
dask workers running under another account, so the final file gets
``0o666 & ~umask``, the mode a plain ``open(path, "w")`` gives.

The feature cache, the study report and checkpoint, and the embedded
teacher's weights all write through :func:`atomic_write`.
"""

import os
import tempfile
import threading
from pathlib import Path

#: Temporary files of this writer start with this prefix and end in ``.tmp``.
TMP_PREFIX = "."
TMP_SUFFIX = ".tmp"

_UMASK_LOCK = threading.Lock()


def current_umask():
    """The process umask (reading it means setting it; a lock keeps that safe).

    Examples
    --------
    >>> from sklearn_subspace._atomic import current_umask
    >>> 0 <= current_umask() <= 0o777
    True
    """
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def fsync_directory(directory):
    """Make a rename or a new file in ``directory`` survive a crash.

    Platforms that cannot open a folder (Windows) skip this silently: there
    the rename itself is what the file system guarantees.
    """
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on folders; the file is synced
    finally:
        os.close(fd)


def atomic_write(
    path,
    write,
    *,
    binary=True,
    encoding="utf-8",
    newline=None,
    content_addressed=False,
):
    """Write ``path`` atomically through ``write(handle)``.

    Parameters
    ----------
    path : str or path-like
        The final file. Its folder must exist.
    write : callable
        Called once with an open file handle, which it fills.
    binary : bool, default=True
        Whether the handle is binary (``"wb"``) or text (``"w"``).
    encoding : str, default="utf-8"
        Text encoding when ``binary`` is False.
    newline : str, default=None
        Passed to :func:`open` for text handles.
    content_addressed : bool, default=False
        Whether any file at ``path`` holds these very bytes (its name is a
        digest of them). Then a file another process holds open (Windows
        refuses to replace it) is simply kept.

    Returns
    -------
    path : pathlib.Path
        The written file.

    Raises
    ------
    OSError
        If the folder cannot be written (read-only, full disk, quota). No
        temporary file is left behind, and an earlier file at ``path`` is
        kept unchanged.

    Examples
    --------
    >>> import os, tempfile
    >>> from pathlib import Path
    >>> from sklearn_subspace._atomic import atomic_write, current_umask
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = atomic_write(Path(tmp) / "a.txt", lambda f: f.write("hi"),
    ...                         binary=False)
    ...     text = path.read_text()
    ...     mode = path.stat().st_mode & 0o777
    ...     leftovers = sorted(os.listdir(tmp))
    >>> text, mode == 0o666 & ~current_umask(), leftovers
    ('hi', True, ['a.txt'])
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f"{TMP_PREFIX}{path.name}.", suffix=TMP_SUFFIX, dir=path.parent
    )
    try:
        mode = "wb" if binary else "w"
        text_options = {} if binary else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **text_options) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())
        _replace(tmp, path, content_addressed)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)
    return path


def atomic_write_to_path(path, write):
    """Like :func:`atomic_write` for writers that take a file name.

    ``write(tmp_path)`` must create the file at ``tmp_path`` (e.g.
    ``DataFrame.to_csv``, ``Figure.savefig``); it is then fsynced, given the
    umask mode and renamed into place.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_subspace._atomic import atomic_write_to_path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = atomic_write_to_path(
    ...         Path(tmp) / "b.txt", lambda p: Path(p).write_text("ok"))
    ...     path.read_text()
    'ok'
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f"{TMP_PREFIX}{path.name}.", suffix=TMP_SUFFIX, dir=path.parent
    )
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())
        _replace(tmp, path, False)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)
    return path


def _replace(tmp, path, content_addressed):
    try:
        os.replace(tmp, path)
    except PermissionError:
        # Windows refuses to replace a file another process has open. A
        # content-addressed file there already has our bytes: keep it.
        if not (content_addressed and path.exists()):
            raise
        os.unlink(tmp)
