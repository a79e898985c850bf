"""Run a script as `python SCRIPT ARGS` would, with a callback once torch is imported."""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class Outcome:
    """How the script ended: an exit status, or an exception to raise again after the report."""

    status: int = 0
    reraise: BaseException | None = None


class _AfterTorchImport(importlib.abc.MetaPathFinder):
    """Calls `callback` right after `import torch` finishes, whoever imports it first."""

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback

    def find_spec(
        self, fullname: str, path: Any, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "torch":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("torch")
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        original = loader.exec_module
        callback = self.callback

        def exec_module(module: types.ModuleType) -> None:
            original(module)
            callback()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def when_torch_imported(callback: Callable[[], None]) -> None:
    """Run `callback` now if torch is loaded, else right after the script imports it.

    A script that never imports torch never pays for it.
    """
    if "torch" in sys.modules:
        callback()
    else:
        sys.meta_path.insert(0, _AfterTorchImport(callback))


def run_script(script: str, args: Sequence[str]) -> Outcome:
    """Execute `script` as the `__main__` module, like the interpreter does for a file."""
    path = os.path.abspath(script)
    try:
        with open(path, "rb") as handle:
            source = handle.read()
    except OSError as error:
        sys.stderr.write(
            f"{sys.executable}: can't open file {path!r}: [Errno {error.errno}] {error.strerror}\n"
        )
        return Outcome(status=2)
    sys.argv[:] = [script, *args]
    sys.path[0:1] = [os.path.dirname(os.path.realpath(path))]
    main = types.ModuleType("__main__")
    main.__dict__.update(
        __file__=path,
        __cached__=None,
        __builtins__=builtins,
        __loader__=importlib.machinery.SourceFileLoader("__main__", path),
        __spec__=None,
        __package__=None,
    )
    # Pickled classes defined in the script (DataLoader workers) resolve through sys.modules.
    sys.modules["__main__"] = main
    try:
        code = compile(source, path, "exec", dont_inherit=True)
        exec(code, main.__dict__)
    except SystemExit as exit_request:
        return Outcome(reraise=exit_request)
    except KeyboardInterrupt as interrupt:
        _print_traceback(interrupt, path)
        return Outcome(status=130, reraise=interrupt)
    except BaseException as error:
        _print_traceback(error, path)
        return Outcome(status=1)
    return Outcome()


def _print_traceback(error: BaseException, path: str) -> None:
    """The traceback `python` prints: it starts at the script, not in bnlint."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != path:
        tb = tb.tb_next
    if tb is None and not isinstance(error, SyntaxError):
        tb = error.__traceback__
    sys.stdout.flush()
    sys.excepthook(type(error), error.with_traceback(tb), tb)
