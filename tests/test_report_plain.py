"""Plain text output is joined without rich, and prints exactly what rich prints.

Off a terminal (CI logs, pre-commit, editors) the text and full formats print no colour;
they then never import rich, whose console costs a one-file run a noticeable part of its
start-up. The plain rendering must stay byte-for-byte what rich printed without colour.
"""

from __future__ import annotations

import io
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text as RichText

from bnlint.report import RunReport
from bnlint.report.text_format import Text, write

# Text with the characters rich treats specially: tabs, control codes it strips, escapes it
# keeps, wide characters, trailing spaces and newlines.
_PIECE = st.text(
    alphabet=st.sampled_from(list("ab \t\n\r\x07\x08\x0b\x0c\x1b[]:*`é中😄")), max_size=12
)
_STYLE = st.sampled_from([None, "bold", "blue", "bold red", "bold cyan"])


def _rich_plain(blocks: list[Text], summary: str | None) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=False,
        no_color=True,
        color_system=None,
        highlight=False,
        soft_wrap=True,
        width=10_000,
    )
    for block in blocks:
        styled = RichText()
        for text, style in block.pieces:
            styled.append(text, style=style)
        console.print(styled)
    if summary is not None:
        console.print(summary, markup=False)
    return buffer.getvalue()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.tuples(_PIECE, _STYLE), max_size=6), max_size=4))
def test_plain_blocks_print_as_rich_prints_them(pieces: list[list[tuple[str, str | None]]]) -> None:
    blocks = []
    for block_pieces in pieces:
        block = Text()
        for text, style in block_pieces:
            block.append(text, style)
        blocks.append(block)
    report = RunReport(findings=[], quiet=True)
    assert write(report, blocks) == _rich_plain(blocks, None)


def test_the_summary_line_prints_as_rich_prints_it() -> None:
    block = Text()
    block.append("net.py:3:5: ", "bold")
    block.append("BN202\tbias [*]\n", "bold yellow")
    report = RunReport(findings=[])
    assert write(report, [block]) == _rich_plain([block], "All checks passed!")


def test_a_plain_text_run_imports_no_rich() -> None:
    code = (
        "import sys\n"
        "from bnlint.api import check_source\n"
        "from bnlint.report import RunReport, render\n"
        "findings = check_source('import torch.nn as nn\\nnn.BatchNorm2d(8, momentum=0.99)\\n')\n"
        "assert findings\n"
        "render('text', RunReport(findings=findings))\n"
        "render('full', RunReport(findings=findings))\n"
        "print(sorted(m for m in sys.modules if m == 'rich' or m.startswith('rich.')))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
