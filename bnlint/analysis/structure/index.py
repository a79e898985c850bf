"""StructureIndex: every Sequential, module class and data path of one file, built once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from bnlint.analysis.calls import boolean
from bnlint.analysis.names import NameResolver, dotted_name, last_name
from bnlint.analysis.semantic.scopes import SemanticModel
from bnlint.analysis.structure.aliases import mirrored_class, module_aliases
from bnlint.analysis.structure.dataflow import Application, MethodFlow, Value, method_flow
from bnlint.analysis.structure.elements import (
    Block,
    Element,
    Item,
    adjacent,
    first_layer,
    last_layer,
)
from bnlint.analysis.structure.layers import (
    ATTENTION_FUNCTIONS,
    LAYER_SPECS,
    MODULE_LIST,
    SEQUENCE_LAYERS,
    SEQUENTIAL,
    Kind,
    Layer,
)
from bnlint.analysis.structure.resolver import Resolver, super_init_call
from bnlint.analysis.structure.scopes import Frame, Scope
from bnlint.analysis.walk import children, walk

_ADD_MODULE = frozenset({"add_module", "register_module"})


@dataclass(frozen=True)
class Link:
    """`producer`'s output feeds `consumer` and nothing else."""

    producer: Layer
    consumer: Layer
    # "sequential" (adjacent in a Sequential) or "forward" (the data path of a method).
    where: str
    # Adjacent only on some paths: a branch appends the consumer (`if bn:`), or forward
    # applies the producer only when it is set (`if self.dropout is not None:`).
    conditional: bool = False


@dataclass(frozen=True)
class OutputNorm:
    """A normalization applied to what a model returns, right after its last Linear."""

    norm: Layer
    previous: Layer
    # The BN constructor in a Sequential, or the BN call in `forward`.
    anchor: cst.CSTNode
    owner: str
    # What turns the normalized scores into the prediction (`log_softmax`), if anything.
    then: str | None = None
    # The owner is an `nn.Sequential` subclass or a class (True), or a local Sequential.
    is_class: bool = True
    # The `return` in `forward` that hands the normalized output back, when there is one.
    returned: cst.Return | None = field(default=None, compare=False)


@dataclass
class ModuleClass:
    """A class of the file, with the modules its methods assign to `self`."""

    node: cst.ClassDef
    methods: dict[str, cst.FunctionDef] = field(default_factory=dict)
    # name -> every value assigned to `self.<name>`, with the frame it was written in.
    assignments: dict[str, list[tuple[cst.BaseExpression, Frame]]] = field(default_factory=dict)
    flows: dict[str, MethodFlow] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.node.name.value


def _scale_frozen(cls: ModuleClass, attribute: str) -> bool:
    """Whether `__init__` freezes the scale of the norm held by `self.<attribute>`.

    >>> `self.features.weight.requires_grad = False` -> True
    >>> `self.features.weight.requires_grad_(False)` -> True
    """
    init = cls.methods.get("__init__")
    if init is None:
        return False
    weight = f"self.{attribute}.weight"
    found = False

    def enter(node: cst.CSTNode) -> bool:
        nonlocal found
        if type(node) is cst.Assign and boolean(node.value) is False:
            found = found or any(
                dotted_name(target.target) == f"{weight}.requires_grad" for target in node.targets
            )
        elif (
            type(node) is cst.Call
            and dotted_name(node.func) == f"{weight}.requires_grad_"
            and len(node.args) == 1
            and boolean(node.args[0].value) is False
        ):
            found = True
        return not found

    walk(init.body, enter)
    return found


