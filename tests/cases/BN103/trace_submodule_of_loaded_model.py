# Exporting one part of a trained model (`torch.jit.trace(model.depth_net, x)`): the part is in
# whatever mode the whole model is, so tracing it in training mode freezes batch statistics
# and active Dropout into the exported graph.
import torch
import torch.nn as nn


class DepthNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(32)
        self.out = nn.Conv2d(32, 1, 1)

    def forward(self, x):
        return self.out(torch.relu(self.bn(self.conv(x))))


class PoseNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6)

    def forward(self, x):
        return self.fc(x)


class SfMModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.depth_net = DepthNet()
        self.pose_net = PoseNet()

    def forward(self, image, motion):
        return self.depth_net(image), self.pose_net(motion)


def export_depth(checkpoint, out_path):
    model = SfMModel()
    model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    example = torch.rand(1, 3, 192, 640)
    traced = torch.jit.trace(model.depth_net, example)  # expect: BN103
    traced.save(out_path)


def export_depth_in_eval_mode(checkpoint, out_path):
    model = SfMModel()
    model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    model.eval()
    traced = torch.jit.trace(model.depth_net, torch.rand(1, 3, 192, 640))
    traced.save(out_path)


def export_pose(checkpoint, out_path):
    # A plain Linear: no BatchNorm and no Dropout, the mode changes nothing.
    model = SfMModel()
    model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    torch.jit.trace(model.pose_net, torch.rand(1, 6)).save(out_path)
