"""Loaded by Python processes that a script under `bnlint run` starts (mp.spawn, torchrun,
subprocess with the same interpreter): the probe observes them too and leaves its findings for
the parent's report. Any other `sitecustomize` on the path still runs after this one."""

from __future__ import annotations

import importlib
import os
import sys


def _chain() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
    ours = sys.modules.pop("sitecustomize", None)
    try:
        importlib.import_module("sitecustomize")
    except ImportError:
        if ours is not None:
            sys.modules["sitecustomize"] = ours
    except Exception as error:  # as Python's site module does: warn, go on
        sys.stderr.write(f"Error in sitecustomize; set PYTHONVERBOSE for traceback:\n{error!r}\n")


if os.environ.get("BNLINT_PROBE_CHILDREN"):
    try:
        from bnlint.probe.children import start_child

        start_child()
    except ImportError:
        pass  # another interpreter without bnlint: it runs unobserved, and silently
    except Exception as error:  # never break the child for the probe's sake
        sys.stderr.write(f"bnlint: warning: the runtime probe could not start: {error}\n")
_chain()
