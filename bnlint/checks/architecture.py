"""BN2xx: the structure of models (layer order, features, bias before norm)."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from bnlint.analysis.edits import argument_insertion
from bnlint.analysis.project import ProjectIndex, Tri
from bnlint.analysis.structure import Kind, Layer, Link, OutputNorm, structure_of
from bnlint.analysis.structure.layers import compare_widths
from bnlint.diagnostics import Applicability, FixAvailability, Severity
from bnlint.registry import NodeFix, Replace, Rule, register

# Every norm the structural model knows is a torch class or function written in the
# file (through its import): `BatchNorm*`, `SyncBatchNorm`, `InstanceNorm*`, `GroupNorm`,
# `F.batch_norm`.
_NORM_TRIGGERS = (b"BatchNorm", b"InstanceNorm", b"GroupNorm", b"batch_norm")
_MAX_SHOWN = 40


def describe(code: str, func_code: str) -> str:
    """The constructor as written when short, else `Class(...)`."""
    if len(code) <= _MAX_SHOWN and "\n" not in code:
        return code
    return f"{func_code}(...)"


class _StructureRule(Rule):
    """A rule that reads the structural model once the whole file has been walked."""

    def show(self, layer: Layer) -> str:
        """The layer as the user names it (`Net.fc4`), else its constructor as written."""
        label = structure_of(self.ctx).label(layer)
        if label is not None:
            return label
        return describe(self.ctx.code_for(layer.node), self.ctx.code_for(layer.node.func))

    def links(self) -> list[Link]:
        return structure_of(self.ctx).links


@register
class BiasBeforeNorm(_StructureRule):
    """A convolution or linear layer with a bias whose output feeds only a normalization."""

    code = "BN202"
    name = "bias-before-norm"
    severity = Severity.WARNING
    fixable = FixAvailability.SOMETIMES
    fix_safety = "safe or unsafe"
    # Whether the fix is safe depends on every file that may load a checkpoint.
    needs_project = True
    triggers = _NORM_TRIGGERS
    message = (
        "the bias of `{layer}` is cancelled by `{norm}` right after it{when}, which "
        "subtracts each channel's mean"
    )
    hint = "pass `bias=False` to `{layer_class}`; the norm's own shift plays its role"

    def leave_Module(self, original_node: cst.Module) -> None:
        unsafe = _unsafe_reason(self.ctx.project_index, self.ctx.filename)
        for link in self.links():
            producer, consumer = link.producer, link.consumer
            if producer.kind not in (Kind.CONV, Kind.LINEAR) or not producer.direct:
                continue
            if producer.spec.functional or producer.has_bias() is not True:
                continue
            if not _cancels_bias(consumer):
                continue
            self.report(
                producer.node,
                layer=self.show(producer),
                norm=self.show(consumer),
                when=" on some paths (a branch or the next loop iteration)"
                if link.conditional
                else "",
                layer_class=self.ctx.code_for(producer.node.func),
                # On the other paths the bias is not cancelled: `bias=False` would change them.
                fix=None if link.conditional else _bias_fix(producer, self.ctx.code_for, unsafe),
                related=[
                    (
                        consumer.node,
                        f"`{self.show(consumer)}` takes its output{_path(link)} and subtracts "
                        "each channel's mean, the bias with it",
                    )
                ],
            )


def _path(link: Link) -> str:
    """Where the link was seen, for an explanation step."""
    where = " next in the Sequential" if link.where == "sequential" else " in `forward`"
    return where + (" on one branch" if link.conditional else "")


def _cancels_bias(norm: Layer) -> bool:
    # GroupNorm subtracts a mean per group, not per channel: a per-channel bias survives it.
    if norm.kind is Kind.BATCH_NORM:
        return True
    return norm.kind is Kind.INSTANCE_NORM and norm.affine() is True


def _unsafe_reason(project: ProjectIndex, filename: str) -> str | None:
    """Why dropping a bias may break a checkpoint, from the project index; None when safe.

    Any file of the project that may load saved weights counts (a training script resumes,
    a demo loads published weights), and so does this file reading a layer's `.bias`.
    """
    loads = project.weight_loads
    if loads:
        where = filename if filename in loads else min(loads)
        line, what = loads[where]
        place = "this file" if where == filename else f"`{where}`"
        return (
            f"{place} loads saved weights ({what}, line {line}): a state dict saved with "
            "the bias no longer loads with strict=True, and with strict=False the layer "
            "silently loses the bias it was trained with"
        )
    read = project.bias_reads.get(filename)
    if read is not None:
        return f"this file reads `.bias` (line {read}), which becomes None"
    return None


def _bias_fix(
    layer: Layer, code_for: Callable[[cst.CSTNode], str], unsafe: str | None
) -> NodeFix | None:
    """`bias=True` becomes `bias=False`; otherwise `, bias=False` follows the last argument.

    Only one argument's span is rewritten (`analysis.edits.argument_insertion`), so the
    call's layout and comments stay.
    """
    written = layer.bias_node()
    if written is not None:
        change = Replace(written, "False")
    else:
        insertion = argument_insertion(layer.node, code_for, "bias=False")
        if insertion is None:
            return None
        change = Replace(*insertion)
    if unsafe is not None:
        return NodeFix(Applicability.UNSAFE, f"Pass `bias=False` (unsafe: {unsafe})", (change,))
    return NodeFix(
        Applicability.SAFE,
        "Pass `bias=False` (safe: nothing in the project loads saved weights or reads `.bias`)",
        (change,),
    )


@register
class DropoutBeforeNorm(_StructureRule):
    """A Dropout whose output goes straight into a BatchNorm."""

    code = "BN203"
    name = "dropout-before-norm"
    severity = Severity.WARNING
    # Both a dropout and a norm somewhere in the file.
    trigger_pattern = rb"(?s:\A(?=.*?ropout).*?(?:BatchNorm|InstanceNorm|GroupNorm|batch_norm))"
    message = (
        "`{dropout}` feeds `{norm}` directly, so the variance BatchNorm sees in training "
        "differs from the one it meets in eval (variance shift)"
    )
    hint = "move the dropout after the normalization and its activation"

    def leave_Module(self, original_node: cst.Module) -> None:
        for link in self.links():
            dropout, norm = link.producer, link.consumer
            if dropout.kind is not Kind.DROPOUT or not dropout.direct:
                continue
            if norm.kind is not Kind.BATCH_NORM or dropout.dropout_probability() == 0:
                continue
            self.report(
                dropout.node,
                dropout=self.show(dropout),
                norm=self.show(norm),
                related=[
                    (
                        norm.node,
                        f"`{self.show(norm)}` takes the dropout's output{_path(link)} and "
                        "keeps running statistics of its training-time variance",
                    )
                ],
            )


_RANK_EXPECTED = {1: "2-D or 3-D", 2: "4-D", 3: "5-D"}


@register
class NormFeaturesMismatch(_StructureRule):
    """A BatchNorm whose num_features or dimensionality disagrees with the layer before it."""

    code = "BN204"
    name = "norm-features-mismatch"
    severity = Severity.ERROR
    triggers = _NORM_TRIGGERS
    message = "`{norm}` {problem}, so the first forward pass fails{when}"
    hint = "{advice}"

    def leave_Module(self, original_node: cst.Module) -> None:
        for link in self.links():
            layer, norm = link.producer, link.consumer
            if layer.kind not in (Kind.CONV, Kind.LINEAR):
                continue
            if norm.kind is not Kind.BATCH_NORM or not norm.direct or norm.spec.functional:
                continue
            if not norm.factory and self._rank_mismatch(layer, norm, link):
                continue
            produced, expected = layer.out_features(), norm.num_features()
            if produced is None or expected is None:
                continue
            verdict, condition = compare_widths(produced, expected)
            if verdict not in ("different", "differs-when"):
                continue
            out = produced.integer()
            num = expected.integer()
            if link.conditional and (out is None or num is None):
                # Across loop iterations the same names may hold other widths.
                continue
            out_text = str(out) if out is not None else f"`{self.ctx.code_for(produced.node)}`"
            num_text = str(num) if num is not None else f"`{self.ctx.code_for(expected.node)}`"
            self.report(
                norm.node,
                norm=self.show(norm),
                problem=(
                    f"expects {num_text} features but `{self.show(layer)}` produces {out_text}"
                ),
                when=f" whenever {condition}" if verdict == "differs-when" else "",
                advice=f"make the norm's `num_features` {out_text}, or fix the layer before it",
                related=[
                    (
                        layer.node,
                        f"`{self.show(layer)}` produces {out_text} features, which feed "
                        f"the norm{_path(link)}",
                    )
                ],
            )

    def _rank_mismatch(self, layer: Layer, norm: Layer, link: Link) -> bool:
        """Report a BatchNorm of the wrong dimensionality; True when reported."""
        rank = norm.spec.spatial
        if rank is None:
            return False
        if layer.kind is Kind.CONV and layer.spec.spatial is not None:
            if layer.spec.spatial == rank:
                return False
            produced = f"{layer.spec.spatial + 2}-D"
            wanted = f"BatchNorm{layer.spec.spatial}d"
        elif layer.kind is Kind.LINEAR and rank > 1:
            produced = "(batch, features)"
            wanted = "BatchNorm1d"
        else:
            return False
        self.report(
            norm.node,
            norm=self.show(norm),
            problem=(
                f"expects {_RANK_EXPECTED[rank]} input but `{self.show(layer)}` "
                f"produces {produced} output"
            ),
            advice=f"use `{wanted}` after `{self.ctx.code_for(layer.node.func)}`",
            when="",
            related=[
                (
                    layer.node,
                    f"`{self.show(layer)}` produces {produced} output, which feeds the "
                    f"norm{_path(link)}",
                )
            ],
        )
        return True


@register
class NormAfterOutput(_StructureRule):
    """A BatchNorm applied to a model's output after its final linear layer."""

    code = "BN201"
    name = "norm-after-output"
    severity = Severity.ERROR
    # Whether the output is an embedding another module reads is answered across files.
    needs_project = True
    triggers = _NORM_TRIGGERS
    message = (
        "`{norm}` renormalizes the output of `{layer}`, the final linear layer of "
        "`{owner}`{then}, so each prediction depends on its batch in training and on "
        "running statistics in eval"
    )
    hint = (
        "remove `{norm}` (normalize the features before `{layer}` instead); nothing in the "
        "project feeds `{owner}`'s output to another module, so it reads as a prediction"
    )

    def leave_Module(self, original_node: cst.Module) -> None:
        project = self.ctx.project_index
        for found in structure_of(self.ctx).output_norms:
            if found.is_class and _feeds_another_module(project, found.owner):
                continue
            self.report(
                found.anchor,
                norm=self.show(found.norm),
                layer=self.show(found.previous),
                owner=found.owner,
                then=f", whose scores `{found.then}` then turns into the prediction"
                if found.then
                else "",
                related=self._steps(found),
            )

    def _steps(self, found: OutputNorm) -> list[tuple[cst.CSTNode, str]]:
        """The final linear layer, the norm (when the finding is on its call), the return."""
        steps: list[tuple[cst.CSTNode, str]] = [
            (found.previous.node, f"`{self.show(found.previous)}` computes the output scores")
        ]
        if found.anchor is not found.norm.node:
            steps.append((found.norm.node, f"`{self.show(found.norm)}` is constructed here"))
        # `return self.bn(x)` is the finding's own line; `x = self.bn(x)` ... `return x` is not.
        if found.returned is not None and found.returned.value is not found.anchor:
            steps.append((found.returned, "`forward` returns the normalized scores"))
        return steps


