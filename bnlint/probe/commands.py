"""`bnlint run` and `bnlint probe`: the click commands (loaded lazily by bnlint.cli)."""

from __future__ import annotations

import atexit
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


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@_FORMAT
@_OUTPUT
@_MIN_BATCH
@_SELECT
@_IGNORE
@click.option("--quiet", "-q", is_flag=True, help="Findings only, no summary line.")
@click.argument("script", type=str)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(
    output_format: str,
    output: str | None,
    min_batch_size: int | None,
    select: str | None,
    ignore: str | None,
    quiet: bool,
    script: str,
    args: tuple[str, ...],
) -> None:
    """Run SCRIPT with ARGS as `python` would, under the runtime probe.

    The script's output, exit status and exceptions pass through unchanged; the report goes to
    standard error, or to --output.
    """
    from bnlint.probe.script import run_script, when_torch_imported

    # The script may change directory: --output names a file from where bnlint started.
    output = os.path.abspath(output) if output else None
    enabled = _enabled(select, ignore)
    minimum = min_batch_size or _configured_min_batch(Path(script))
    monitors: list[Any] = []

    def install() -> None:
        try:
            from bnlint.probe.runtime import Monitor

            monitor = Monitor(min_batch_size=minimum)
            monitor.install()
            monitors.append(monitor)
        except Exception as error:  # never break the user's script for the probe's sake
            sys.stderr.write(f"bnlint: warning: the runtime probe could not start: {error}\n")

    when_torch_imported(install)
    outcome = run_script(script, args)
    sys.stdout.flush()
    if monitors:
        monitor = monitors[0]
        monitor.uninstall()
        from bnlint.probe.report import unsuppressed, write_report

        write_report(unsuppressed(monitor.findings(), enabled), output_format, output, quiet=quiet)
    else:  # the script never imported torch: nothing to observe, still a report
        from bnlint.probe.report import write_report

        write_report([], output_format, output, quiet=quiet)
    if isinstance(outcome.reraise, KeyboardInterrupt):
        _die_of_sigint()
    if outcome.reraise is not None:
        raise outcome.reraise
    sys.exit(outcome.status)


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
@click.option("--dtype", default="float32", show_default=True, help="dtype of the example inputs.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:1, ...")
@click.option(
    "--kwargs", "kwargs_json", help="Keyword arguments for the factory, as a JSON object."
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
    dtype: str,
    device: str,
    kwargs_json: str | None,
    output_format: str,
    output: str | None,
    select: str | None,
    ignore: str | None,
    exit_zero: bool,
    quiet: bool,
) -> None:
    """Build the model TARGET (`module:factory` or `path.py:factory`) and probe it.

    Traces one forward pass in each mode and reports findings pinned to the lines that
    constructed the layers.
    """
    import json

    from bnlint.probe.target import TargetError, parse_shapes, probe_target

    enabled = _enabled(select, ignore)
    try:
        kwargs = json.loads(kwargs_json) if kwargs_json else {}
        if not isinstance(kwargs, dict):
            raise TargetError("--kwargs must be a JSON object")
        shapes = parse_shapes(input_shapes)
        findings = probe_target(target, shapes, dtype=dtype, device=device, kwargs=kwargs)
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
