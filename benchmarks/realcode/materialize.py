"""Write the real-code benchmark's files, each at its pinned commit, into a cache folder.

usage:
    python benchmarks/realcode/materialize.py CACHE --mirror-root DIR
    python benchmarks/realcode/materialize.py CACHE --files-root DIR
    python benchmarks/realcode/materialize.py CACHE --mirror-root DIR --show

Every case of `manifest.toml` (and its `context` files) lands in
`CACHE/<owner>/<name>/<commit[:12]>/<path>`: one folder per repository snapshot, so the files
of one snapshot sit together with the paths they have in the repository and a project-level
analysis run on that folder sees the sibling modules the manifest includes. Two versions of
one file (a bug and its fix) live in two snapshot folders.

Sources, tried in this order for each file (no network is used):
  --mirror-root DIR  git repositories (bare or not) at `DIR/<owner>+<name>/repo`,
                     `DIR/<owner>/<name>` or `DIR/<owner>+<name>`; the file is read with
                     `git show <commit>:<path>`, so the mirror must hold that commit.
  --files-root DIR   files already downloaded, at `DIR/<owner>/<name>/<commit>/<path>` (full
                     or 12-character commit) or, for a single snapshot, `DIR/<owner>/<name>/<path>`.

`--show` prints each label with the text of its line, to review the anchors by eye.
Exit status: 0 when every file was written, 1 when some could not be found.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # bnlint depends on tomli there
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.toml"


@dataclass(frozen=True)
class Label:
    code: str
    line: int
    why: str
    # Other lines that anchor the same finding equally well (a batch size whose value is
    # written in one place and passed through another): a finding on any of them matches.
    also: tuple[int, ...] = ()

    @property
    def lines(self) -> tuple[int, ...]:
        return (self.line, *self.also)


@dataclass
class Case:
    repo: str
    commit: str
    path: str
    expect: list[Label] = field(default_factory=list)
    must_not: list[str] = field(default_factory=list)
    why: str = ""
    context: list[str] = field(default_factory=list)

    @property
    def snapshot(self) -> str:
        """The folder of this case's repository snapshot, relative to the cache."""
        return snapshot_dir(self.repo, self.commit)


def snapshot_dir(repo: str, commit: str) -> str:
    return f"{repo}/{commit[:12]}"


def load_manifest(path: Path = MANIFEST) -> list[Case]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    cases = []
    for raw in data.get("case", []):
        commit = str(raw["commit"])
        if len(commit) != 40 or any(c not in "0123456789abcdef" for c in commit):
            raise ValueError(f"{raw['repo']}:{raw['path']}: commit must be 40 hex digits")
        expect = [
            Label(
                str(e["code"]),
                int(e["line"]),
                str(e["why"]),
                tuple(int(n) for n in e.get("also", ())),
            )
            for e in raw.get("expect", [])
        ]
        must_not = [str(code) for code in raw.get("must_not", [])]
        if not expect and not must_not:
            raise ValueError(f"{raw['repo']}:{raw['path']}: a case needs `expect` or `must_not`")
        if must_not and not raw.get("why"):
            raise ValueError(f"{raw['repo']}:{raw['path']}: `must_not` needs a `why`")
        cases.append(
            Case(
                repo=str(raw["repo"]),
                commit=commit,
                path=str(raw["path"]),
                expect=expect,
                must_not=must_not,
                why=str(raw.get("why", "")),
                context=[str(p) for p in raw.get("context", [])],
            )
        )
    return cases


def files_to_write(cases: list[Case]) -> dict[tuple[str, str, str], None]:
    """(repo, commit, path) of every labelled and context file, in manifest order."""
    wanted: dict[tuple[str, str, str], None] = {}
    for case in cases:
        wanted[(case.repo, case.commit, case.path)] = None
        for path in case.context:
            wanted[(case.repo, case.commit, path)] = None
    return wanted


def _git_dirs(mirror_root: Path, repo: str) -> list[Path]:
    owner, name = repo.split("/", 1)
    candidates = [
        mirror_root / f"{owner}+{name}" / "repo",
        mirror_root / owner / name,
        mirror_root / f"{owner}+{name}",
    ]
    return [c for c in candidates if c.is_dir()]


def read_from_mirror(mirror_root: Path, repo: str, commit: str, path: str) -> bytes | None:
    for git_dir in _git_dirs(mirror_root, repo):
        done = subprocess.run(
            ["git", "-C", str(git_dir), "show", f"{commit}:{path}"],
            capture_output=True,
            check=False,
        )
        if done.returncode == 0:
            return done.stdout
    return None


def read_from_files(files_root: Path, repo: str, commit: str, path: str) -> bytes | None:
    base = files_root / repo
    for candidate in (base / commit / path, base / commit[:12] / path, base / path):
        if candidate.is_file():
            return candidate.read_bytes()
    return None


def materialize(
    cases: list[Case], cache: Path, mirror_root: Path | None, files_root: Path | None
) -> list[str]:
    """Write every file; return the ones no source had."""
    missing = []
    for repo, commit, path in files_to_write(cases):
        data = None
        if mirror_root is not None:
            data = read_from_mirror(mirror_root, repo, commit, path)
        if data is None and files_root is not None:
            data = read_from_files(files_root, repo, commit, path)
        if data is None:
            missing.append(f"{repo}@{commit[:12]}:{path}")
            continue
        target = cache / snapshot_dir(repo, commit) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return missing


def show(cases: list[Case], cache: Path) -> None:
    for case in cases:
        file = cache / case.snapshot / case.path
        lines = (
            file.read_text(encoding="utf-8", errors="replace").splitlines()
            if file.is_file()
            else []
        )
        print(f"{case.repo}@{case.commit[:12]}:{case.path}")
        for label in case.expect:
            text = (
                lines[label.line - 1].strip() if 0 < label.line <= len(lines) else "<no such line>"
            )
            print(f"  {label.code} {label.line:>5}: {text}")
            for other in label.also:
                text = lines[other - 1].strip() if 0 < other <= len(lines) else "<no such line>"
                print(f"     also {other:>5}: {text}")
        if case.must_not:
            print(f"  must not: {', '.join(case.must_not)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "cache", type=Path, help="folder to write the files into (outside the repository)"
    )
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--mirror-root", type=Path, help="folder of git mirrors")
    parser.add_argument("--files-root", type=Path, help="folder of already-downloaded files")
    parser.add_argument("--show", action="store_true", help="print each label with its line's text")
    args = parser.parse_args(argv)
    if args.mirror_root is None and args.files_root is None:
        parser.error("give --mirror-root or --files-root")
    cases = load_manifest(args.manifest)
    missing = materialize(cases, args.cache, args.mirror_root, args.files_root)
    written = len(files_to_write(cases)) - len(missing)
    print(f"{written} files written under {args.cache}", file=sys.stderr)
    for item in missing:
        print(f"missing: {item}", file=sys.stderr)
    if args.show:
        show(cases, args.cache)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
