"""How a model is called in the user's code: `net`, `self.backbone`, else its class."""

from __future__ import annotations

from types import FrameType

from torch import nn

# torch.compile keeps the model in `_orig_mod`, DataParallel and DDP in `module`, FSDP (1) in
# `_fsdp_wrapped_module`, activation checkpointing in `_checkpoint_wrapped_module`.
_WRAPPER_ATTRIBUTES = (
    "_orig_mod",
    "module",
    "_fsdp_wrapped_module",
    "_checkpoint_wrapped_module",
)
_WRAPPER_CLASSES = frozenset(
    {
        "OptimizedModule",
        "DataParallel",
        "DistributedDataParallel",
        "FullyShardedDataParallel",
        "CheckpointWrapper",
        "OffloadWrapper",
    }
)


def unwrap(module: nn.Module) -> nn.Module:
    """The model inside `torch.compile`, DataParallel, DDP and FSDP wrappers.

    >>> unwrap(torch.compile(net)) is net, unwrap(DistributedDataParallel(net)) is net
    (True, True)
    """
    for _ in range(8):
        inner = None
        for attribute in _WRAPPER_ATTRIBUTES:
            candidate = module._modules.get(attribute)
            # A user's module with one child called `module` is not a wrapper unless the
            # class is one of torch's; the name alone is not enough when it has siblings.
            if candidate is not None and (
                len(module._modules) == 1 or type(module).__name__ in _WRAPPER_CLASSES
            ):
                inner = candidate
                break
        if inner is None:
            return module
        module = inner
    return module


def display_name(module: nn.Module, frame: FrameType | None) -> str:
    """The user's name for `module` in `frame` (a local, a global, `self.x`), else its class.

    >>> display_name(model, frame_of("logits = model(images)"))
    'model'
    """
    if frame is not None:
        # The wrapper the user called (`fast = torch.compile(net)`) first, then what it wraps.
        for target in dict.fromkeys((id(module), id(unwrap(module)))):
            name = _name_in(frame, target)
            if name is not None:
                return name
    return type(unwrap(module)).__name__


def layer_label(path: str, root: str) -> str:
    """A module path written as code on the model's class: `Net.layer1[0].bn1`.

    >>> layer_label("layer1.0.bn1", "ResNet"), layer_label("1", "Sequential")
    ('ResNet.layer1[0].bn1', 'Sequential[1]')
    """
    text = root
    for part in path.split(".") if path else ():
        text = f"{text}[{part}]" if part.isdigit() else f"{text}.{part}"
    return text


def _name_in(frame: FrameType, target: int) -> str | None:
    for name, value in frame.f_locals.items():
        if id(value) == target:
            return name
    owner = frame.f_locals.get("self")
    if owner is not None:
        for name, value in vars(owner).get("_modules", {}).items():
            if id(value) == target:
                return f"self.{name}"
    for name, value in frame.f_globals.items():
        if id(value) == target and not name.startswith("__"):
            return name
    return None
