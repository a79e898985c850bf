"""The one table of torch (and torchvision, timm, Lightning, Hugging Face) names bnlint knows.

Layer kinds, normalizers, exporters, wrappers, trainers and the methods that hand back the
same module: every analysis and the project index read them from here, so two rules never
disagree on what `model.cuda()` returns or what counts as a training step.
"""

from __future__ import annotations

import re

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

# --- Layer kinds: what `contains(value, kind)` asks about -----------------------------------

BATCH_NORM = "batch_norm"
NORMALIZATION = "normalization"
DROPOUT = "dropout"
RECURRENT = "recurrent"
ATTENTION = "attention"

OTHER_NORMS = frozenset(
    {
        "torch.nn.GroupNorm",
        "torch.nn.LayerNorm",
        "torch.nn.RMSNorm",
        "torch.nn.InstanceNorm1d",
        "torch.nn.InstanceNorm2d",
        "torch.nn.InstanceNorm3d",
        "torch.nn.LazyInstanceNorm1d",
        "torch.nn.LazyInstanceNorm2d",
        "torch.nn.LazyInstanceNorm3d",
        "torch.nn.LocalResponseNorm",
        "torch.nn.functional.group_norm",
        "torch.nn.functional.layer_norm",
        "torch.nn.functional.instance_norm",
    }
)
RECURRENTS = frozenset(
    {
        "torch.nn.RNN",
        "torch.nn.LSTM",
        "torch.nn.GRU",
        "torch.nn.RNNCell",
        "torch.nn.LSTMCell",
        "torch.nn.GRUCell",
    }
)
ATTENTIONS = frozenset(
    {
        "torch.nn.MultiheadAttention",
        "torch.nn.Transformer",
        "torch.nn.TransformerEncoder",
        "torch.nn.TransformerDecoder",
        "torch.nn.TransformerEncoderLayer",
        "torch.nn.TransformerDecoderLayer",
        "torch.nn.functional.scaled_dot_product_attention",
    }
)
# Layers of each kind: a class that builds one of these contains that kind.
LAYER_KINDS: dict[str, frozenset[str]] = {
    BATCH_NORM: BATCH_NORMS,
    NORMALIZATION: BATCH_NORMS | OTHER_NORMS,
    DROPOUT: DROPOUTS,
    RECURRENT: RECURRENTS,
    ATTENTION: ATTENTIONS,
}
KIND_LAYERS = frozenset().union(*LAYER_KINDS.values())
# BatchNorm replacements with no running statistics to update.
FROZEN_NORMS = frozenset(
    {"torchvision.ops.FrozenBatchNorm2d", "torchvision.ops.misc.FrozenBatchNorm2d"}
)

# --- Methods on a model --------------------------------------------------------------------

# Methods that return the same module, moved or cast: `model = model.to(device)`.
MOVE_METHODS = frozenset({"to", "cuda", "cpu", "float", "double", "half", "bfloat16"})
MODE_METHODS = frozenset({"eval", "train"})
# Every method that hands back the module it is called on.
SAME_MODULE_METHODS = MOVE_METHODS | MODE_METHODS | {"requires_grad_"}
# Methods that only an nn.Module (or a wrapper of one) has.
MODULE_METHODS = frozenset(
    {
        "eval",
        "train",
        "parameters",
        "named_parameters",
        "modules",
        "named_modules",
        "children",
        "state_dict",
        "load_state_dict",
        "requires_grad_",
        "apply",
        "zero_grad",
    }
)
# Method calls that are a training step by themselves (`loss.backward()`).
BACKWARD_METHODS = frozenset({"backward", "manual_backward"})
FUNCTIONAL_BACKWARD = frozenset({"torch.autograd.backward"})


def is_training_step(method: str, receiver: str | None) -> bool:
    """Whether `receiver.method(...)` is a training step, for either front end.

    >>> is_training_step("backward", "loss"), is_training_step("step", "optimizer")
    (True, True)
    >>> is_training_step("step", "scheduler")
    False
    """
    if method in BACKWARD_METHODS:
        return True
    if method != "step":
        return False
    last = (receiver or "").rpartition(".")[2].lower()
    return "optim" in last or last in ("opt", "scaler") or last.startswith("opt_")


