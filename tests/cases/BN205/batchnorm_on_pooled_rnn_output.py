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
