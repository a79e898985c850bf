"""`bnlint server`: a Language Server that shows bnlint's findings in an editor.

What it does, each the same as `bnlint check` for the same text and configuration:

- findings of Python files and of notebooks (notebook document sync: each finding on
  its cell), cross-file ones included, pushed on open, change and save, or pulled by
  clients that ask (`textDocument/diagnostic`);
- a finding's explanation path as `relatedInformation`;
- each finding's fix as a quick fix, "disable for this line" (`# noqa`), and a source
  action that applies every safe fix;
- the configuration read again when `pyproject.toml` / `bnlint.toml` changes, and every
  open document linted again.

pygls (2.x) is optional (`pip install "bnlint[lsp]"`), so it is imported only when the
server starts: `bnlint check` never pays for it.
"""

from __future__ import annotations

import sys

import click

from bnlint.lsp.convert import (
    FIX_ALL_KIND,
    SOURCE,
    code_actions,
    diagnostic,
    fix_all_action,
    lsp_range,
    related_information,
    text_edits,
    utf16_column,
)


@click.command("server")
@click.option("--stdio", is_flag=True, help="Talk over standard input and output (the default).")
def server_command(stdio: bool) -> None:
    """Run the Language Server (LSP) over standard input and output, for editors."""
    try:
        from bnlint.lsp.server import serve_stdio
    except ImportError:
        click.echo('error: `bnlint server` needs pygls: pip install "bnlint[lsp]"', err=True)
        sys.exit(2)
    serve_stdio()


__all__ = [
    "FIX_ALL_KIND",
    "SOURCE",
    "code_actions",
    "diagnostic",
    "fix_all_action",
    "lsp_range",
    "related_information",
    "server_command",
    "text_edits",
    "utf16_column",
]
