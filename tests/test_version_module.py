"""The version lives in `bnlint._version`, so reading it never reaches the front ends.

The layers contract (`lint-imports`) holds without exceptions: a service such as the cache
reads the version from `bnlint._version`, not from the root package, whose lazy re-export of
the API would otherwise be an import of the top layer from the bottom one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bnlint
from bnlint._version import __version__

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

PACKAGE = Path(bnlint.__file__).parent
PYPROJECT = PACKAGE.parent / "pyproject.toml"


def test_the_root_package_exposes_the_one_version() -> None:
    assert bnlint.__version__ == __version__


def test_reading_the_version_loads_no_front_end() -> None:
    code = (
        "import sys, bnlint; bnlint.__version__; "
        "print(sorted(m for m in sys.modules if m.startswith('bnlint')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "bnlint.api" not in loaded
    assert "bnlint.cli" not in loaded
    assert "'bnlint._version'" in loaded


def test_no_module_below_the_front_ends_imports_the_root_package() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "from bnlint import __version__" in text or "\nimport bnlint\n" in text:
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def test_the_layers_contract_has_no_ignored_imports() -> None:
    if not PYPROJECT.exists():  # an installed package without its project file
        return
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = [c for c in contracts if c["type"] == "layers"]
    assert layers
    assert [c["name"] for c in layers if c.get("ignore_imports")] == []
