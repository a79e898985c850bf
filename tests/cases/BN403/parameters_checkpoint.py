import collections

import torch


def save_checkpoint(model, optimizer, epoch, path):
    torch.save(  # expect: BN403
        {
            "epoch": epoch,
            "model": collections.OrderedDict(model.named_parameters()),
            "optimizer": optimizer.state_dict(),
        },
        path,
    )


def save_weights(model, path):
    weights = [p.detach().cpu() for p in model.parameters()]
    torch.save(weights, path)  # expect: BN403