def _feeds_another_module(project: ProjectIndex, owner: str) -> bool:
    """Whether the class's output is an embedding: passed to another module's instance
    somewhere in the project (`decoder(encoder(images), captions)`), or the class is a
    submodule of another class (`self.frontend = ResNet(...)`), whose forward reads it."""
    if owner in project.module_consumers:
        return True
    for name, classes in project.classes.items():
        if name == owner:
            continue
        for facts in classes:
            # A plain class holding the model (a demo's predictor) only runs it.
            if project.is_module_class(name) is not Tri.YES:
                continue
            if any(
                reference.rpartition(".")[2] == owner for reference in facts.attributes.values()
            ):
                return True
    return False


@register
class BatchNormInSequenceModel(_StructureRule):
    """A BatchNorm inside a transformer or recurrent block."""

    code = "BN205"
    name = "batchnorm-in-sequence-model"
    severity = Severity.INFO
    triggers = (b"BatchNorm",)
    message = (
        "`{norm}` in `{owner}`, {evidence}, mixes statistics across positions of different "
        "sequences"
    )
    hint = "use `nn.LayerNorm` (or `nn.RMSNorm`) in sequence models"

    def leave_Module(self, original_node: cst.Module) -> None:
        for cls, evidence, norms in structure_of(self.ctx).sequence_model_norms():
            for norm in norms:
                held = (
                    f"which is {evidence}"
                    if evidence.startswith("a recurrent cell")
                    else f"which holds `{evidence}`"
                )
                self.report(norm.node, norm=self.show(norm), owner=cls.name, evidence=held)
