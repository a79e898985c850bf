import torch
from torchvision.models import mobilenet_v3_small, vit_b_16


def export(path):
    model = mobilenet_v3_small()
    model.load_state_dict(torch.load(path))
    model.eval()
    dummy = torch.randn(1, 3, 224, 224)
    torch.onnx.export(model, dummy, "model.onnx", opset_version=17)
    program = torch.export.export(model, (dummy,))
    return program


def export_unknown_mode(model, dummy):
    # A parameter whose mode no caller shows: stay silent.
    return torch.jit.trace(model, dummy)
