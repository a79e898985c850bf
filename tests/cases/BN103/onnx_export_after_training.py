import torch
from torchvision.models import mobilenet_v3_small


def export(path):
    model = mobilenet_v3_small()
    model.load_state_dict(torch.load(path))
    dummy = torch.randn(1, 3, 224, 224)
    torch.onnx.export(model, dummy, "model.onnx", opset_version=17)  # expect: BN103
    traced = torch.jit.trace(model, dummy)  # expect: BN103
    traced.save("model.pt")
