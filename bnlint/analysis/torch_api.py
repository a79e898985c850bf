"""The torch names rules care about, as canonical qualified names."""

from __future__ import annotations

BATCH_NORMS = frozenset(
    {
        "torch.nn.BatchNorm1d",
        "torch.nn.BatchNorm2d",
        "torch.nn.BatchNorm3d",
        "torch.nn.SyncBatchNorm",
        "torch.nn.LazyBatchNorm1d",
        "torch.nn.LazyBatchNorm2d",
        "torch.nn.LazyBatchNorm3d",
    }
)

LAZY_BATCH_NORMS = frozenset(name for name in BATCH_NORMS if ".Lazy" in name)

FUNCTIONAL_BATCH_NORM = frozenset({"torch.nn.functional.batch_norm"})

PARTIAL = frozenset({"functools.partial"})

# Positional index of `momentum` in each constructor or function.
BATCH_NORM_MOMENTUM_POSITION = 2
TRACK_STATS_POSITION = 4
FUNCTIONAL_MOMENTUM_POSITION = 6

# --- Mode analysis (BN1xx): layers whose behaviour depends on train/eval mode ---

DROPOUTS = frozenset(
    {
        "torch.nn.Dropout",
        "torch.nn.Dropout1d",
        "torch.nn.Dropout2d",
        "torch.nn.Dropout3d",
        "torch.nn.AlphaDropout",
        "torch.nn.FeatureAlphaDropout",
        "torch.nn.functional.dropout",
    }
)

MODULE_BASES = frozenset(
    {
        "torch.nn.Module",
        "torch.nn.Sequential",
        "torch.nn.ModuleList",
        "torch.nn.ModuleDict",
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        "pytorch_lightning.LightningModule",
        "lightning.pytorch.core.LightningModule",
        "pytorch_lightning.core.LightningModule",
    }
)

LIGHTNING_MODULES = frozenset(
    {
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        "pytorch_lightning.LightningModule",
        "lightning.pytorch.core.LightningModule",
        "pytorch_lightning.core.LightningModule",
    }
)

# Contexts that stop gradients (they do not switch modes).
NO_GRAD = frozenset({"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad"})
SET_GRAD_ENABLED = frozenset({"torch.set_grad_enabled", "torch.autograd.set_grad_enabled"})

# Calls that record the mode a model is in: name -> position of the model argument.
EXPORTS = {
    "torch.onnx.export": 0,
    "torch.onnx.dynamo_export": 0,
    "torch.jit.trace": 0,
    "torch.jit.trace_module": 0,
    "torch.export.export": 0,
    "torch.export.export_for_inference": 0,
    "torch.ao.quantization.fuse_modules": 0,
    "torch.quantization.fuse_modules": 0,
    "torch.ao.quantization.quantize_fx.fuse_fx": 0,
    "torch.quantization.quantize_fx.fuse_fx": 0,
    "torch_tensorrt.compile": 0,
    "coremltools.convert": 0,
}

# Constructors of whole pretrained models: module -> family -> contains BatchNorm.
MODEL_FACTORIES = frozenset({"timm.create_model", "torch.hub.load", "torchvision.models.get_model"})
TORCHVISION_MODELS = "torchvision.models"

# Hugging Face loaders return the model in eval mode.
FROM_PRETRAINED = "from_pretrained"

WRAPPERS = frozenset(
    {
        "torch.nn.DataParallel",
        "torch.nn.parallel.DistributedDataParallel",
        "torch.nn.parallel.DataParallel",
        "torch.compile",
    }
)

TORCH_LOAD = frozenset({"torch.load", "torch.jit.load"})
DEEPCOPY = frozenset({"copy.deepcopy"})


# Re-exports of the same class under another module path, mapped to the public name.
_CANONICAL_MODULES = {
    "torch.nn.modules.batchnorm": "torch.nn",
    "torch.nn.modules.normalization": "torch.nn",
    "torch.nn.modules.instancenorm": "torch.nn",
    "torch.nn.modules.dropout": "torch.nn",
    "torch.nn.modules.conv": "torch.nn",
    "torch.nn.modules.linear": "torch.nn",
    "torch.nn.modules.container": "torch.nn",
    "torch.nn.modules.module": "torch.nn",
    "torch.nn.modules": "torch.nn",
    "torch.nn.parallel.distributed": "torch.nn.parallel",
    "torch.nn.parallel.data_parallel": "torch.nn.parallel",
}


def canonical(qualified: str) -> str:
    """`torch.nn.modules.batchnorm.BatchNorm2d` -> `torch.nn.BatchNorm2d`."""
    module, _, attr = qualified.rpartition(".")
    public = _CANONICAL_MODULES.get(module)
    return f"{public}.{attr}" if public else qualified
