"""Which stack frame is the user's: findings are pinned there, never inside torch or bnlint."""

from __future__ import annotations

import os
import sys
import sysconfig
from dataclasses import dataclass
from types import FrameType

_BNLINT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {
        os.path.abspath(paths[key])
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        if key in paths
    }
    return tuple(sorted(roots))


_LIBRARY_ROOTS = _library_roots()
_TORCH_DIR: str | None = None
# Classification by code filename; the same few hundred files come back on every call.
_KIND: dict[str, str] = {}


def _torch_dir() -> str | None:
    global _TORCH_DIR
    if _TORCH_DIR is None and "torch" in sys.modules:
        torch_file = getattr(sys.modules["torch"], "__file__", None)
        if torch_file:
            _TORCH_DIR = os.path.dirname(os.path.abspath(torch_file))
    return _TORCH_DIR


def _kind(filename: str) -> str:
    """'internal' (torch, bnlint, the import machinery), 'library' (stdlib, site-packages) or 'user'."""
    kind = _KIND.get(filename)
    if kind is not None:
        return kind
    path = os.path.abspath(filename) if not filename.startswith("<") else filename
    torch_dir = _torch_dir()
    if (
        path.startswith("<")
        or path.startswith(_BNLINT_DIR + os.sep)
        or (torch_dir and path.startswith(torch_dir + os.sep))
    ):
        kind = "internal"
    elif any(path.startswith(root + os.sep) for root in _LIBRARY_ROOTS):
        kind = "library"
    else:
        kind = "user"
    _KIND[filename] = kind
    return kind


# Where report paths start: the project root for `bnlint run` and `bnlint probe` (so that a
# report joins `bnlint check` findings exactly), else the working directory.
_DISPLAY_ROOT: str | None = None


def set_display_root(root: str | None) -> None:
    global _DISPLAY_ROOT
    _DISPLAY_ROOT = os.path.abspath(root) if root else None


@dataclass(frozen=True)
class Location:
    filename: str
    line: int

    def display(self) -> str:
        """The path relative to the project root (else the working directory) when below it."""
        if self.filename.startswith("<"):
            return self.filename
        try:
            relative = os.path.relpath(self.filename, _DISPLAY_ROOT)
        except ValueError:  # another drive on Windows
            return self.filename
        return self.filename if relative.startswith("..") else relative

    @classmethod
    def of(cls, frame: FrameType | None) -> Location | None:
        return (
            None
            if frame is None
            else cls(os.path.abspath(frame.f_code.co_filename), frame.f_lineno)
        )


def is_torch_frame(frame: FrameType | None) -> bool:
    if frame is None:
        return False
    torch_dir = _torch_dir()
    return torch_dir is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        torch_dir + os.sep
    )


def user_frame(frame: FrameType | None = None) -> FrameType | None:
    """The innermost frame of the user's own code calling into torch.

    >>> Location.of(user_frame())  # from a hook inside `model(x)` at train.py line 40
    Location('/home/me/train.py', 40)
    Library frames (site-packages, the standard library) count only when no user frame
    exists before the walk leaves the user's code again (a factory from a package).
    """
    frame = frame if frame is not None else sys._getframe(1)
    fallback: FrameType | None = None
    seen_outside = False
    while frame is not None:
        filename = frame.f_code.co_filename
        kind = _kind(filename)
        if kind == "user":
            return frame
        if kind == "library":
            seen_outside = True
            if fallback is None:
                fallback = frame
        elif seen_outside and filename.startswith(_BNLINT_DIR):
            # Back in bnlint's own driver (the probe command, the API): stop here.
            break
        frame = frame.f_back
    return fallback


def user_location(frame: FrameType | None = None) -> Location | None:
    """`user_frame` as a file and line."""
    return Location.of(user_frame(frame if frame is not None else sys._getframe(1)))
