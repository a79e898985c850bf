import torch.nn as nn


class EncoderBlock(nn.Module):
    def __init__(self, d_model, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, heads, batch_first=True)
        self.norm1 = nn.BatchNorm1d(d_model)  # expect: BN205
        self.ff = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        x = x + self.attn(x, x, x)[0]
        return self.norm1((x + self.ff(x)).transpose(1, 2)).transpose(1, 2)


class SpeechLSTM(nn.Module):
    def __init__(self, n_mels, hidden):
        super().__init__()
        self.rnn = nn.LSTM(n_mels, hidden, batch_first=True)
        self.norm = nn.BatchNorm1d(hidden)  # expect: BN205

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.norm(out.transpose(1, 2))
