"""Layer constructors: what kind of layer a call builds and the arguments that shape it.

A `Layer` is one constructor call (`nn.Conv2d(3, 64, 3)`), with its arguments looked up by
keyword or position and resolved in the scope the call is written in, so that
`nn.Conv2d(c, 2 * c, 3)` and `nn.BatchNorm2d(2 * c)` can be seen to agree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import libcst as cst

from bnlint.analysis.calls import argument, number
from bnlint.analysis.structure.scopes import Scope


class Kind(enum.Enum):
    CONV = "conv"
    LINEAR = "linear"
    BATCH_NORM = "batch norm"
    INSTANCE_NORM = "instance norm"
    GROUP_NORM = "group norm"
    DROPOUT = "dropout"
    # Softmax, LogSoftmax, Sigmoid: turn class scores into probabilities, nothing more.
    OUTPUT = "output activation"
    OTHER = "other"


@dataclass(frozen=True)
class Spec:
    """Where a constructor keeps the arguments the rules read (positions are 0-based)."""

    kind: Kind
    # Rank of the data the layer produces or expects (Conv2d: 4-D, so 2); None: any.
    spatial: int | None = None
    out_position: int | None = None  # out_channels / out_features
    features_position: int | None = None  # num_features / num_channels
    bias_position: int | None = None
    affine_position: int | None = None
    affine_default: bool = True
    transposed: bool = False
    p_position: int = 0
    # A call of torch.nn.functional: no constructor, nothing to anchor a fix on.
    functional: bool = False
    # Whether the layer adds a bias when the call does not say (Conv2dNormActivation
    # and timm's ConvNormAct end in their own norm and leave the conv's bias out).
    bias_default: bool = True
    # Graph layers take the node features first and the graph after (`conv(x, edge_index)`).
    extra_inputs: bool = False
    # The keyword that multiplies the output width when given (GATConv's `heads`).
    width_multiplier: str | None = None


def _specs() -> dict[str, Spec]:
    table: dict[str, Spec] = {}
    for n in (1, 2, 3):
        table[f"torch.nn.Conv{n}d"] = Spec(Kind.CONV, n, out_position=1, bias_position=7)
        table[f"torch.nn.ConvTranspose{n}d"] = Spec(
            Kind.CONV, n, out_position=1, bias_position=7, transposed=True
        )
        table[f"torch.nn.LazyConv{n}d"] = Spec(Kind.CONV, n, out_position=0, bias_position=6)
        table[f"torch.nn.LazyConvTranspose{n}d"] = Spec(
            Kind.CONV, n, out_position=0, bias_position=6, transposed=True
        )
        table[f"torch.nn.BatchNorm{n}d"] = Spec(
            Kind.BATCH_NORM, n, features_position=0, affine_position=3
        )
        table[f"torch.nn.LazyBatchNorm{n}d"] = Spec(Kind.BATCH_NORM, n, affine_position=2)
        table[f"torch.nn.InstanceNorm{n}d"] = Spec(
            Kind.INSTANCE_NORM, n, features_position=0, affine_position=3, affine_default=False
        )
        table[f"torch.nn.Dropout{n}d"] = Spec(Kind.DROPOUT)
    table["torch.nn.SyncBatchNorm"] = Spec(
        Kind.BATCH_NORM, None, features_position=0, affine_position=3
    )
    table["torch.nn.GroupNorm"] = Spec(
        Kind.GROUP_NORM, None, features_position=1, affine_position=3
    )
    table["torch.nn.Linear"] = Spec(Kind.LINEAR, None, out_position=1, bias_position=2)
    table["torch.nn.LazyLinear"] = Spec(Kind.LINEAR, None, out_position=0, bias_position=1)
    for name in ("Dropout", "AlphaDropout", "FeatureAlphaDropout"):
        table[f"torch.nn.{name}"] = Spec(Kind.DROPOUT)
    for name in ("Softmax", "LogSoftmax", "Sigmoid"):
        table[f"torch.nn.{name}"] = Spec(Kind.OUTPUT)
    # Third-party layers whose signatures are known (not guessed from their names).
    for name in ("GCNConv", "SAGEConv", "GraphConv", "ChebConv", "GATConv", "GATv2Conv"):
        table[f"torch_geometric.nn.{name}"] = Spec(
            Kind.LINEAR,
            None,
            out_position=1,
            extra_inputs=True,
            width_multiplier="heads" if name.startswith("GAT") else None,
        )
    for module in ("timm.layers", "timm.models.layers", "timm.layers.conv_bn_act"):
        for name in ("ConvNormAct", "ConvBnAct"):
            table[f"{module}.{name}"] = Spec(Kind.CONV, 2, out_position=1, bias_default=False)
    for module in ("torchvision.ops", "torchvision.ops.misc"):
        table[f"{module}.Conv2dNormActivation"] = Spec(
            Kind.CONV, 2, out_position=1, bias_default=False
        )
        table[f"{module}.Conv3dNormActivation"] = Spec(
            Kind.CONV, 3, out_position=1, bias_default=False
        )
    return table


LAYER_SPECS = _specs()

FUNCTIONAL_SPECS = {
    "torch.nn.functional.batch_norm": Spec(Kind.BATCH_NORM, functional=True),
    **{
        name: Spec(Kind.DROPOUT, p_position=1, functional=True)
        for name in (
            "torch.nn.functional.dropout",
            "torch.nn.functional.dropout1d",
            "torch.nn.functional.dropout2d",
            "torch.nn.functional.dropout3d",
            "torch.nn.functional.alpha_dropout",
        )
    },
}

# Modules whose presence makes a class a sequence model (BN205).
SEQUENCE_LAYERS = frozenset(
    {
        "torch.nn.MultiheadAttention",
        "torch.nn.TransformerEncoderLayer",
        "torch.nn.TransformerDecoderLayer",
        "torch.nn.TransformerEncoder",
        "torch.nn.TransformerDecoder",
        "torch.nn.Transformer",
        "torch.nn.LSTM",
        "torch.nn.GRU",
        "torch.nn.RNN",
    }
)
ATTENTION_FUNCTIONS = frozenset({"torch.nn.functional.scaled_dot_product_attention"})
SEQUENTIAL = frozenset({"torch.nn.Sequential"})
MODULE_LIST = frozenset({"torch.nn.ModuleList"})
ORDERED_DICT = frozenset({"collections.OrderedDict"})
PARTIAL = frozenset({"functools.partial"})


@dataclass(frozen=True)
class Expr:
    """An argument expression together with the scope it must be read in."""

    node: cst.BaseExpression
    scope: Scope

    def integer(self) -> int | None:
        """The value when it is an int literal, a name bound to one, or arithmetic on those.

        >>> `c = 64` then `nn.Conv2d(3, 2 * c, 3)`: the out_channels Expr -> 128
        >>> a parameter `c` of `__init__` -> None
        """
        return self.scope.integer(self.node)

    def key(self) -> str:
        """The expression as written without spaces, after substituting bound parameters."""
        return self.scope.key(self.node)


# A width as a linear form: variable -> coefficient, and a constant. Variables are names the
# frame does not bind to one value (parameters), `cfg[1]`, or attributes (`self.width`).
Linear = tuple[dict[str, int], int]


def _linear(node: cst.BaseExpression, scope: Scope, depth: int = 0) -> Linear | None:
    if depth > 8:
        return None
    if isinstance(node, cst.Integer):
        return {}, int(node.evaluated_value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = _linear(node.expression, scope, depth + 1)
        return None if inner is None else ({k: -v for k, v in inner[0].items()}, -inner[1])
    if isinstance(node, cst.BinaryOperation):
        left = _linear(node.left, scope, depth + 1)
        right = _linear(node.right, scope, depth + 1)
        if left is None or right is None:
            return None
        if isinstance(node.operator, cst.Add | cst.Subtract):
            sign = 1 if isinstance(node.operator, cst.Add) else -1
            terms = dict(left[0])
            for key, value in right[0].items():
                terms[key] = terms.get(key, 0) + sign * value
            return {k: v for k, v in terms.items() if v}, left[1] + sign * right[1]
        if isinstance(node.operator, cst.Multiply):
            for factor, other in ((left, right), (right, left)):
                if not factor[0]:
                    return {k: v * factor[1] for k, v in other[0].items() if v}, other[1] * factor[
                        1
                    ]
        return None
    if isinstance(node, cst.Name):
        found = scope.lookup(node.value)
        if found is not None:
            return _linear(found[0], found[1], depth + 1)
        return ({node.value: 1}, 0) if _fixed_parameter(node.value, scope) else None
    if (
        isinstance(node, cst.Subscript)
        and isinstance(node.value, cst.Name)
        and _fixed_parameter(node.value.value, scope)
        and len(node.slice) == 1
        and isinstance(node.slice[0].slice, cst.Index)
        and isinstance(node.slice[0].slice.value, cst.Integer)
    ):
        # `layer_config[2]`: one element of a parameter that is never rebound.
        return {scope.key(node): 1}, 0
    return None


def _fixed_parameter(name: str, scope: Scope) -> bool:
    """A parameter of the frame that reads it, never rebound there: one value per call.
    A name assigned twice (`input_dim = hidden_dim` in a loop) may hold either value."""
    if name in scope.substitutions:
        return False
    frame = scope.frame
    return name in frame.params and not frame.bindings.get(name)


def compare_widths(a: Expr, b: Expr) -> tuple[str, str | None]:
    """How two widths compare: ("same" | "different" | "differs-when" | "unknown", condition).

    >>> 64 and 32 -> ("different", None);  `2 * c` and `c` -> ("different", None)
    >>> `out` and `h` (two parameters) -> ("differs-when", "`out` and `h` differ")
    >>> `c` and `c` -> ("same", None);  `a * b` and `c` -> ("unknown", None)
    """
    known = same_value(a, b)
    if known is True:
        return "same", None
    if known is False:
        return "different", None
    if not a.scope.same_frame(b.scope):
        return "unknown", None
    left, right = _linear(a.node, a.scope), _linear(b.node, b.scope)
    if left is None or right is None:
        return "unknown", None
    terms = dict(left[0])
    for key, value in right[0].items():
        terms[key] = terms.get(key, 0) - value
    terms = {k: v for k, v in terms.items() if v}
    constant = left[1] - right[1]
    if not terms:
        return ("same", None) if constant == 0 else ("different", None)
    if (
        len(terms) == 1
        and constant == 0
        and len(left[0]) == 1
        and len(right[0]) == 1
        and left[0].keys() == right[0].keys()
    ):
        # `2 * c` against `c`: equal only for a width of zero.
        return "different", None
    single = (
        len(left[0]) == 1
        and len(right[0]) == 1
        and left[1] == 0
        and right[1] == 0
        and next(iter(left[0].values())) == 1
        and next(iter(right[0].values())) == 1
    )
    if single:
        return "differs-when", f"`{a.key()}` and `{b.key()}` differ"
    return "unknown", None


def same_value(a: Expr, b: Expr) -> bool | None:
    """True when both are known and equal (or written alike), False when both known and differ.

    >>> `nn.Conv2d(c, 2*c, 3)` then `nn.BatchNorm2d(2 * c)` -> True (same expression)
    >>> `nn.Conv2d(3, 64, 3)` then `nn.BatchNorm2d(32)` -> False; `c` vs `d` -> None
    """
    left, right = a.integer(), b.integer()
    if left is not None and right is not None:
        return left == right
    if a.key() == b.key() and a.scope.same_frame(b.scope):
        return True
    return None


@dataclass(frozen=True)
class Layer:
    """One layer constructor call and the facts the rules read from it.

    `direct` is False when the call was reached through a helper function or a
    factory parameter, so it may build other layers elsewhere: rules that anchor a
    finding or a fix on the constructor only trust direct layers.
    """

    node: cst.Call
    qualified: str
    spec: Spec
    scope: Scope
    direct: bool = True
    # Keyword arguments a `functools.partial` factory supplies.
    preset: dict[str, cst.BaseExpression] = field(default_factory=dict, compare=False)
    # A `norm_layer` parameter: the class is only its default.
    factory: bool = False
    # Positional arguments are shifted when a partial already supplied the first ones.
    shift: int = 0

    @property
    def kind(self) -> Kind:
        return self.spec.kind

    @property
    def short_name(self) -> str:
        return self.qualified.rpartition(".")[2]

    def _arg(self, keyword: str, position: int | None) -> cst.BaseExpression | None:
        if keyword in self.preset:
            return self.preset[keyword]
        if position is not None:
            position -= self.shift
            if position < 0:
                return None
        found = argument(self.node, keyword, position)
        return None if found is None else found.value

    def _has_star(self) -> bool:
        return any(arg.star for arg in self.node.args)

    def out_features(self) -> Expr | None:
        """out_channels / out_features, when written (and not multiplied by heads)."""
        name = "out_features" if self.kind is Kind.LINEAR else "out_channels"
        if self.spec.extra_inputs:
            name = "out_channels"
        multiplier = self.spec.width_multiplier
        if multiplier is not None and (self._arg(multiplier, 2) is not None or self._has_star()):
            return None
        value = self._arg(name, self.spec.out_position)
        return None if value is None else Expr(value, self.scope)

    def num_features(self) -> Expr | None:
        """num_features (num_channels for GroupNorm), when written."""
        name = "num_channels" if self.kind is Kind.GROUP_NORM else "num_features"
        value = self._arg(name, self.spec.features_position)
        return None if value is None else Expr(value, self.scope)

    def bias_node(self) -> cst.BaseExpression | None:
        return self._arg("bias", self.spec.bias_position)

    def has_bias(self) -> bool | None:
        """True for the default or `bias=True`; None when it depends on a variable."""
        value = self.bias_node()
        if value is None:
            return None if self._has_star() else self.spec.bias_default
        return self.scope.boolean(value)

    def affine(self) -> bool | None:
        if self.spec.functional:
            return None
        value = self._arg("affine", self.spec.affine_position)
        if value is None:
            return None if self._has_star() else self.spec.affine_default
        return self.scope.boolean(value)

    def dropout_probability(self) -> float | None:
        value = self._arg("p", self.spec.p_position)
        if value is None:
            return None if self._has_star() else 0.5
        known = number(value)
        return None if known is None else float(known)
