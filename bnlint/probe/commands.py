"""`bnlint run` and `bnlint probe`: the click commands (loaded lazily by bnlint.cli)."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from bnlint.report import FORMATS

_FORMAT = click.option(
    "--format", "output_format", type=click.Choice(list(FORMATS)), default="text", show_default=True
)
_OUTPUT = click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write the report to FILE."
)
_MIN_BATCH = click.option(
    "--min-batch-size",
    type=click.IntRange(min=1),
    help="Smallest acceptable training batch (default: config, else 8).",
)
_SELECT = click.option("--select", help="Comma-separated codes or prefixes to report.")
_IGNORE = click.option("--ignore", help="Codes or prefixes not to report.")


def _enabled(select: str | None, ignore: str | None) -> frozenset[str] | None:
    if select is None and ignore is None:
        return None
    from bnlint.cli import _codes
    from bnlint.registry import UnknownSelector, all_rules, expand_selector

    try:
        codes = {c for s in (_codes(select) or ["BN"]) for c in expand_selector(s)}
        codes -= {c for s in (_codes(ignore) or []) for c in expand_selector(s)}
    except UnknownSelector as error:
        raise click.UsageError(f"unknown rule selector `{error}`") from None
    return frozenset(code for code in codes if code in all_rules())


def _configured_min_batch(near: Path) -> int:
    from bnlint.config import CliOverrides, ConfigError, ConfigResolver

    try:
        return ConfigResolver(CliOverrides()).settings_for(near.absolute()).min_batch_size
    except ConfigError:
        return 8


def project_root(near: Path) -> str:
    """The folder `bnlint check` resolves for `near` (its nearest pyproject.toml, else the
    working directory): report paths start there, so a probe report joins exactly."""
    from bnlint.config import CliOverrides, ConfigError, ConfigResolver

    try:
        return str(ConfigResolver(CliOverrides()).settings_for(near.absolute()).root.absolute())
    except ConfigError:
        return os.getcwd()


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@_FORMAT
@_OUTPUT
@_MIN_BATCH
@_SELECT
@_IGNORE
@click.option("--quiet", "-q", is_flag=True, help="Findings only, no summary line.")
@click.option(
    "--exit-nonzero-on-findings",
    is_flag=True,
    help="Exit 1 when the script succeeds but the probe found problems (for CI smoke runs).",
)
@click.option(
    "-m",
    "module",
    metavar="MODULE",
    help="Run library module MODULE as a script, as `python -m MODULE` does.",
)
@click.option(
    "--no-children",
    is_flag=True,
    help="Do not observe the Python processes the script starts (mp.spawn, torchrun workers).",
)
@click.argument("script", type=str, required=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(
    output_format: str,
    output: str | None,
    min_batch_size: int | None,
    select: str | None,
    ignore: str | None,
    quiet: bool,
    exit_nonzero_on_findings: bool,
    module: str | None,
    no_children: bool,
    script: str | None,
    args: tuple[str, ...],
) -> None:
    """Run SCRIPT (a file, or a folder with __main__.py) or `-m MODULE` with ARGS as `python`
    would, under the runtime probe.

    The script's output, exit status and exceptions pass through unchanged; the report goes to
    standard error, or to --output. With --exit-nonzero-on-findings a script that exits 0
    makes bnlint exit 1 when there are findings.
    """
    from bnlint.probe.children import child_findings, children_observed, merge
    from bnlint.probe.frames import set_display_root
    from bnlint.probe.script import run_module, run_script, when_torch_imported

    if module is None and script is None:
        raise click.UsageError("give SCRIPT or -m MODULE")
    if module is not None:
        args = (script, *args) if script is not None else args
    # The script may change directory: --output names a file from where bnlint started.
    output = os.path.abspath(output) if output else None
    enabled = _enabled(select, ignore)
    near = Path(script) if module is None and script is not None else Path.cwd() / "-"
    minimum = min_batch_size or _configured_min_batch(near)
    root = project_root(near)
    set_display_root(root)
    monitors: list[Any] = []

    def install() -> None:
        try:
            from bnlint.probe.runtime import Monitor

            monitor = Monitor(min_batch_size=minimum)
            monitor.install()
            monitors.append(monitor)
        except Exception as error:  # never break the user's script for the probe's sake
            sys.stderr.write(f"bnlint: warning: the runtime probe could not start: {error}\n")

    with contextlib.ExitStack() as stack:
        folder = None if no_children else stack.enter_context(children_observed(minimum, root))
        when_torch_imported(install)
        if module is not None:
            outcome = run_module(module, args)
        else:
            assert script is not None
            outcome = run_script(script, args)
        sys.stdout.flush()
        if monitors:
            monitors[0].uninstall()
        if not outcome.started:
            sys.exit(outcome.status)
        found = monitors[0].findings() if monitors else []
        if folder is not None:
            found = merge(found, child_findings(folder))
    from bnlint.probe.report import unsuppressed, write_report

    kept = unsuppressed(found, enabled)
    write_report(kept, output_format, output, quiet=quiet)
    if isinstance(outcome.reraise, KeyboardInterrupt):
        _die_of_sigint()
    if outcome.reraise is not None:
        if (
            exit_nonzero_on_findings
            and kept
            and isinstance(outcome.reraise, SystemExit)
            and outcome.reraise.code in (None, 0)
        ):
            sys.exit(1)
        raise outcome.reraise
    sys.exit(1 if exit_nonzero_on_findings and kept and outcome.status == 0 else outcome.status)


def _die_of_sigint() -> None:
    """End like the interpreter after an uncaught KeyboardInterrupt: killed by SIGINT."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    if hasattr(signal, "SIGINT") and os.name == "posix":
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(130)


