"""Unit tests of the structural model: layers, Sequential order, the forward data path."""

from __future__ import annotations

import textwrap

import libcst as cst

from bnlint.analysis.context import _top_level_imports
from bnlint.analysis.names import NameResolver
from bnlint.analysis.structure import Kind, StructureIndex, same_value


def index(source: str) -> StructureIndex:
    module = cst.parse_module(textwrap.dedent(source))
    names = NameResolver()
    for statement in module.body:
        for node in _top_level_imports(statement):
            names.add_import(node)
    return StructureIndex(module, names)


def links(source: str) -> list[tuple[str, str, str]]:
    """The certain links: adjacent on every path through the code that builds them."""
    return [
        (k.producer.short_name, k.consumer.short_name, k.where)
        for k in index(source).links
        if not k.conditional
    ]


def conditional_links(source: str) -> list[tuple[str, str]]:
    """The links that hold only when a branch runs or a loop repeats."""
    return sorted(
        (k.producer.short_name, k.consumer.short_name) for k in index(source).links if k.conditional
    )


def test_positional_sequential_links_neighbours_only() -> None:
    found = links(
        """
        from torch import nn
        block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Dropout())
        """
    )
    # The ReLU is opaque to the model: nothing links across it.
    assert found == [("Conv2d", "BatchNorm2d", "sequential")]


def test_aliased_imports_and_ordered_dict() -> None:
    found = links(
        """
        import torch.nn as tnn
        from collections import OrderedDict
        from torch.nn import BatchNorm1d as BN
        head = tnn.Sequential(OrderedDict([("fc", tnn.Linear(8, 4)), ("bn", BN(4))]))
        """
    )
    assert found == [("Linear", "BatchNorm1d", "sequential")]


def test_star_list_built_in_a_loop_keeps_only_certain_neighbours() -> None:
    found = links(
        """
        import torch.nn as nn
        def make(cfg):
            layers = [nn.Conv2d(3, 8, 3)]
            for c in cfg:
                layers.append(nn.Conv2d(8, c, 3))
                layers.append(nn.BatchNorm2d(c))
            layers.append(nn.ReLU())
            return nn.Sequential(*layers)
        """
    )
    # The first conv may be followed by the loop's conv or by the ReLU: no link for it.
    assert found == [("Conv2d", "BatchNorm2d", "sequential")]


def test_list_mutated_in_place_is_not_trusted() -> None:
    found = links(
        """
        import torch.nn as nn
        def make():
            layers = [nn.Conv2d(3, 8, 3), nn.ReLU()]
            layers.insert(1, nn.BatchNorm2d(8))
            return nn.Sequential(*layers)
        """
    )
    assert found == []


def test_forward_path_through_variables_and_nested_calls() -> None:
    found = links(
        """
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)
                self.fc = nn.Linear(8, 2)
                self.bn_fc = nn.BatchNorm1d(2)
            def forward(self, x):
                x = self.conv(x)
                x = self.bn(x)
                return self.bn_fc(self.fc(x.mean((2, 3))))
        """
    )
    assert ("Conv2d", "BatchNorm2d", "forward") in found
    assert ("Linear", "BatchNorm1d", "forward") in found
    assert ("BatchNorm2d", "Linear", "forward") not in found


def test_second_consumer_branch_and_reuse_break_the_path() -> None:
    found = links(
        """
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(8, 8, 3)
                self.bn_a = nn.BatchNorm2d(8)
                self.b = nn.Conv2d(8, 8, 3)
                self.bn_b = nn.BatchNorm2d(8)
                self.c = nn.Conv2d(8, 8, 3)
                self.bn_c = nn.BatchNorm2d(8)
            def forward(self, x, flag):
                y = self.a(x)
                x = self.bn_a(y) + y
                z = self.b(x)
                if flag:
                    z = self.bn_b(z)
                return self.c(self.bn_c(self.c(z)))
        """
    )
    assert found == []


def test_attribute_assigned_in_both_branches_is_unknown() -> None:
    structure = index(
        """
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, gn):
                super().__init__()
                if gn:
                    self.norm = nn.GroupNorm(8, 64)
                else:
                    self.norm = nn.BatchNorm2d(64)
                self.conv = nn.Conv2d(3, 64, 3)
        """
    )
    cls = structure.classes[0]
    assert structure.attribute(cls, "norm") is None
    conv = structure.attribute(cls, "conv")
    assert conv is not None
    assert getattr(conv, "kind", None) is Kind.CONV


def test_helpers_factories_and_sequential_subclasses_resolve() -> None:
    found = links(
        """
        import torch.nn as nn
        from functools import partial
        norm = partial(nn.BatchNorm2d, eps=1e-3)
        def conv3x3(i, o):
            return nn.Conv2d(i, o, 3, padding=1, bias=False)
        class ConvBN(nn.Sequential):
            def __init__(self, i, o):
                super().__init__(nn.Conv2d(i, o, 3, bias=False), nn.BatchNorm2d(o))
        class Net(nn.Module):
            def __init__(self, norm_layer=None):
                super().__init__()
                if norm_layer is None:
                    norm_layer = nn.BatchNorm2d
                self.conv = conv3x3(3, 16)
                self.bn = norm_layer(16)
                self.stem = nn.Sequential(ConvBN(3, 16), nn.Dropout(), norm(16))
            def forward(self, x):
                return self.bn(self.conv(x))
        """
    )
    assert ("Conv2d", "BatchNorm2d", "forward") in found
    assert ("BatchNorm2d", "Dropout", "sequential") in found
    assert ("Dropout", "BatchNorm2d", "sequential") in found