class StructureIndex:
    """The structural model of one file's modules.

    >>> `self.conv = nn.Conv2d(3, 8, 3); self.bn = nn.BatchNorm2d(8)` and
    >>> `forward: return self.bn(self.conv(x))` -> one Link(Conv2d -> BatchNorm2d, "forward")
    """

    def __init__(
        self, module: cst.Module, names: NameResolver, semantic: SemanticModel | None = None
    ) -> None:
        self.names = names
        # The file's scopes and bindings: the model every analysis shares, when given.
        semantic = semantic if semantic is not None else SemanticModel(module)
        self.module_frame = Frame(module, None, semantic.scope(module))
        collector = _Collector(self.module_frame, semantic)
        for statement in module.body:
            collector.collect(statement)
        self.frames = collector.frames
        self.classes = collector.classes
        self._class_of_method = {
            method: cls for cls in self.classes for method in cls.methods.values()
        }
        sequential_classes = {
            cls.name: cls.methods["__init__"]
            for cls in collector.top_level_classes
            if "__init__" in cls.methods
            and any(names.matches(base.value, SEQUENTIAL) for base in cls.node.bases)
        }
        self.resolver = Resolver(
            names,
            self.frames,
            self.module_frame,
            collector.functions,
            sequential_classes,
            module_aliases(module, names),
        )
        self._attribute_cache: dict[tuple[int, str], Element | None] = {}
        self._labels: dict[int, str] | None = None
        self._self_reference_cache: dict[int, dict[str, int]] = {}
        self._resolving: set[tuple[int, str]] = set()
        self.blocks: list[tuple[Block, Frame]] = []
        self.links: list[Link] = []
        self.output_norms: list[OutputNorm] = []
        self._link_index: dict[tuple[int, int], int] = {}
        self._build_blocks()
        self._build_flows()
        self._build_sequential_models()

    # -- names --------------------------------------------------------------------------
    def label(self, layer: Layer) -> str | None:
        """The layer as the user names it: `Net.fc4`, `Net.classifier[3]`; None otherwise.

        >>> `class Net: self.fc4 = nn.Linear(64, 10)` -> "Net.fc4"
        >>> `self.classifier = nn.Sequential(nn.Dropout(), nn.Linear(64, 10))` -> "Net.classifier[1]"
        """
        if self._labels is None:
            self._labels = {}
            for cls in self.classes:
                for name, assigned in cls.assignments.items():
                    if len(assigned) != 1:
                        continue
                    value = assigned[0][0]
                    self._labels.setdefault(id(value), f"{cls.name}.{name}")
                    element = self.attribute(cls, name)
                    if isinstance(element, Block) and element.node is value:
                        self._label_items(element, f"{cls.name}.{name}")
        return self._labels.get(id(layer.node))

    def _label_items(self, block: Block, prefix: str) -> None:
        assert self._labels is not None
        for position, item in enumerate(block.items):
            if not isinstance(item, Layer | Block) or any(
                not isinstance(before, Layer | Block) for before in block.items[:position]
            ):
                return  # after a GAP or an opaque item the index is not known
            if isinstance(item, Layer) and item.direct:
                self._labels.setdefault(id(item.node), f"{prefix}[{position}]")
            elif isinstance(item, Block) and item.node is not None:
                self._label_items(item, f"{prefix}[{position}]")

    # -- attributes ---------------------------------------------------------------------
    def attribute(self, cls: ModuleClass, name: str) -> Element | None:
        """What `self.<name>` holds when the class assigns it exactly once, else None.

        >>> `self.bn = nn.BatchNorm2d(64)` -> that layer
        >>> `if gn: self.norm = nn.GroupNorm(...) else: self.norm = nn.BatchNorm2d(...)` -> None
        """
        key = (id(cls.node), name)
        if key in self._attribute_cache:
            return self._attribute_cache[key]
        assigned = cls.assignments.get(name, [])
        if len(assigned) != 1 or key in self._resolving:
            return None
        self._resolving.add(key)
        value, frame = assigned[0]
        element: Element | None
        if isinstance(value, cst.Call) and self.names.matches(value.func, SEQUENTIAL):
            element = self.resolver.sequential(
                value, Scope(frame), lambda n: self.attribute(cls, n), filled=f"self.{name}"
            )
        else:
            element = self.resolver.resolve(value, Scope(frame), lambda n: self.attribute(cls, n))
        self._resolving.discard(key)
        if self._module_list(element) and self._self_references(cls).get(name) != 2:
            # Appended to, indexed or iterated anywhere but in one chain loop: the items
            # seen at construction are not the path the data takes.
            element = None
        self._attribute_cache[key] = element
        return element

    def _module_list(self, element: Element | None) -> Block | None:
        """`element` when it is what an `nn.ModuleList([...])` holds."""
        if (
            isinstance(element, Block)
            and element.node is not None
            and self.names.matches(element.node.func, MODULE_LIST) is not None
        ):
            return element
        return None

    def _self_references(self, cls: ModuleClass) -> dict[str, int]:
        """How often each `self.<name>` is written anywhere in the class."""
        found = self._self_reference_cache.get(id(cls.node))
        if found is None:
            found = {}

            def count(node: cst.CSTNode) -> bool:
                if isinstance(node, cst.Attribute) and _is_self_name(node.value):
                    found[node.attr.value] = found.get(node.attr.value, 0) + 1
                return True

            walk(cls.node, count)
            self._self_reference_cache[id(cls.node)] = found
        return found

    def _attributes_of(self, cls: ModuleClass) -> Callable[[str], Element | None]:
        return lambda name: self.attribute(cls, name)

    # -- Sequentials ----------------------------------------------------------------------
    def _build_blocks(self) -> None:
        for frame in [self.module_frame, *self.frames.values()]:
            cls = (
                self._class_of_method.get(frame.node)
                if isinstance(frame.node, cst.FunctionDef)
                else None
            )
            lookup = None if cls is None else self._attributes_of(cls)
            calls = [
                (c, _filled_name(frame, c))
                for c in frame.calls
                if self.names.matches(c.func, SEQUENTIAL)
            ]
            if (
                cls is not None
                and cls.methods.get("__init__") is frame.node
                and any(self.names.matches(base.value, SEQUENTIAL) for base in cls.node.bases)
            ):
                super_call = super_init_call(frame)
                if super_call is not None:
                    # A subclass filled by `self.add_module(...)`, unless attributes assigned
                    # to `self` register modules in between.
                    filled = None if frame.attribute_assignments else "self"
                    calls.append((super_call, filled))
            for call, filled in calls:
                block = self.resolver.sequential(call, Scope(frame), lookup, filled=filled)
                self.blocks.append((block, frame))
                self._link_block(block, "sequential")

    def _link_block(self, block: Block, where: str) -> None:
        for run in (block.items, *block.fragments):
            for producer, consumer in adjacent(run):
                self._link(producer, consumer, where)
        for before, after in block.conditional:
            last, first = last_layer(before), first_layer(after)
            if last is not None and first is not None:
                self._link(last, first, where, conditional=True)

    def _link(
        self, producer: Layer, consumer: Layer, where: str, conditional: bool = False
    ) -> None:
        """Record a link once per (producer, consumer) pair: certain beats conditional, and a
        pair seen from the helper that builds both layers (direct) beats one seen from a call."""
        key = (id(producer.node), id(consumer.node))
        if producer.node is consumer.node:
            return
        index = self._link_index.get(key)
        if index is None:
            self._link_index[key] = len(self.links)
            self.links.append(Link(producer, consumer, where, conditional))
            return
        known = self.links[index]
        self.links[index] = Link(
            producer if producer.direct and not known.producer.direct else known.producer,
            consumer if consumer.direct and not known.consumer.direct else known.consumer,
            known.where,
            known.conditional and conditional,
        )

    # -- data paths -----------------------------------------------------------------------
    def _build_flows(self) -> None:
        for cls in self.classes:
            for name, method in cls.methods.items():
                if name == "__init__" or method not in self.frames:
                    continue
                cls.flows[name] = method_flow(
                    method,
                    self.names,
                    self._attributes_of(cls),
                    Scope(self.frames[method]),
                    frozenset(cls.methods),
                )
            references: dict[str, int] = {}
            for flow in cls.flows.values():
                for attribute, count in flow.references.items():
                    references[attribute] = references.get(attribute, 0) + count
            for flow in cls.flows.values():
                for application in flow.applications:
                    chain = self._module_list(application.element)
                    if chain is not None:
                        # Applied as a chain (the only way the data path admits one).
                        self._link_block(chain, "forward")
                    source = _certain_source(application, references)
                    if source is None:
                        continue
                    producer = last_layer(source.element)
                    consumer = first_layer(application.element)
                    if producer is not None and consumer is not None:
                        self._link(producer, consumer, "forward")
            self._output_norm(cls, references)

    def _output_norm(self, cls: ModuleClass, references: dict[str, int]) -> None:
        flow = cls.flows.get("forward")
        if flow is None:
            return
        delegate = _delegated_method(flow, cls)
        if delegate is not None:
            flow = delegate
        for statement, returned in flow.returns:
            found = _returned_value(cls, returned)
            if found is None:
                continue
            value, then = found
            if value.producer is None or value.uses > 1:
                continue
            application = value.producer
            if application.attribute is not None and references.get(application.attribute) != 1:
                continue
            if application.attribute is not None and _scale_frozen(cls, application.attribute):
                # ArcFace-style heads freeze the norm's scale so the embedding keeps unit
                # scale for the margin loss: an embedding, not class scores.
                continue
            activation = application.element
            if isinstance(activation, Layer) and activation.kind is Kind.OUTPUT:
                # `return self.log_softmax(x)`: the prediction is still the layer before it.
                source = _certain_source(application, references)
                if source is None:
                    continue
                then = activation.short_name
                application = source
            element = application.element
            norm: Layer | None
            previous: Layer | None
            if isinstance(element, Block):
                tail = _tail(element)
                if tail is not None and tail[-1].kind is Kind.OUTPUT:
                    then = then or tail[-1].short_name
                    tail = tail[:-1]
                if tail is None or len(tail) < 2:
                    continue
                previous, norm = tail[-2], tail[-1]
                if not norm.direct:
                    continue
                anchor: cst.CSTNode = norm.node
            else:
                norm = last_layer(element)
                source = _certain_source(application, references)
                previous = None if source is None else last_layer(source.element)
                anchor = application.node
            if norm is None or norm.kind is not Kind.BATCH_NORM or norm.affine() is not True:
                continue
            if previous is not None and previous.kind is Kind.LINEAR:
                self.output_norms.append(
                    OutputNorm(norm, previous, anchor, cls.name, then, returned=statement)
                )

    def _build_sequential_models(self) -> None:
        """`model = nn.Sequential(..., nn.Linear(...), nn.BatchNorm1d(...))` then `model(x)`,
        and `class Net(nn.Sequential)` whose `super().__init__(...)` ends the same way."""
        for block, frame in self.blocks:
            if block.node is None or len(block.items) < 2:
                continue
            owner = self._sequential_class_of(block, frame)
            is_class = owner is not None
            if owner is None:
                owner = _bound_name(frame, block.node)
                if owner is None or not any(
                    isinstance(call.func, cst.Name) and call.func.value == owner
                    for call in frame.calls
                ):
                    continue
            if isinstance(block.items[-1], Block):
                continue
            tail = _tail(block)
            then = None
            if tail is not None and tail[-1].kind is Kind.OUTPUT:
                then = tail[-1].short_name
                tail = tail[:-1]
            if tail is None or len(tail) < 2:
                continue
            previous, norm = tail[-2], tail[-1]
            if (
                norm.direct
                and norm.kind is Kind.BATCH_NORM
                and norm.affine() is True
                and previous.kind is Kind.LINEAR
            ):
                self.output_norms.append(
                    OutputNorm(norm, previous, norm.node, owner, then, is_class)
                )

    def _sequential_class_of(self, block: Block, frame: Frame) -> str | None:
        """The `nn.Sequential` subclass whose `__init__` builds `block` with its super call."""
        cls = (
            self._class_of_method.get(frame.node)
            if isinstance(frame.node, cst.FunctionDef)
            else None
        )
        if (
            cls is not None
            and cls.methods.get("__init__") is frame.node
            and block.node is super_init_call(frame)
            and any(self.names.matches(base.value, SEQUENTIAL) for base in cls.node.bases)
        ):
            return cls.name
        return None

    # -- sequence models ------------------------------------------------------------------
    def sequence_model_norms(self) -> list[tuple[ModuleClass, str, list[Layer]]]:
        """Classes holding attention or recurrent layers and no convolution, with their BNs.

        >>> a block with `nn.MultiheadAttention(...)` and `nn.BatchNorm1d(d)`
        >>> -> (the class, "MultiheadAttention", [the BatchNorm1d])
        Evidence is a torch attention or recurrent layer, a same-file attention class the
        block holds (`self.self_attn = _MultiheadAttention(...)`, whose forward takes a
        softmax of a matrix product), or a hand-written recurrent cell (a forward that
        computes sigmoid and tanh gates and returns the new state as a tuple). A BatchNorm
        that forward applies only to a pooled or last-step output (`self.bn(out[:, -1])`,
        `self.bn(torch.mean(out, 1))`) normalizes across samples, not positions: left out.
        """
        found: list[tuple[ModuleClass, str, list[Layer]]] = []
        attention: set[str] | None = None
        for cls in self.classes:
            evidence: str | None = None
            norms: list[Layer] = []
            has_conv = False
            for method in cls.methods.values():
                frame = self.frames.get(method)
                if frame is None:
                    continue
                for call in frame.calls:
                    qualified = self.names.qualified_name(call.func)
                    if qualified is None:
                        continue
                    qualified = mirrored_class(qualified)
                    if qualified in SEQUENCE_LAYERS or qualified in ATTENTION_FUNCTIONS:
                        evidence = evidence or qualified.rpartition(".")[2]
                    spec = LAYER_SPECS.get(qualified)
                    if spec is None:
                        continue
                    if spec.kind is Kind.CONV:
                        has_conv = True
                    elif spec.kind is Kind.BATCH_NORM:
                        norms.append(Layer(call, qualified, spec, Scope(frame)))
            if not norms or has_conv:
                continue
            if evidence is None:
                if attention is None:
                    attention = self._attention_classes()
                held = sorted(
                    value.func.value
                    for values in cls.assignments.values()
                    for value, _ in values
                    if isinstance(value, cst.Call)
                    and isinstance(value.func, cst.Name)
                    and value.func.value in attention
                )
                evidence = held[0] if held else None
            if evidence is None and self._recurrent_cell(cls):
                evidence = "a recurrent cell (sigmoid and tanh gates, state returned)"
            if evidence is None:
                continue
            norms = [norm for norm in norms if not self._applied_only_to_pooled(cls, norm)]
            if norms:
                found.append((cls, evidence, norms))
        return found

    def _attention_classes(self) -> set[str]:
        """Same-file classes that compute attention, or hold one (`self.attn = Attention()`)."""
        direct: set[str] = set()
        holds: dict[str, set[str]] = {}
        for cls in self.classes:
            if any(
                method in self.frames and _computes_attention(method, self.frames[method])
                for method in cls.methods.values()
            ):
                direct.add(cls.name)
            holds[cls.name] = {
                value.func.value
                for values in cls.assignments.values()
                for value, _ in values
                if isinstance(value, cst.Call) and isinstance(value.func, cst.Name)
            }
        found = set(direct)
        for _ in range(3):
            found |= {name for name, held in holds.items() if held & found}
        return found

    def _recurrent_cell(self, cls: ModuleClass) -> bool:
        forward = cls.methods.get("forward")
        if forward is None:
            return False
        gates: set[str] = set()
        returns_state = False

        def enter(node: cst.CSTNode) -> bool:
            nonlocal returns_state
            if isinstance(node, cst.Call):
                name = last_name(node.func)
                if name in ("sigmoid", "tanh"):
                    gates.add(name)
            elif isinstance(node, cst.Return) and isinstance(node.value, cst.Tuple):
                returns_state = True
            return not isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda)

        walk(forward.body, enter)
        return returns_state and gates == {"sigmoid", "tanh"}

    def _applied_only_to_pooled(self, cls: ModuleClass, norm: Layer) -> bool:
        """Whether every application of `norm` in the class reads a pooled or last-step value."""
        inputs: list[tuple[cst.BaseExpression, cst.FunctionDef]] = []
        for name, flow in cls.flows.items():
            method = cls.methods[name]
            for application in flow.applications:
                element = application.element
                if element is norm or (isinstance(element, Layer) and element.node is norm.node):
                    args = application.node.args
                    if args:
                        inputs.append((args[0].value, method))
        return bool(inputs) and all(_pooled(value, method, 0) for value, method in inputs)


