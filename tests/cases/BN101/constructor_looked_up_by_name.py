# ImageNet-style scripts pick the architecture by name (`models.__dict__[arch]`); the network
# is still a torchvision model in training mode until `.eval()`.
import torch
import torchvision.models as models


def evaluate_pretrained(arch, loader):
    net = models.__dict__[arch](weights="DEFAULT")
    top1 = 0
    with torch.no_grad():
        for images, target in loader:
            output = net(images)  # expect: BN101
            top1 += (output.argmax(1) == target).sum().item()
    return top1


def evaluate_pretrained_in_eval_mode(arch, loader):
    net = models.__dict__[arch](weights="DEFAULT").eval()
    with torch.no_grad():
        return [net(x).argmax(1) for x, _ in loader]


def evaluate_on_gpu(arch, loader):
    model = models.__dict__[arch](pretrained=True)
    model = torch.nn.DataParallel(model).cuda()
    model.eval()
    with torch.no_grad():
        return [model(x.cuda()).argmax(1) for x, _ in loader]


def extract_features(arch, images):
    model = models.__dict__[arch](pretrained=True).cuda()
    with torch.no_grad():
        return model(images.cuda())  # expect: BN101
