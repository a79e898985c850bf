"""`bnlint check` never imports torch and never imports or runs the code it lints."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from .conftest import ROOT

# Run in a fresh interpreter: this test process may have imported torch already.
_CHECK_AND_REPORT_MODULES = textwrap.dedent(
    """
    import json, sys
    from bnlint.cli import main
    try:
        main(sys.argv[1:])
    except SystemExit as exit:
        code = exit.code
    else:
        code = 0
    print(json.dumps({"exit": code, "modules": sorted(sys.modules)}), file=sys.stderr)
    """
)


def _check_in_subprocess(cwd: Path, *args: str) -> tuple[int, set[str], str]:
    completed = subprocess.run(
        [sys.executable, "-c", _CHECK_AND_REPORT_MODULES, "check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(completed.stderr.strip().splitlines()[-1])
    return int(report["exit"]), set(report["modules"]), completed.stdout


def test_full_check_does_not_import_torch() -> None:
    code, modules, output = _check_in_subprocess(
        ROOT, "--no-cache", "--format", "concise", "fixtures"
    )
    assert code == 1
    assert "BN105" in output
    assert "torch" not in modules
    assert not any(name.startswith("torch.") for name in modules)


def test_every_format_and_many_jobs_do_not_import_torch() -> None:
    for output_format in ("text", "json", "sarif", "github", "gitlab", "junit"):
        _, modules, _ = _check_in_subprocess(
            ROOT, "--no-cache", "--jobs", "2", "--format", output_format, "fixtures"
        )
        assert "torch" not in modules, output_format


def test_import_bnlint_is_cheap() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", "import sys, bnlint; print(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = set(completed.stdout.split())
    assert not modules & {"torch", "libcst", "rich", "click"}


def test_linted_code_is_never_imported_or_run(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    write_marker = f"open({str(marker)!r}, 'w').write('ran')"
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    package = tmp_path / "pkg"
    package.mkdir()
    # Every way a tool that imports code would trigger it: module level, __init__,
    # __main__, conftest, setup.py, a module imported by the linted one, a decorator.
    (package / "__init__.py").write_text(write_marker + "\n", encoding="utf-8")
    (package / "__main__.py").write_text(write_marker + "\n", encoding="utf-8")
    (package / "helpers.py").write_text(write_marker + "\n", encoding="utf-8")
    (tmp_path / "conftest.py").write_text(write_marker + "\n", encoding="utf-8")
    (tmp_path / "setup.py").write_text(write_marker + "\n", encoding="utf-8")
    (tmp_path / "train.py").write_text(
        textwrap.dedent(
            f"""\
            import torch.nn as nn
            import pkg.helpers
            from pkg import helpers

            {write_marker}
            exec({write_marker!r})
            __import__("pkg.helpers")


            def side_effect(function):
                {write_marker}
                return function


            @side_effect
            def validate(model):
                model.eval
                return nn.BatchNorm2d(8, momentum=0.99)


            if __name__ == "__main__":
                {write_marker}
            """
        ),
        encoding="utf-8",
    )
    code, modules, output = _check_in_subprocess(
        tmp_path, "--no-cache", "--format", "concise", "--jobs", "2", "."
    )
    assert code == 1
    assert "train.py" in output
    assert " BN105 " in output
    assert " BN401 " in output
    assert not marker.exists(), "bnlint ran code it was only asked to lint"
    assert "pkg" not in modules
    assert "train" not in modules


def test_a_run_answered_from_the_cache_does_not_import_libcst(tmp_path: Path) -> None:
    # Parsing is for changed files only: a warm pre-commit run skips libcst's import.
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    for fixture in ("train_resnet.py", "evaluate_checkpoint.py"):
        (project / fixture).write_bytes((ROOT / "fixtures" / fixture).read_bytes())
    (project / "clean.py").write_text("import torch\nx = torch.zeros(2)\n", encoding="utf-8")
    cold_code, cold_modules, cold_output = _check_in_subprocess(project, "--format", "concise", ".")
    warm_code, warm_modules, warm_output = _check_in_subprocess(project, "--format", "concise", ".")
    assert cold_code == warm_code == 1
    assert warm_output == cold_output
    assert "libcst" in cold_modules
    assert "libcst" not in warm_modules
    assert "bnlint.checks" not in warm_modules
    # One changed file brings the parser back.
    (project / "clean.py").write_text(
        "import torch.nn as nn\nbn = nn.BatchNorm2d(8, momentum=0.9)\n", encoding="utf-8"
    )
    _, changed_modules, changed_output = _check_in_subprocess(project, "--format", "concise", ".")
    assert "libcst" in changed_modules
    assert "BN401" in changed_output
