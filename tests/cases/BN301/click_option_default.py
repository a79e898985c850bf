import click
import torch
import torchvision
from torch.utils.data import DataLoader


@click.command()
@click.option("--epochs", default=10)
@click.option("--batch-size", "-b", default=4, show_default=True)
def train(epochs, batch_size):
    model = torchvision.models.efficientnet_b0(num_classes=3)
    optimizer = torch.optim.Adam(model.parameters())
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)  # expect: BN301
    return model, optimizer, train_loader, epochs


if __name__ == "__main__":
    train()
