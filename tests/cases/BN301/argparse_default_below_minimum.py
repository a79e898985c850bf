import argparse

import torch
import torchvision
from torch.utils.data import DataLoader


def parse_args():
    parser = argparse.ArgumentParser(description="ImageNet training")
    parser.add_argument("--data", default="./imagenet")
    parser.add_argument("-b", "--batch-size", type=int, default=4, help="mini-batch size")
    parser.add_argument("--lr", type=float, default=0.1)
    return parser.parse_args()


def main(args):
    model = torchvision.models.resnet50()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, num_workers=8)  # expect: BN301
    val_loader = DataLoader(val_set, batch_size=args.batch_size, shuffle=False)
    return model, optimizer, train_loader, val_loader


if __name__ == "__main__":
    main(parse_args())