def test_constructor_arguments_resolve_through_bound_names() -> None:
    structure = index(
        """
        import torch.nn as nn
        WIDTH = 32
        def make(c):
            hidden = 2 * WIDTH
            return nn.Sequential(nn.Conv2d(c, hidden, 3), nn.BatchNorm2d(hidden), nn.BatchNorm2d(c))
        """
    )
    (conv_link, bn_link) = structure.links
    out = conv_link.producer.out_features()
    features = conv_link.consumer.num_features()
    assert out is not None
    assert features is not None
    assert out.integer() == 64
    assert same_value(out, features) is True
    unknown = bn_link.consumer.num_features()
    assert unknown is not None
    assert unknown.integer() is None


def test_output_norm_after_final_linear_but_not_affine_free_or_pooled() -> None:
    structure = index(
        """
        import torch.nn as nn
        class Bad(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 2)
                self.bn = nn.BatchNorm1d(2)
            def forward(self, x):
                return self.bn(self.fc(x))
        class Projector(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = nn.Sequential(nn.Linear(8, 2), nn.BatchNorm1d(2, affine=False))
            def forward(self, x):
                return self.net(x)
        class Neck(nn.Module):
            def __init__(self):
                super().__init__()
                self.pool = nn.AdaptiveAvgPool1d(1)
                self.bn = nn.BatchNorm1d(8)
            def forward(self, x):
                return self.bn(self.pool(x))
        """
    )
    assert [found.owner for found in structure.output_norms] == ["Bad"]


def test_sequence_models_exclude_convolutional_classes() -> None:
    structure = index(
        """
        import torch.nn as nn
        class Encoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = nn.GRU(8, 8)
                self.bn = nn.BatchNorm1d(8)
        class CRNN(nn.Module):
            def __init__(self):
                super().__init__()
                self.cnn = nn.Sequential(nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8))
                self.rnn = nn.LSTM(8, 8)
        """
    )
    found = structure.sequence_model_norms()
    assert [(cls.name, evidence, len(norms)) for cls, evidence, norms in found] == [
        ("Encoder", "GRU", 1)
    ]


def test_conditional_append_links_both_sides_of_the_branch() -> None:
    source = """
        import torch.nn as nn
        def block(n_in, n_out, dropout=0.0):
            layers = [nn.Linear(n_in, n_out)]
            if dropout:
                layers.append(nn.Dropout(dropout))
            layers.append(nn.BatchNorm1d(n_out))
            return layers
        model = nn.Sequential(*block(4, 8, 0.1))
        """
    # Linear feeds Dropout when the branch runs and BatchNorm when it does not; never both.
    assert links(source) == []
    assert conditional_links(source) == [
        ("Dropout", "BatchNorm1d"),
        ("Linear", "BatchNorm1d"),
        ("Linear", "Dropout"),
    ]


def test_loop_iterations_meet_end_to_start() -> None:
    source = """
        import torch.nn as nn
        def mlp(dims, dropouts):
            layers = []
            for i, d in enumerate(dims):
                layers.append(nn.BatchNorm1d(d))
                layers.append(nn.Linear(d, d))
                if dropouts:
                    layers.append(nn.Dropout(dropouts[i]))
            return nn.Sequential(*layers)
        """
    assert links(source) == [("BatchNorm1d", "Linear", "sequential")]
    # The next iteration's BatchNorm follows this one's Dropout, or its Linear.
    assert conditional_links(source) == [
        ("Dropout", "BatchNorm1d"),
        ("Linear", "BatchNorm1d"),
        ("Linear", "Dropout"),
    ]


def test_add_module_fills_an_empty_sequential_in_order() -> None:
    found = links(
        """
        import torch.nn as nn
        def features():
            seq = nn.Sequential()
            seq.add_module("conv", nn.Conv2d(3, 8, 3))
            seq.add_module("bn", nn.BatchNorm2d(8))
            return seq
        """
    )
    assert found == [("Conv2d", "BatchNorm2d", "sequential")]


def test_helper_list_spliced_links_inside_the_helper_only() -> None:
    found = links(
        """
        import torch.nn as nn
        def conv(n_in, n_out):
            return [nn.Conv2d(n_in, n_out, 3)]
        def conv_bn(n_in, n_out):
            return [nn.Conv2d(n_in, n_out, 3), nn.BatchNorm2d(n_out)]
        model = nn.Sequential(*conv_bn(3, 8), *conv(8, 8), nn.BatchNorm2d(8))
        """
    )
    # The helper's own pair is certain; `conv` is shared, so its conv is not a direct layer
    # for the fix, but the link is still seen from the call.
    assert ("Conv2d", "BatchNorm2d", "sequential") in found
    structure = index(
        """
        import torch.nn as nn
        def conv_bn(n_in, n_out):
            return [nn.Conv2d(n_in, n_out, 3), nn.BatchNorm2d(n_out)]
        model = nn.Sequential(*conv_bn(3, 8))
        """
    )
    (link,) = structure.links
    assert link.producer.direct
    assert link.consumer.direct
