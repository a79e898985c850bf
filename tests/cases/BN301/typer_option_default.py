import torch
import torchvision
import typer
from torch.utils.data import DataLoader

app = typer.Typer()


@app.command()
def train(epochs: int = 10, batch_size: int = typer.Option(2, help="per-step batch")):
    model = torchvision.models.resnet18(num_classes=10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train_loader = DataLoader(train_set, batch_size=batch_size)  # expect: BN301
    return model, optimizer, train_loader, epochs


@app.command()
def finetune(steps: int = 100, bs: int = 3):
    model = torchvision.models.resnet18(num_classes=10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train_loader = DataLoader(train_set, batch_size=bs)  # expect: BN301
    return model, optimizer, train_loader, steps
