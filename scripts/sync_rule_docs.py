"""Rewrite what is generated from the rule classes: the catalog's entries (bnlint/catalog.py),
each rules/<CODE>.md header line and the README rule table.

Run it after adding a rule or changing a rule's metadata; tests fail while any is stale.
"""

from __future__ import annotations

import re
from pathlib import Path

from bnlint.catalog import entries_in, render_entries
from bnlint.docs import header_line, readme_rules_table
from bnlint.registry import all_rules, catalog_info

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    catalog = ROOT / "bnlint" / "catalog.py"
    source = catalog.read_text(encoding="utf-8")
    entries = render_entries(catalog_info(rule) for rule in all_rules().values())
    catalog.write_text(source.replace(entries_in(source), entries, 1), encoding="utf-8")
    for code, rule in all_rules().items():
        path = ROOT / "rules" / f"{code}.md"
        if not path.exists():
            print(f"missing {path.relative_to(ROOT)}")
            continue
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[0] = f"# {rule.name} ({code})\n"
        lines[2] = header_line(code) + "\n"
        path.write_text("".join(lines), encoding="utf-8")
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    text = re.sub(
        r"(<!-- rules-table:start -->\n).*?(\n<!-- rules-table:end -->)",
        lambda m: m.group(1) + readme_rules_table() + m.group(2),
        text,
        flags=re.DOTALL,
    )
    readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
