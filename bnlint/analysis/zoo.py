"""What the builders of known model zoos build: torchvision's model functions and the
name-keyed factories (`timm.create_model`, `torchvision.models.get_model`, `torch.hub.load`).

Free of libcst: the project index reads it in runs the cache answers.
"""

from __future__ import annotations

from bnlint.analysis import torch_api
from bnlint.analysis.torch_api import BATCH_NORM, NORMALIZATION
from bnlint.analysis.tri import Tri

# Factories whose architecture is named by a string argument: name -> (position, keyword).
ARCH_ARGUMENT = {
    "timm.create_model": (0, "model_name"),
    "torchvision.models.get_model": (0, "name"),
    "torch.hub.load": (1, "model"),
}


def factory_contains(reference: str, kind: str, arch: str | None = None) -> Tri | None:
    """What a model-zoo builder's models contain; None when `reference` is no known builder.

    >>> factory_contains("torchvision.models.resnet50", BATCH_NORM)
    Tri.YES
    >>> factory_contains("timm.create_model", BATCH_NORM)           # no architecture given
    Tri.UNKNOWN
    """
    if reference in torch_api.FROZEN_NORMS:
        return Tri.NO if kind == BATCH_NORM else Tri.YES if kind == NORMALIZATION else Tri.NO
    module, _, function = reference.rpartition(".")
    if reference in ARCH_ARGUMENT:
        if arch is None or kind not in (BATCH_NORM, NORMALIZATION):
            return Tri.UNKNOWN
        if reference == "timm.create_model":
            return _timm(arch.split(".")[0], kind)
        return _torchvision(arch, kind)
    if reference in torch_api.MODEL_FACTORIES:
        return Tri.UNKNOWN
    if module == torch_api.TORCHVISION_MODELS or module.startswith("torchvision.models."):
        return _torchvision(function, kind)
    return None


def _torchvision(function: str, kind: str) -> Tri:
    if kind not in (BATCH_NORM, NORMALIZATION):
        return Tri.UNKNOWN
    if torch_api.TORCHVISION_BATCH_NORM.match(function):
        return Tri.YES
    if torch_api.TORCHVISION_NO_BATCH_NORM.match(function):
        # ViT, Swin and ConvNeXt normalize with LayerNorm; AlexNet and VGG not at all.
        if kind == NORMALIZATION:
            return Tri.NO if function.startswith(("alexnet", "vgg", "squeezenet")) else Tri.YES
        return Tri.NO
    return Tri.UNKNOWN


def _timm(arch: str, kind: str) -> Tri:
    if torch_api.TIMM_BATCH_NORM.match(arch) and not torch_api.TIMM_NOT_BATCH_NORM.search(arch):
        return Tri.YES
    if torch_api.TIMM_NO_BATCH_NORM.match(arch):
        return Tri.NO if kind == BATCH_NORM else Tri.YES
    return Tri.UNKNOWN
