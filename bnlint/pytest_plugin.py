"""pytest plugin (entry point `pytest11`): the `bn_probe` fixture.

torch is imported only when a test asks for the fixture, never at collection time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from bnlint.diagnostics import Finding


class BnProbe:
    """What a test gets from `bn_probe`; layers built during the test are pinned to their lines."""

    def check(
        self,
        model: Any,
        *example_inputs: Any,
        expect_trained: bool | None = None,
        example_kwargs: dict[str, Any] | None = None,
    ) -> list[Finding]:
        """Probe `model` on example inputs (both modes, left as found) and return the findings;
        `example_kwargs` for models that take keyword inputs."""
        from bnlint.probe.model import check_model

        return check_model(
            model, *example_inputs, expect_trained=expect_trained, example_kwargs=example_kwargs
        )

    def assert_clean(
        self,
        model: Any,
        *example_inputs: Any,
        expect_trained: bool | None = None,
        example_kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Fail the test with every finding the probe makes on `model`."""
        findings = self.check(
            model, *example_inputs, expect_trained=expect_trained, example_kwargs=example_kwargs
        )
        if findings:
            lines = "\n".join(
                f"  {f.filename}:{f.span.start.row}: {f.code} {f.full_message}" for f in findings
            )
            raise AssertionError(f"bnlint found {len(findings)} problem(s):\n{lines}")

    def expect_eval(self, model: Any) -> AbstractContextManager[None]:
        """Fail at the end of the block if a norm or dropout layer of `model` ran in training mode."""
        from bnlint.probe.expect import expect_eval

        return expect_eval(model)

    @contextmanager
    def watch(self, *, min_batch_size: int = 8) -> Iterator[list[Finding]]:
        """Observe the block as `bnlint run` would; the yielded list holds the findings afterwards."""
        from bnlint.probe.runtime import Monitor

        monitor = Monitor(min_batch_size=min_batch_size)
        found: list[Finding] = []
        monitor.install()
        try:
            yield found
        finally:
            monitor.uninstall()
            found.extend(monitor.findings())


@pytest.fixture
def bn_probe() -> Iterator[BnProbe]:
    """Probe models and inference code in a test: `bn_probe.check`, `.expect_eval`, `.watch`."""
    from bnlint.probe import sites

    with sites.recording():
        yield BnProbe()
