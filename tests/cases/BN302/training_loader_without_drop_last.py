import torch
import torchvision
from torch.utils.data import DataLoader

model = torchvision.models.resnet18(num_classes=10)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)  # expect: BN302
loader_train = DataLoader(  # expect: BN302
    train_set,
    batch_size=32,
    drop_last=False,
)
