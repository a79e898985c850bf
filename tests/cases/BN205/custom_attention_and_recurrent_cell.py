"""BatchNorm inside a transformer layer built from a same-file attention class, behind a
branch, and inside a hand-written LSTM cell."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Transpose(nn.Module):
    def __init__(self, *dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.transpose(*self.dims)


class _ScaledDotProductAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.scale = (d_model // n_heads) ** -0.5

    def forward(self, q, k, v):
        scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale
        return torch.matmul(F.softmax(scores, dim=-1), v)


class _MultiheadAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.W_Q = nn.Linear(d_model, d_model)
        self.attn = _ScaledDotProductAttention(d_model, n_heads)

    def forward(self, q):
        return self.attn(self.W_Q(q), q, q)


class TSTEncoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, norm="BatchNorm"):
        super().__init__()
        self.self_attn = _MultiheadAttention(d_model, n_heads)
        if "batch" in norm.lower():
            self.norm_attn = nn.Sequential(Transpose(1, 2), nn.BatchNorm1d(d_model), Transpose(1, 2))  # expect: BN205
        else:
            self.norm_attn = nn.LayerNorm(d_model)

    def forward(self, src):
        return self.norm_attn(src + self.self_attn(src))


class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size, 4 * hidden_size)
        self.h2h = nn.Linear(hidden_size, 4 * hidden_size)
        self.i2h_bn = nn.BatchNorm1d(4 * hidden_size)  # expect: BN205
        self.cx_bn = nn.BatchNorm1d(hidden_size)  # expect: BN205

    def forward(self, input, cell):
        hx, cx = cell
        gates = self.i2h_bn(self.i2h(input)) + self.h2h(hx)
        i, f, o, g = gates.chunk(4, 1)
        cx = torch.sigmoid(f) * cx + torch.sigmoid(i) * torch.tanh(g)
        hx = torch.sigmoid(o) * torch.tanh(self.cx_bn(cx))
        return hx, cx