_REDUCTIONS = frozenset({"mean", "sum", "max", "amax", "logsumexp", "avg_pool1d", "max_pool1d"})


def _pooled(node: cst.BaseExpression, method: cst.FunctionDef, depth: int) -> bool:
    """`torch.mean(x, 1)`, `x[:, -1]`, `h_n[-1]`, or a layer applied to one of those, or a
    name assigned one of those in the method."""
    if depth > 6:
        return False
    if isinstance(node, cst.Call):
        if last_name(node.func) in _REDUCTIONS or _flattens_steps(node):
            return True
        receiver = node.func.value if isinstance(node.func, cst.Attribute) else None
        if receiver is not None and _pooled(receiver, method, depth + 1):
            return True
        return any(_pooled(arg.value, method, depth + 1) for arg in node.args if not arg.star)
    if isinstance(node, cst.Subscript):
        if any(_is_minus_one(element.slice) for element in node.slice):
            return True
        return _pooled(node.value, method, depth + 1)
    if isinstance(node, cst.Attribute) and not (
        isinstance(node.value, cst.Name) and node.value.value == "self"
    ):
        return _pooled(node.value, method, depth + 1)
    if isinstance(node, cst.Name):
        values: list[cst.BaseExpression] = []

        def enter(current: cst.CSTNode) -> bool:
            if isinstance(current, cst.Assign) and any(
                isinstance(t.target, cst.Name) and t.target.value == node.value
                for t in current.targets
            ):
                values.append(current.value)
            return not isinstance(current, cst.FunctionDef | cst.ClassDef | cst.Lambda)

        walk(method.body, enter)
        return any(_pooled(value, method, depth + 1) for value in values)
    return False


