import torch
import torchvision

model = torchvision.models.resnet50()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for images, labels in train_loader:
    loss = torch.nn.functional.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()

model.eval()
model.half()
traced = torch.jit.trace(model, torch.randn(1, 3, 224, 224, dtype=torch.float16))

frozen = torchvision.models.resnet18().eval().half()
images = images.to(torch.float16)
