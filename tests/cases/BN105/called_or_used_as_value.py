import torch
import torch.nn as nn


def set_mode(model: nn.Module, training: bool) -> None:
    switch = model.train if training else model.eval
    switch()


def evaluate(model, loader):
    model.eval()
    model.train(False)
    callbacks = [model.eval, model.train]
    hook = getattr(model, "eval")
    return callbacks, hook


# A module attribute is not a model.
torch.eval