OPTIMIZERS = frozenset(
    {
        "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
        "ASGD", "Rprop", "LBFGS", "LARS", "LAMB", "Lamb", "Lars", "Lion", "Adafactor",
    }
)  # fmt: skip

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

# Constructors of whole pretrained models, which take the architecture as a name.
MODEL_FACTORIES = frozenset({"timm.create_model", "torch.hub.load", "torchvision.models.get_model"})
TORCHVISION_MODELS = "torchvision.models"

# What the builders of torchvision's model zoo (any `torchvision.models.*` module) build
# with BatchNorm: YES for these names, NO for the BatchNorm-free ones, UNKNOWN for the rest
# (detection builders take BatchNorm or frozen BatchNorm depending on their weights).
TORCHVISION_BATCH_NORM = re.compile(
    r"^(resnet\d+|resnext\d+_\w+|wide_resnet\d+_\d|vgg\d+_bn|densenet\d+|mobilenet_v[23]\w*"
    r"|efficientnet_\w+|regnet_[xy]_\w+|inception_v3|googlenet|shufflenet_v2_\w+|mnasnet\w+"
    r"|maxvit_\w+|r3d_18|mc3_18|r2plus1d_18|s3d|raft_\w+|fcn_\w+|deeplabv3_\w+|lraspp_\w+"
    r"|fasterrcnn_resnet50_fpn_v2|maskrcnn_resnet50_fpn_v2|ssdlite\w+)$"
)
TORCHVISION_NO_BATCH_NORM = re.compile(
    r"^(alexnet|vgg\d+|squeezenet\w+|vit_\w+|swin_\w+|swin3d_\w+|convnext_\w+|mvit_\w+)$"
)
# timm architectures built with BatchNorm, and name parts of variants that replace it.
TIMM_BATCH_NORM = re.compile(
    r"^(resnet\d+[a-z]?|resnext\d+\w*|seresnet\d+\w*|seresnext\d+\w*|efficientnet_b\d|tf_efficientnet_b\d"
    r"|mobilenetv2_\d+|mobilenetv3_\w+|densenet\d+|regnet[xy]_\d+|mixnet_[smlx]+|mnasnet_\w+"
    r"|dla\d+|dpn\d+|hrnet_w\d+|inception_v3|xception\d*|vgg\d+_bn|rexnet_\d+|ghostnet_\d+|res2net\d+\w*"
    r"|resnest\d+\w*|repvgg_\w+|skresnet\d+|cspresnet\d+|cspdarknet\d+|darknet\d+)$"
)
TIMM_NOT_BATCH_NORM = re.compile(r"(^|_)(gn|nf|frn|evos|evob)(_|$)|resnetv2|_gn\b|bit")
TIMM_NO_BATCH_NORM = re.compile(r"^(vit_\w+|deit\w*|swin\w+|convnext\w*|beit\w+|eva\w*)$")

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
# Calls that return a model with the same layers as their first argument.
SAME_LAYERS = WRAPPERS | {"torch.nn.SyncBatchNorm.convert_sync_batchnorm"}
# Wrapper names as written, for code that cannot resolve the import (`DDP(model)`).
WRAPPER_TAILS = frozenset(
    {"DistributedDataParallel", "DataParallel", "DDP", "convert_sync_batchnorm", "compile"}
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


# Names of losses and metrics: modules with no train/eval behaviour of their own that code
# calls like a model (`criterion(output, target)`); never a model for the mode rules.
_NOT_A_MODEL_WORDS = ("loss", "criterion", "metric", "accuracy", "evaluator")


def names_a_loss_or_metric(name: str) -> bool:
    """`criterion`, `self.loss_fn`, `nn.CrossEntropyLoss`, `DiceLoss`, `MeanIoU` metric...

    >>> names_a_loss_or_metric("criterion"), names_a_loss_or_metric("model")
    (True, False)
    """
    last = name.rpartition(".")[2].lower()
    return any(word in last for word in _NOT_A_MODEL_WORDS)


# Methods that run the module's forward pass: `net.forward(x)`, Hugging Face
# `model.generate(...)` (which calls the model once per generated token).
FORWARD_METHODS = frozenset({"forward", "generate"})


def looks_like_class(reference: str | None) -> bool:
    """A capitalised last name (`unet.UNet`, `GradCAM`): a class by Python convention."""
    last = (reference or "").rpartition(".")[2]
    return last[:1].isupper()
