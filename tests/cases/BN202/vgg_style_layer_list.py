import torch.nn as nn


def make_layers(cfg, batch_norm=False):
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)  # expect: BN202
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


def decoder_block(in_ch, out_ch):
    layers = [nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1)]  # expect: BN202
    layers.append(nn.BatchNorm2d(out_ch))
    layers.append(nn.ReLU(True))
    return nn.Sequential(*layers)