def _flattens_steps(call: cst.Call) -> bool:
    """`x.view(x.size(0), -1)`, `x.reshape(n, -1)`, `x.flatten(1)`, `torch.flatten(x, 1)`:
    every position folded into one feature vector per sample."""
    name = last_name(call.func)
    args = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    if name in ("view", "reshape") and len(args) == 2:
        last = args[-1]
        return (
            isinstance(last, cst.UnaryOperation)
            and isinstance(last.operator, cst.Minus)
            and isinstance(last.expression, cst.Integer)
            and last.expression.value == "1"
        )
    if name == "flatten":
        start = args[-1] if args else None
        return isinstance(start, cst.Integer) and start.value == "1"
    return False


def _is_minus_one(element: cst.BaseSlice) -> bool:
    return (
        isinstance(element, cst.Index)
        and isinstance(element.value, cst.UnaryOperation)
        and isinstance(element.value.operator, cst.Minus)
        and isinstance(element.value.expression, cst.Integer)
        and element.value.expression.value == "1"
    )


def _computes_attention(method: cst.FunctionDef, frame: Frame) -> bool:
    """A softmax and a matrix product in one method: `softmax(q @ k.transpose(-2, -1))`.

    The frame's calls answer most methods; only one with a softmax and no matmul call is
    walked, for the `@` operator.
    """
    names = {last_name(call.func) for call in frame.calls}
    if "softmax" not in names:
        return False
    if names & {"matmul", "bmm", "einsum", "baddbmm"}:
        return True
    found = False

    def enter(node: cst.CSTNode) -> bool:
        nonlocal found
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.MatrixMultiply):
            found = True
        return not found and not isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda)

    walk(method.body, enter)
    return found


