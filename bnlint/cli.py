"""The command line: parse options and hand them to the command that does the work."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
from typing import Any, ClassVar

import click

from bnlint._version import __version__
from bnlint.diagnostics import OUTPUT_FORMATS
from bnlint.engine.status import ExitStatus


class _DefaultCheckGroup(click.Group):
    """`bnlint PATH...` means `bnlint check PATH...`; other commands load lazily."""

    lazy_commands: ClassVar[dict[str, str]] = {
        "probe": "bnlint.probe.commands:probe",
        "run": "bnlint.probe.commands:run",
        "server": "bnlint.lsp:server_command",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.lazy_commands:
            module_name, attribute = self.lazy_commands[cmd_name].split(":")
            try:
                command = getattr(importlib.import_module(module_name), attribute)
            except (ImportError, AttributeError):
                return None
            if cmd_name in _NEEDS_TORCH and command is not None:
                command = _requiring_torch(command)
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (
            args[0] not in self.list_commands(ctx) and args[0] not in ("--help", "-h", "--version")
        ):
            args = ["check", *args]
        return super().parse_args(ctx, args)


# Commands that run models: PyTorch is their optional extra, `bnlint[probe]`.
_NEEDS_TORCH = frozenset({"probe", "run"})


def _requiring_torch(command: click.Command) -> click.Command:
    """`command`, first checking that torch can be imported (without importing it): a
    missing extra says how to install it and exits 2, as `bnlint server` without pygls."""
    callback = command.callback
    if callback is None or getattr(callback, "_checks_torch", False):
        return command

    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if importlib.util.find_spec("torch") is None:
            click.echo(
                f"error: `bnlint {command.name}` needs PyTorch, which is not installed:"
                ' pip install "bnlint[probe]"',
                err=True,
            )
            sys.exit(int(ExitStatus.ERROR))
        return callback(*args, **kwargs)

    checked._checks_torch = True  # type: ignore[attr-defined]
    command.callback = checked
    return command


def _internal_errors_exit_2(callback: Any) -> Any:
    """Report a bug in bnlint as "internal error" with exit 2 (exit 1 means findings),
    the traceback only under `--verbose`. Not for `run` and `probe`: the user's script's
    own exceptions pass through them."""

    @functools.wraps(callback)
    def reporting(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except (click.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except Exception as error:
            from bnlint.check_command import internal_error

            internal_error(error, verbose=bool(kwargs.get("verbose")))
            sys.exit(int(ExitStatus.ERROR))

    return reporting


def _codes(value: str | None) -> list[str] | None:
    from bnlint.check_command import split_codes

    return split_codes(value)


@click.group(cls=_DefaultCheckGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bnlint")
def main() -> None:
    """Find normalization misuse (BatchNorm, Dropout, train/eval) in PyTorch code."""


@main.command()
@click.argument("paths", nargs=-1, type=str)
@click.option("--select", help="Comma-separated codes or prefixes to enable (replaces the config).")
@click.option("--extend-select", help="Codes or prefixes to enable on top of the selection.")
@click.option("--ignore", help="Codes or prefixes to disable.")
@click.option("--fixable", help="Codes or prefixes whose fixes may apply (replaces `fixable`).")
@click.option("--unfixable", help="Codes or prefixes reported without their fix.")
@click.option("--exclude", help="Comma-separated patterns to skip (replaces `exclude`).")
@click.option("--extend-exclude", help="Patterns to skip on top of `exclude`.")
@click.option(
    "--output-format",
    "--format",
    "output_format",
    type=click.Choice(OUTPUT_FORMATS),
    default=None,
    help="How findings are printed (default: `output-format` in the configuration, else"
    " text); `--format` is the same option.",
)
@click.option(
    "--output",
    "--output-file",
    "-o",
    "output",
    type=click.Path(dir_okay=False),
    help="Write the report to FILE (`--output-file` is ruff's name).",
)
@click.option(
    "--fix/--no-fix", default=None, help="Apply safe fixes (default: `fix` in the configuration)."
)
@click.option(
    "--unsafe-fixes/--no-unsafe-fixes",
    default=None,
    help="Also apply (and offer) unsafe fixes (default: `unsafe-fixes` in the configuration).",
)
@click.option("--diff", is_flag=True, help="Print the fixes as a diff instead of writing them.")
@click.option("--exit-zero", "-e", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule.")
@click.option(
    "--config",
    "config_file",
    multiple=True,
    metavar="FILE | KEY=VALUE",
    help="Use this configuration file, or override one setting with a TOML `key = value`"
    " (repeatable), e.g. --config 'select = [\"BN1\"]'.",
)
@click.option(
    "--show-settings", is_flag=True, help="Print the settings the first PATH is linted with."
)
@click.option(
    "--isolated", is_flag=True, help="Read no configuration file (defaults and these options)."
)
@click.option("--no-cache", "-n", is_flag=True, help="Do not read or write the cache.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="The cache folder (default: $BNLINT_CACHE_DIR, else `.bnlint_cache` at the project root).",
)
@click.option(
    "--force-exclude",
    is_flag=True,
    help="Skip excluded files even when named on the command line (as pre-commit names them).",
)
@click.option("--show-files", is_flag=True, help="Print the files that would be linted, and exit.")
@click.option(
    "--add-noqa", is_flag=True, help="Add a `# noqa: CODE` comment for every finding, and exit."
)
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: cores).")
@click.option("--stdin-filename", help="The path to show (and configure) for `-`.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary.")
@click.option(
    "--verbose", "-v", is_flag=True, help="Print the traceback of an internal error (a bug)."
)
@click.option(
    "--probe-report",
    type=click.Path(exists=True, dir_okay=False),
    multiple=True,
    help="A JSON report of `bnlint run` or `bnlint probe` (repeatable): mark the findings it "
    "observed as confirmed.",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False),
    help="Report only findings not recorded in FILE; a missing FILE records today's.",
)
@click.option(
    "--write-baseline", is_flag=True, help="Record the current findings in the --baseline FILE."
)
@click.option(
    "--watch", "-w", is_flag=True, help="Lint again whenever a file changes (Ctrl-C stops)."
)
@_internal_errors_exit_2
def check(**options: Any) -> None:
    """Lint files and directories (.py, .pyi, .ipynb); `-` reads standard input."""
    if options["write_baseline"] and not options["baseline"]:
        raise click.UsageError("--write-baseline needs --baseline FILE")
    if options.pop("watch"):
        from bnlint.watch import watch_check

        sys.exit(int(watch_check(options)))
    from bnlint.check_command import run_check

    sys.exit(int(run_check(**options)))


@main.command()
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="The cache folder to remove (default: as `bnlint check` finds it).",
)
@_internal_errors_exit_2
def clean(cache_dir: str | None) -> None:
    """Remove the cache of the project in the current folder."""
    from bnlint.check_command import clean_cache

    sys.exit(int(clean_cache(cache_dir)))


@main.command()
@click.argument("code", required=False)
@click.option("--all", "every", is_flag=True, help="Explain every rule, one after another.")
@click.option(
    "--output-format",
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@_internal_errors_exit_2
def rule(code: str | None, every: bool, output_format: str) -> None:
    """Explain one rule (its document), every rule (--all), or list all rules."""
    import json

    from bnlint.docs import all_rule_documents, list_rules_table, rule_document, rule_json
    from bnlint.registry import all_rules, rule_by_name_or_code

    if code is not None and every:
        raise click.UsageError("give a rule or --all, not both")
    if code is None:
        if output_format == "json":
            click.echo(json.dumps([rule_json(c) for c in all_rules()], indent=2))
        else:
            click.echo(all_rule_documents() if every else list_rules_table(), nl=not every)
        return
    found = rule_by_name_or_code(code)
    if found is None:
        click.echo(f"error: unknown rule `{code}`", err=True)
        sys.exit(int(ExitStatus.ERROR))
    if output_format == "json":
        click.echo(json.dumps(rule_json(found.code), indent=2))
    else:
        click.echo(rule_document(found.code), nl=False)
