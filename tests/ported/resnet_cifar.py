# Port of yunjey/pytorch-tutorial's deep residual network (the CIFAR-10 ResNet of He et al. section 4.2:
# residual blocks of bias-free 3x3 convs, BatchNorm2d and ReLU(inplace=True), `out += residual` on the tape,
# downsampling shortcuts, AvgPool2d; Adam with the learning rate lowered through optimizer.param_groups).
#   Source:  https://github.com/yunjey/pytorch-tutorial/blob/master/tutorials/02-intermediate/
#            deep_residual_network/main.py (as of commit 0500d3df5a2a8080ccfccbc00aca0eacc21818db)
#   Licence: MIT, Copyright (c) 2017 yunjey/pytorch-tutorial (text in THIRD_PARTY_LICENSES.txt)
# Changes from the original:
#   * imports changed (torch -> autograd_core, torch.nn -> nn; `import optim` added, which `torch.optim`
#     below needs);
#   * torchvision is not available: its imports are replaced by stand-ins for `torchvision.datasets.CIFAR10`
#     (synthetic 32x32 RGB images made with NumPy) and the transforms `Compose`, `Pad`,
#     `RandomHorizontalFlip`, `RandomCrop` (drawing from Python's random) and `ToTensor`;
#   * sizes shrunk: num_epochs 80 -> 2, batch_size 100 -> 8, 32 training and 16 test images, the learning
#     rate lowered every epoch instead of every 20, the log interval 100 -> 2 steps (the image size stays 32,
#     which AvgPool2d(8) after two stride-2 stages needs).
# Everything else (the model, the training loop, the test and the checkpoint) is the original's.
# ---------------------------------------------------------------------------- #
# An implementation of https://arxiv.org/pdf/1512.03385.pdf                    #
# See section 4.2 for the model architecture on CIFAR-10                       #
# Some part of the code was referenced from below                              #
# https://github.com/pytorch/vision/blob/master/torchvision/models/resnet.py   #
# ---------------------------------------------------------------------------- #

import random
import types

import numpy as np

import autograd_core as torch
import nn
import optim


class _Images(torch.utils.data.Dataset):
    """Stands in for ``torchvision.datasets.CIFAR10``: synthetic 32x32 RGB images made with NumPy (class
    templates plus noise; 32 to train on, 16 to test), each a (32, 32, 3) uint8 array (the PIL image)
    passed through ``transform``, with an int label."""
    def __init__(self, root, train=True, transform=None, download=False):
        rng = np.random.default_rng(7)
        templates = (rng.random((10, 8, 8, 3)) > 0.6).repeat(4, axis=1).repeat(4, axis=2)
        rng = np.random.default_rng(1 if train else 2)
        n = 32 if train else 16
        self.targets = rng.integers(0, 10, size=n).tolist()
        images = templates[self.targets] * 0.7 + rng.random((n,) + templates.shape[1:]) * 0.3
        self.data = (images * 255).astype(np.uint8)
        self.transform = transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img = self.data[index]
        if self.transform is not None:
            img = self.transform(img)
        return img, self.targets[index]


class transforms:
    """Stands in for ``torchvision.transforms``: the transforms used below, on NumPy images."""
    class Compose:
        def __init__(self, transforms):
            self.transforms = transforms

        def __call__(self, img):
            for t in self.transforms:
                img = t(img)
            return img

    class Pad:
        """Zero padding of the (H, W, C) image on all four sides."""
        def __init__(self, padding):
            self.padding = padding

        def __call__(self, img):
            p = self.padding
            return np.pad(img, ((p, p), (p, p), (0, 0)))

    class RandomHorizontalFlip:
        """Flips with probability p, drawn by Python's random."""
        def __init__(self, p=0.5):
            self.p = p

        def __call__(self, img):
            return img[:, ::-1] if random.random() < self.p else img

    class RandomCrop:
        """A size x size window at an offset drawn by Python's random."""
        def __init__(self, size):
            self.size = size

        def __call__(self, img):
            i = random.randint(0, img.shape[0] - self.size)
            j = random.randint(0, img.shape[1] - self.size)
            return img[i:i + self.size, j:j + self.size]

    class ToTensor:
        """(H, W[, C]) uint8 -> (C, H, W) float tensor in [0, 1]."""
        def __call__(self, pic):
            pic = pic if pic.ndim == 3 else pic[:, :, None]
            return torch.from_numpy(np.ascontiguousarray(pic.transpose(2, 0, 1)).astype(np.float32) / 255)


