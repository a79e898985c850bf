# A reinforcement-learning policy acts on one unsqueezed state while it learns (the sampled
# action's log-probability is kept for the update): training, not a prediction.
import torch
import torch.nn as nn
from torch.distributions import Categorical


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.affine = nn.Linear(4, 128)
        self.dropout = nn.Dropout(0.6)
        self.head = nn.Linear(128, 2)

    def forward(self, x):
        return torch.softmax(self.head(torch.relu(self.dropout(self.affine(x)))), dim=1)


policy = Policy()
saved_log_probs = []


def select_action(state):
    probs = policy(state.unsqueeze(0))
    m = Categorical(probs)
    action = m.sample()
    saved_log_probs.append(m.log_prob(action))
    return action.item()


def greedy_action(state):
    return policy(state.unsqueeze(0)).argmax(1).item()  # expect: BN101
