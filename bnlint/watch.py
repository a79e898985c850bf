"""`bnlint check --watch`: lint, then lint again each time a watched file changes.

The watching is watchfiles' (native file-system events, debounced, with a polling
fallback), an optional dependency (`pip install "bnlint[watch]"`) imported only here, so
a plain `bnlint check` never pays for it. Each run is an ordinary `bnlint check` with the
same options: the same output, the same cache. Ctrl-C ends the watch, which is how a
watch is meant to end, so it exits 0 without a traceback.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

import click

from bnlint.engine.status import ExitStatus

# A change to one of these can change the findings: sources, notebooks, configuration
# and the ignore files discovery reads.
WATCHED_SUFFIXES = frozenset({".py", ".pyi", ".ipynb"})
WATCHED_NAMES = frozenset({"pyproject.toml", "bnlint.toml", ".bnlint.toml", ".gitignore"})
# Beside watchfiles' defaults (.git, .venv, __pycache__, ...): bnlint's own cache, which
# every run writes, and the other usual build folders discovery skips.
_IGNORED_DIRECTORIES = (".bnlint_cache", "venv", "build", "dist", ".ruff_cache")
_TICK_MS = 500
_CLEAR_SCREEN = "\x1b[2J\x1b[3J\x1b[H"


def watch_check(options: dict[str, Any]) -> ExitStatus:
    """Run `bnlint check` with `options` now and after every relevant change, until Ctrl-C."""
    try:
        import watchfiles
    except ImportError:
        click.echo('error: `--watch` needs watchfiles: pip install "bnlint[watch]"', err=True)
        return ExitStatus.ERROR
    targets = list(options["paths"]) or ["."]
    if "-" in targets:
        click.echo("error: `--watch` cannot watch standard input; name files or folders", err=True)
        return ExitStatus.ERROR
    missing = [target for target in targets if not Path(target).exists()]
    if missing:
        click.echo(f"error: path `{missing[0]}` does not exist", err=True)
        return ExitStatus.ERROR
    roots = watched_roots(targets)
    relevant = change_filter(
        targets,
        watchfiles.DefaultFilter(
            ignore_dirs=(*watchfiles.DefaultFilter.ignore_dirs, *_IGNORED_DIRECTORIES)
        ),
    )
    # A timeout every half second hands control back, the first time once the watch is
    # set up: the first run starts only then, so no change after it can be missed.
    events = watchfiles.watch(
        *roots, watch_filter=relevant, rust_timeout=_TICK_MS, yield_on_timeout=True
    )
    try:
        next(events)
        status = _lint(options, sys.stdout, changed=())
        # Ctrl-C while a check runs ends that check cleanly (exit 130); it ends the watch too.
        while status != ExitStatus.INTERRUPTED:
            changes = next(events)
            if changes:
                status = _lint(options, sys.stdout, changed=sorted({path for _, path in changes}))
    except KeyboardInterrupt:
        click.echo("", err=True)
    finally:
        events.close()
    return ExitStatus.CLEAN


def watched_roots(targets: Iterable[str]) -> list[Path]:
    """The folders to watch: each folder named, and the folder of each file named.

    A file is watched through its folder because editors often save by writing a new file
    and renaming it over the old one, which ends a watch on the old file itself.
    """
    roots: set[Path] = set()
    for target in targets:
        path = Path(os.path.abspath(target))
        roots.add(path if path.is_dir() else path.parent)
    # A folder inside another watched folder adds nothing but duplicate events.
    return sorted(root for root in roots if not any(o in root.parents for o in roots))


def change_filter(
    targets: Iterable[str], default: Callable[[Any, str], bool]
) -> Callable[[Any, str], bool]:
    """Which changes start a new run: a Python file or notebook under a named folder, a
    named file, or a configuration file; never bnlint's own cache."""
    files = {Path(os.path.abspath(t)) for t in targets if not Path(t).is_dir()}
    folders = [Path(os.path.abspath(t)) for t in targets if Path(t).is_dir()]

    def relevant(change: Any, name: str) -> bool:
        if not default(change, name):
            return False
        path = Path(name)
        if path.name in WATCHED_NAMES:
            return True
        if path in files:
            return True
        return path.suffix in WATCHED_SUFFIXES and any(
            folder == path.parent or folder in path.parents for folder in folders
        )

    return relevant


def _lint(options: dict[str, Any], stream: TextIO, changed: Iterable[str]) -> ExitStatus:
    from bnlint.check_command import run_check

    names = [_display(path) for path in changed]
    if stream.isatty():
        # Only a terminal is a screen; a pipe or a log file keeps every run's output.
        stream.write(_CLEAR_SCREEN)
        stream.flush()
    stamp = time.strftime("%H:%M:%S")
    if names:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        click.echo(f"[{stamp}] {shown} changed; linting again", err=True)
    else:
        click.echo(f"[{stamp}] Linting, then watching for changes", err=True)
    status = ExitStatus(run_check(**options))
    stream.flush()
    if status == ExitStatus.INTERRUPTED:
        return status
    click.echo(
        f"[{time.strftime('%H:%M:%S')}] exit status {int(status)}; watching for changes "
        "(Ctrl-C stops)",
        err=True,
    )
    sys.stderr.flush()
    return status


def _display(path: str) -> str:
    try:
        return Path(path).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path