torchvision = types.SimpleNamespace(datasets=types.SimpleNamespace(CIFAR10=_Images))


# Device configuration
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

# Hyper-parameters
num_epochs = 2
batch_size = 8
learning_rate = 0.001

# Image preprocessing modules
transform = transforms.Compose([
    transforms.Pad(4),
    transforms.RandomHorizontalFlip(),
    transforms.RandomCrop(32),
    transforms.ToTensor()])

# CIFAR-10 dataset
train_dataset = torchvision.datasets.CIFAR10(root='../../data/',
                                             train=True, 
                                             transform=transform,
                                             download=True)

test_dataset = torchvision.datasets.CIFAR10(root='../../data/',
                                            train=False, 
                                            transform=transforms.ToTensor())

# Data loader
train_loader = torch.utils.data.DataLoader(dataset=train_dataset,
                                           batch_size=batch_size,
                                           shuffle=True)

test_loader = torch.utils.data.DataLoader(dataset=test_dataset,
                                          batch_size=batch_size,
                                          shuffle=False)

# 3x3 convolution
def conv3x3(in_channels, out_channels, stride=1):
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, 
                     stride=stride, padding=1, bias=False)

# Residual block
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1, downsample=None):
        super(ResidualBlock, self).__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = downsample
        
    def forward(self, x):
        residual = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn2(out)
        if self.downsample:
            residual = self.downsample(x)
        out += residual
        out = self.relu(out)
        return out

# ResNet
class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=10):
        super(ResNet, self).__init__()
        self.in_channels = 16
        self.conv = conv3x3(3, 16)
        self.bn = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self.make_layer(block, 16, layers[0])
        self.layer2 = self.make_layer(block, 32, layers[1], 2)
        self.layer3 = self.make_layer(block, 64, layers[2], 2)
        self.avg_pool = nn.AvgPool2d(8)
        self.fc = nn.Linear(64, num_classes)
        
    def make_layer(self, block, out_channels, blocks, stride=1):
        downsample = None
        if (stride != 1) or (self.in_channels != out_channels):
            downsample = nn.Sequential(
                conv3x3(self.in_channels, out_channels, stride=stride),
                nn.BatchNorm2d(out_channels))
        layers = []
        layers.append(block(self.in_channels, out_channels, stride, downsample))
        self.in_channels = out_channels
        for i in range(1, blocks):
            layers.append(block(out_channels, out_channels))
        return nn.Sequential(*layers)
    
    def forward(self, x):
        out = self.conv(x)
        out = self.bn(out)
        out = self.relu(out)
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = self.avg_pool(out)
        out = out.view(out.size(0), -1)
        out = self.fc(out)
        return out
    
model = ResNet(ResidualBlock, [2, 2, 2]).to(device)


# Loss and optimizer
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

# For updating learning rate
def update_lr(optimizer, lr):    
    for param_group in optimizer.param_groups:
        param_group['lr'] = lr

# Train the model
total_step = len(train_loader)
curr_lr = learning_rate
for epoch in range(num_epochs):
    for i, (images, labels) in enumerate(train_loader):
        images = images.to(device)
        labels = labels.to(device)
        
        # Forward pass
        outputs = model(images)
        loss = criterion(outputs, labels)
        
        # Backward and optimize
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        
        if (i+1) % 2 == 0:
            print ("Epoch [{}/{}], Step [{}/{}] Loss: {:.4f}"
                   .format(epoch+1, num_epochs, i+1, total_step, loss.item()))

    # Decay learning rate
    if (epoch+1) % 1 == 0:
        curr_lr /= 3
        update_lr(optimizer, curr_lr)

# Test the model
model.eval()
with torch.no_grad():
    correct = 0
    total = 0
    for images, labels in test_loader:
        images = images.to(device)
        labels = labels.to(device)
        outputs = model(images)
        _, predicted = torch.max(outputs.data, 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()

    print('Accuracy of the model on the test images: {} %'.format(100 * correct / total))

# Save the model checkpoint
torch.save(model.state_dict(), 'resnet.ckpt')
