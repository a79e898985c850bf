"""Run a script as `python SCRIPT ARGS` (or `python -m MODULE`, `python DIR`) would, with a
callback once torch is imported."""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import importlib.util
import os
import runpy
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class Outcome:
    """How the script ended: an exit status, or an exception to raise again after the report.

    `started` is False when the script never ran (missing, unreadable, not Python, a syntax
    error): then there is nothing to report and bnlint exits 2.
    """

    status: int = 0
    reraise: BaseException | None = None
    started: bool = True


_RUNPY_FILES = frozenset({"<frozen runpy>", runpy.__file__})


def _refuse(message: str) -> Outcome:
    sys.stderr.write(f"bnlint: error: {message}\n")
    return Outcome(status=2, started=False)


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


def run_module(name: str, args: Sequence[str]) -> Outcome:
    """Execute module `name` as `__main__`, like `python -m name ARGS`."""
    sys.path[0:1] = [os.getcwd()]
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as error:
        return _refuse(f"cannot run module `{name}`: {error}")
    if spec is None:
        return _refuse(f"no module named `{name}`")
    origin = spec.origin if spec.origin and os.path.isfile(spec.origin) else None
    if spec.submodule_search_locations is not None:
        main = importlib.util.find_spec(f"{name}.__main__")
        if main is None or not main.origin:
            return _refuse(f"`{name}` is a package and cannot be run directly (no __main__.py)")
        origin = main.origin
    if origin is not None and not _compiles(origin):
        return Outcome(status=2, started=False)
    sys.argv[:] = [origin or name, *args]
    try:
        runpy._run_module_as_main(name, alter_argv=False)  # type: ignore[attr-defined]
    except SystemExit as exit_request:
        return Outcome(reraise=exit_request)
    except KeyboardInterrupt as interrupt:
        _print_traceback(interrupt, origin or "")
        return Outcome(status=130, reraise=interrupt)
    except BaseException as error:
        _print_traceback(error, origin or "")
        return Outcome(status=1)
    return Outcome()


def _compiles(path: str) -> bool:
    """Report a syntax error as `python` would, before anything runs."""
    try:
        with open(path, "rb") as handle:
            compile(handle.read(), path, "exec", dont_inherit=True)
    except SyntaxError as error:
        sys.stdout.flush()
        sys.excepthook(type(error), error, None)
        sys.stderr.write(f"bnlint: error: {path} has a syntax error; nothing ran\n")
        return False
    except (OSError, ValueError):
        return True  # the import system reports it
    return True


def run_script(script: str, args: Sequence[str]) -> Outcome:
    """Execute `script` as the `__main__` module, like the interpreter does for a file.

    A directory runs its `__main__.py` with the directory first on sys.path, as `python DIR`
    does. A notebook is refused: its cells are not one script.
    """
    path = os.path.abspath(script)
    if path.endswith(".ipynb"):
        return _refuse(
            f"{script} is a notebook: `bnlint run` runs Python scripts; export it with "
            f"`jupyter nbconvert --to script {script}` and run the .py, or call "
            "`bnlint.probe.check_model` and `expect_eval` from a cell"
        )
    search_path = os.path.dirname(os.path.realpath(path))
    if os.path.isdir(path):
        search_path = path
        path = os.path.join(path, "__main__.py")
        if not os.path.isfile(path):
            return _refuse(f"can't find '__main__' module in {script!r}")
    try:
        with open(path, "rb") as handle:
            source = handle.read()
    except OSError as error:
        sys.stderr.write(
            f"{sys.executable}: can't open file {path!r}: [Errno {error.errno}] {error.strerror}\n"
        )
        return Outcome(status=2, started=False)
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        sys.stdout.flush()
        sys.excepthook(type(error), error, None)
        sys.stderr.write(f"bnlint: error: {script} cannot be run; nothing ran\n")
        return Outcome(status=2, started=False)
    sys.argv[:] = [script, *args]
    sys.path[0:1] = [search_path]
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
    # Skip bnlint's own frames; `python -m` keeps runpy's frames, so for a module start there.
    while tb is not None and tb.tb_frame.f_code.co_filename != path:
        if tb.tb_frame.f_code.co_filename in _RUNPY_FILES:
            break
        tb = tb.tb_next
    if tb is None and not isinstance(error, SyntaxError):
        tb = error.__traceback__
    sys.stdout.flush()
    sys.excepthook(type(error), error.with_traceback(tb), tb)