def _is_self_name(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "self"


def _certain_source(application: Application, references: dict[str, int]) -> Application | None:
    """The application whose output is this one's input, when nothing else reads it."""
    value: Value | None = application.input
    if value is None or value.producer is None:
        return None
    source = value.producer
    if value.uses != 1 or value.block != application.block:
        return None
    for attribute in (source.attribute, application.attribute):
        if attribute is not None and references.get(attribute) != 1:
            return None
    return source


def _tail(block: Block) -> list[Layer] | None:
    """The last layers a Sequential applies, looking into nested blocks; None when the end is
    not known (a GAP or an opaque module there)."""
    flat: list[Layer] = []

    def add(items: tuple[Item, ...]) -> bool:
        for item in items:
            if isinstance(item, Block):
                if not add(item.items):
                    return False
            elif isinstance(item, Layer):
                flat.append(item)
            else:
                flat.clear()  # what comes before an unknown module is not adjacent to the rest
        return True

    add(block.items)
    if not flat or last_layer(block) is not flat[-1]:
        return None
    return flat


def _returned_value(
    cls: ModuleClass, value: Value | None, depth: int = 0
) -> tuple[Value, str | None] | None:
    """The value a method returns, through `self.get_logits(x)`-style helpers of the class,
    with what turned it into the prediction on the way (`log_softmax`)."""
    then = None
    while value is not None and value.delegate is not None and depth < 3:
        then = then or value.through
        flow = cls.flows.get(value.delegate)
        if flow is None or len(flow.returns) != 1:
            return None
        value = flow.returns[0][1]
        depth += 1
    if value is None:
        return None
    return value, then or value.through


def _delegated_method(flow: MethodFlow, cls: ModuleClass) -> MethodFlow | None:
    """`def forward(self, x): return self._forward_impl(x)` -> the flow of `_forward_impl`."""
    if len(flow.returns) != 1:
        return None
    value = flow.returns[0][0].value
    if not isinstance(value, cst.Call):
        return None
    func = value.func
    if (
        isinstance(func, cst.Attribute)
        and isinstance(func.value, cst.Name)
        and func.value.value == "self"
        and func.attr.value in cls.flows
        and func.attr.value != "forward"
    ):
        return cls.flows[func.attr.value]
    return None


def _filled_name(frame: Frame, call: cst.Call) -> str | None:
    """What an empty `nn.Sequential()` is bound to, for `add_module` calls to fill."""
    if call.args:
        return None
    bound = _bound_name(frame, call)
    if bound is not None:
        return bound
    targets = [name for name, value in frame.attribute_assignments if value is call]
    return f"self.{targets[0]}" if len(targets) == 1 else None


def _bound_name(frame: Frame, call: cst.Call) -> str | None:
    for name, values in frame.bindings.items():
        if len(values) == 1 and values[0] is call and name not in frame.params:
            return name
    return None


# Node kind -> whether no function or class can be inside it (a simple statement line or
# an expression: a lambda is not a definition the collector records).
_HOLDS_NO_DEFINITIONS: dict[type, bool] = {}


class _Collector:
    """Frames of every function, classes with their methods, module-level helpers."""

    def __init__(self, module_frame: Frame, semantic: SemanticModel) -> None:
        self.semantic = semantic
        self.frames: dict[cst.CSTNode, Frame] = {}
        self.classes: list[ModuleClass] = []
        self.top_level_classes: list[ModuleClass] = []
        self.functions: dict[str, cst.FunctionDef] = {}
        self._duplicates: set[str] = set()
        self._frames: list[Frame] = [module_frame]
        # The innermost enclosing definitions: a ModuleClass or a FunctionDef.
        self._containers: list[ModuleClass | cst.FunctionDef] = []

    def collect(self, node: cst.CSTNode) -> None:
        # Definitions live only in compound statements and their blocks. Type tests, not
        # isinstance(): this runs on every statement and block of the file.
        kind = type(node)
        holds_none = _HOLDS_NO_DEFINITIONS.get(kind)
        if holds_none is None:
            holds_none = _HOLDS_NO_DEFINITIONS[kind] = issubclass(
                kind, cst.SimpleStatementLine | cst.BaseExpression
            )
        if holds_none:
            return
        if type(node) is cst.ClassDef:
            self.visit_ClassDef(node)
        elif type(node) is cst.FunctionDef:
            self.visit_FunctionDef(node)
        for child in children(node):
            self.collect(child)
        if type(node) is cst.ClassDef:
            self.leave_ClassDef(node)
        elif type(node) is cst.FunctionDef:
            self.leave_FunctionDef(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        cls = ModuleClass(node)
        self.classes.append(cls)
        if not self._containers:
            self.top_level_classes.append(cls)
        self._containers.append(cls)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._containers.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = Frame(node, self._frames[-1], self.semantic.scope(node))
        self.frames[node] = frame
        container = self._containers[-1] if self._containers else None
        if isinstance(container, ModuleClass):
            container.methods[node.name.value] = node
            self._record_attributes(container, frame)
        elif container is None:
            name = node.name.value
            if name in self.functions or name in self._duplicates:
                self._duplicates.add(name)
                self.functions.pop(name, None)
            else:
                self.functions[name] = node
        self._frames.append(frame)
        self._containers.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._frames.pop()
        self._containers.pop()

    @staticmethod
    def _record_attributes(cls: ModuleClass, frame: Frame) -> None:
        for name, value in frame.attribute_assignments:
            cls.assignments.setdefault(name, []).append((value, frame))
        for call in frame.calls:
            func = call.func
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value in _ADD_MODULE
                and isinstance(func.value, cst.Name)
                and func.value.value == "self"
                and len(call.args) == 2
            ):
                key = call.args[0].value
                added = key.evaluated_value if isinstance(key, cst.SimpleString) else None
                if isinstance(added, str):
                    cls.assignments.setdefault(added, []).append((call.args[1].value, frame))
