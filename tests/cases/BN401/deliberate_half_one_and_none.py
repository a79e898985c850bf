import torch.nn as nn

# 0.5 weighs the old and the new statistics alike: the same in both conventions.
halfway = nn.BatchNorm2d(64, momentum=0.5)
# 1 keeps only the last batch's statistics (a deliberate choice in tests and
# re-calibration); None keeps a cumulative average. Neither is a Keras value.
last_batch = nn.BatchNorm2d(64, momentum=1)
last_batch_float = nn.BatchNorm1d(64, momentum=1.0)
cumulative = nn.BatchNorm1d(64, momentum=None)


def recalibrate(model):
    for name, module in model.named_modules():
        if "fc" in name:
            module.momentum = 0.9  # not a norm: selected by a name that names no norm
