"""`bnlint run -- script.py` behaves exactly like `python script.py` for the script itself.

Each script runs both ways in a fresh process; its standard output, standard error and exit
status must be identical (bnlint's report goes to `--output`, so it cannot mix in).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_ENV = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1"}


def _script(folder: Path, body: str, name: str = "script.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def _both(
    folder: Path, script: Path, *args: str, stdin: str = "", report: str = "report.json"
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """(python script.py args, bnlint run -- script.py args), both run from `folder`."""
    plain = subprocess.run(
        [sys.executable, script.name, *args],
        cwd=folder,
        input=stdin,
        capture_output=True,
        text=True,
        env=_ENV,
        timeout=300,
        check=False,
    )
    probed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bnlint",
            "run",
            "--format",
            "json",
            "--output",
            report,
            "--",
            script.name,
            *args,
        ],
        cwd=folder,
        input=stdin,
        capture_output=True,
        text=True,
        env=_ENV,
        timeout=300,
        check=False,
    )
    return plain, probed


def _same(
    plain: subprocess.CompletedProcess[str], probed: subprocess.CompletedProcess[str]
) -> None:
    assert probed.stdout == plain.stdout
    assert probed.stderr == plain.stderr
    assert probed.returncode == plain.returncode


def test_exit_status_3_and_both_streams(tmp_path: Path) -> None:
    script = _script(
        tmp_path,
        """
        import sys
        print("to stdout", sys.argv[1:], __name__)
        print("to stderr", file=sys.stderr)
        sys.exit(3)
        """,
    )
    plain, probed = _both(tmp_path, script, "--epochs", "2", "-x")
    assert plain.returncode == 3
    _same(plain, probed)
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "ending",
    [
        'sys.exit("fatal: no data")',
        "sys.exit(None)",
        "sys.exit(300)",
        "raise SystemExit(True)",
        "os._exit(4)",
    ],
)
def test_every_way_of_exiting(tmp_path: Path, ending: str) -> None:
    script = _script(tmp_path, f"import os, sys\nprint('working', flush=True)\n{ending}\n")
    _same(*_both(tmp_path, script))


def test_uncaught_exception_prints_the_same_traceback(tmp_path: Path) -> None:
    script = _script(
        tmp_path,
        """
        def load(path):
            raise FileNotFoundError(f"no checkpoint at {path}")

        print("starting")
        load("best.pt")
        """,
    )
    plain, probed = _both(tmp_path, script)
    assert plain.returncode == 1
    assert "FileNotFoundError" in plain.stderr
    _same(plain, probed)


def test_exception_chains_and_exception_groups(tmp_path: Path) -> None:
    script = _script(
        tmp_path,
        """
        try:
            {}["missing"]
        except KeyError as error:
            raise RuntimeError("config broken") from error
        """,
    )
    _same(*_both(tmp_path, script))


def test_syntax_error_in_the_script(tmp_path: Path) -> None:
    # Nothing ran, so there is nothing to report: Python's message, then bnlint's error, exit 2.
    script = _script(tmp_path, "print('never')\ndef broken(:\n")
    plain, probed = _both(tmp_path, script)
    assert plain.returncode == 1
    assert probed.returncode == 2
    assert probed.stdout == plain.stdout == ""
    assert plain.stderr.splitlines()[-1] in probed.stderr.splitlines()
    assert "cannot be run" in probed.stderr
    assert "All checks passed" not in probed.stderr


def test_threads_and_atexit_handlers(tmp_path: Path) -> None:
    script = _script(
        tmp_path,
        """
        import atexit, sys, threading

        atexit.register(lambda: print("atexit ran"))
        results = []

        def work(i):
            results.append(i * i)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(sorted(results))
        daemon = threading.Thread(target=lambda: sys.stdout.write("daemon\\n"), daemon=True)
        daemon.start()
        daemon.join()
        sys.exit(5)
        """,
    )
    _same(*_both(tmp_path, script))


def test_change_of_directory_keeps_script_paths_and_the_report_where_asked(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    script = _script(
        tmp_path,
        """
        import os, sys
        here = os.getcwd()
        os.chdir("elsewhere")
        with open("written.txt", "w") as handle:
            handle.write("x")
        print(os.path.basename(os.getcwd()), os.path.basename(__file__), sys.path[0] == os.path.dirname(os.path.abspath(__file__)))
        """,
    )
    _same(*_both(tmp_path, script, report="report.json"))
    assert (tmp_path / "elsewhere" / "written.txt").exists()
    # --output is relative to where bnlint was started, not where the script went.
    assert (tmp_path / "report.json").exists()
    assert not (tmp_path / "elsewhere" / "report.json").exists()


def test_standard_input_reaches_the_script(tmp_path: Path) -> None:
    script = _script(tmp_path, "import sys\nprint(sys.stdin.read().upper(), end='')\n")
    plain, probed = _both(tmp_path, script, stdin="line one\nline two\n")
    assert plain.stdout == "LINE ONE\nLINE TWO\n"
    _same(plain, probed)


def test_importing_a_module_next_to_the_script_and_pickling_its_classes(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("def double(x):\n    return 2 * x\n", encoding="utf-8")
    script = _script(
        tmp_path,
        """
        import pickle
        from helpers import double

        class Config:
            def __init__(self, lr):
                self.lr = lr

        restored = pickle.loads(pickle.dumps(Config(0.1)))
        print(double(21), restored.lr, type(restored).__module__)
        """,
    )
    _same(*_both(tmp_path, script))


def test_dataloader_workers_forked_from_the_script(tmp_path: Path) -> None:
    script = _script(
        tmp_path,
        """
        import sys
        import torch
        from torch import nn
        from torch.utils.data import DataLoader, Dataset

        class Squares(Dataset):
            def __len__(self):
                return 16

            def __getitem__(self, index):
                return torch.tensor([float(index)] * 4)

        if __name__ == "__main__":
            model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
            total = 0.0
            loader = DataLoader(Squares(), batch_size=4, num_workers=2)
            for batch in loader:
                total += float(batch.sum())
            model.eval()
            with torch.no_grad():
                model(torch.ones(2, 4))
            print("sum", total)
            sys.exit(7)
        """,
    )
    plain, probed = _both(tmp_path, script)
    assert plain.returncode == 7, plain.stderr
    _same(plain, probed)


def test_printing_into_a_closed_pipe(tmp_path: Path) -> None:
    script = _script(
        tmp_path,
        """
        import sys
        for i in range(200000):
            print("line", i)
        """,
    )

    def head(command: list[str]) -> tuple[int, str]:
        process = subprocess.Popen(
            command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_ENV
        )
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.readline()
        process.stdout.close()
        stderr = process.stderr.read().decode()
        return process.wait(timeout=120), stderr

    plain_code, plain_err = head([sys.executable, script.name])
    probed_code, probed_err = head(
        [sys.executable, "-m", "bnlint", "run", "--output", "report.json", "--", script.name]
    )
    assert probed_code == plain_code
    assert ("BrokenPipeError" in probed_err) == ("BrokenPipeError" in plain_err)
    assert "bnlint" not in probed_err
