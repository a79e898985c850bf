"""BatchNorm on a pooled or last-step recurrent output normalizes across samples."""

import torch
import torch.nn as nn


class PooledLSTM(nn.Module):
    def __init__(self, in_channel, hid_channel, out_channel):
        super().__init__()
        self.lstm = nn.LSTM(in_channel, in_channel, num_layers=2, batch_first=True)
        self.layer = nn.Linear(in_channel, hid_channel)
        self.bn = nn.BatchNorm1d(hid_channel)
        self.fc = nn.Linear(hid_channel, out_channel)

    def forward(self, x):
        x, _ = self.lstm(x)
        x = x.transpose(1, 2)
        x = torch.mean(x, dim=2)
        x = torch.relu(self.bn(self.layer(x)))
        return self.fc(x)


class LastStepGRU(nn.Module):
    def __init__(self, n_in, hidden, n_out):
        super().__init__()
        self.gru = nn.GRU(n_in, hidden, batch_first=True)
        self.bn = nn.BatchNorm1d(hidden)
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(self.bn(out[:, -1]))


class SpectralGRU(nn.Module):
    """The GRU runs along the spectral bands; every step is then folded into one feature
    vector per sample, which the BatchNorm normalizes across samples."""

    def __init__(self, bands, n_classes):
        super().__init__()
        self.gru = nn.GRU(1, 64, 1)
        self.gru_bn = nn.BatchNorm1d(64 * bands)
        self.fc = nn.Linear(64 * bands, n_classes)

    def forward(self, x):
        x = x.permute(2, 1, 0)
        x = self.gru(x)[0]
        x = x.permute(1, 2, 0).contiguous()
        x = x.view(x.size(0), -1)
        x = self.gru_bn(x)
        return self.fc(torch.tanh(x))
