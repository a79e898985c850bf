import torch


def save(model, path):
    torch.save({"model": model.state_dict(), "n_params": sum(p.numel() for p in model.parameters())}, path)
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    torch.save(trainable, path + ".adapter")