@click.command()
@click.argument("target")
@click.option(
    "--input-shape",
    "input_shapes",
    multiple=True,
    help="Shape of one example input, e.g. 8,3,224,224 (repeat for several inputs).",
)
@click.option(
    "--input-json",
    help="Example inputs as JSON (or a JSON file): keyword inputs "
    '{"input_ids": {"shape": [2, 16], "dtype": "int64", "high": 1000}, "mask": [2, 16]} '
    "or a list for positional ones.",
)
@click.option(
    "--dtype",
    default=None,
    help="Cast the model and the floating inputs to this dtype (default: as built, float32 inputs).",
)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:1, ...")
@click.option(
    "--kwargs", "kwargs_json", help="Keyword arguments for the factory, as a JSON object."
)
@click.option(
    "--expect-trained",
    is_flag=True,
    help="The model should hold trained BatchNorm statistics: report BN501 when it does not.",
)
@_FORMAT
@_OUTPUT
@_SELECT
@_IGNORE
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--quiet", "-q", is_flag=True, help="Findings only, no summary line.")
def probe(
    target: str,
    input_shapes: tuple[str, ...],
    input_json: str | None,
    dtype: str | None,
    device: str,
    kwargs_json: str | None,
    expect_trained: bool,
    output_format: str,
    output: str | None,
    select: str | None,
    ignore: str | None,
    exit_zero: bool,
    quiet: bool,
) -> None:
    """Build the model TARGET (`module:factory` or `path.py:factory`) and probe it.

    Traces one forward pass in each mode and reports findings pinned to the lines that
    constructed the layers. A factory may return `(model, example_inputs)`: a tensor, a tuple
    of positional inputs or a dict of keyword inputs.
    """
    import json

    from bnlint.probe.frames import set_display_root
    from bnlint.probe.target import TargetError, parse_input_json, parse_shapes, probe_target

    enabled = _enabled(select, ignore)
    location = target.rpartition(":")[0]
    set_display_root(project_root(Path(location) if location.endswith(".py") else Path.cwd() / "-"))
    try:
        kwargs = json.loads(kwargs_json) if kwargs_json else {}
        if not isinstance(kwargs, dict):
            raise TargetError("--kwargs must be a JSON object")
        if input_json is not None and input_shapes:
            raise TargetError("give --input-shape or --input-json, not both")
        shapes = parse_shapes(input_shapes) if input_shapes else None
        inputs = parse_input_json(input_json) if input_json is not None else None
        # The factory's and the model's own prints must not mix into a report on stdout.
        quiet_stdout = (
            contextlib.redirect_stdout(sys.stderr) if not output else contextlib.nullcontext()
        )
        with quiet_stdout:
            findings = probe_target(
                target,
                shapes,
                dtype=dtype,
                device=device,
                kwargs=kwargs,
                inputs_json=inputs,
                expect_trained=True if expect_trained else None,
            )
    except (TargetError, json.JSONDecodeError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    from bnlint.probe.report import render_findings, unsuppressed

    findings = unsuppressed(findings, enabled)
    text = render_findings(findings, output_format, quiet=quiet)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    sys.exit(1 if findings and not exit_zero else 0)
