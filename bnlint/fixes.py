"""Writing fixed files: atomically, keeping permissions, never over someone else's change."""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import stat
import tempfile
from pathlib import Path


class ConcurrentModification(Exception):
    """The file changed on disk between bnlint reading it and writing the fix."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes, expected_digest: str | None = None) -> None:
    """Replace `path` with `data` so that readers see the old file or the new, never half.

    The new content goes to a temporary file in the same folder (same file system),
    takes the old file's permissions and is renamed over it. When `expected_digest`
    is given and the file on disk no longer matches it, nothing is written.
    """
    # Through a symlink to the file it names: replacing the link itself would leave the
    # real file unfixed and the link turned into a copy.
    path = Path(os.path.realpath(path))
    if expected_digest is not None and digest(path.read_bytes()) != expected_digest:
        raise ConcurrentModification(str(path))
    mode = stat.S_IMODE(path.stat().st_mode)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".bnlint"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def unified_diff(filename: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{filename}",
            tofile=f"b/{filename}",
        )
    )
