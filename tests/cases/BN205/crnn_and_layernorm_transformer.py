import torch.nn as nn


class CRNN(nn.Module):
    """BN normalizes the convolutional features before the LSTM: that is where it belongs."""

    def __init__(self, num_classes):
        super().__init__()
        self.cnn = nn.Sequential(nn.Conv2d(1, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        self.rnn = nn.LSTM(64, 128, bidirectional=True)
        self.fc = nn.Linear(256, num_classes)


class PreNormBlock(nn.Module):
    def __init__(self, d_model, heads):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.attn = nn.MultiheadAttention(d_model, heads)
