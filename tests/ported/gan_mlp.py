# Port of yunjey/pytorch-tutorial's generative adversarial network (fully connected generator and
# discriminator as nn.Sequential, LeakyReLU, Sigmoid and Tanh, BCELoss, two Adams cleared together by
# reset_grad, on MNIST normalized to [-1, 1]).
#   Source:  https://github.com/yunjey/pytorch-tutorial/blob/master/tutorials/03-advanced/
#            generative_adversarial_network/main.py (as of commit 0500d3df5a2a8080ccfccbc00aca0eacc21818db)
#   Licence: MIT, Copyright (c) 2017 yunjey/pytorch-tutorial (text in THIRD_PARTY_LICENSES.txt)
# Changes from the original:
#   * imports changed (torch -> autograd_core, torch.nn -> nn; `import optim` added, which `torch.optim`
#     below needs);
#   * torchvision is not available: its imports are replaced by stand-ins for `torchvision.datasets.MNIST`
#     (synthetic digit-like images made with NumPy), `transforms.Compose`, `ToTensor` and `Normalize`, and
#     `save_image` (checks the batch of images, writes nothing);
#   * sizes shrunk: latent_size 64 -> 8, hidden_size 256 -> 32, num_epochs 200 -> 2, batch_size 100 -> 16,
#     64 training images, the log interval 200 -> 2 steps.
# Everything else (the models, the losses, the training loop and the checkpoints) is the original's.
import os
import types

import numpy as np

import autograd_core as torch
import nn
import optim


class _Images(torch.utils.data.Dataset):
    """Stands in for ``torchvision.datasets.MNIST``: synthetic 28x28 digit-like images made with NumPy (class
    templates plus noise; 64 to train on, 32 to test), each a (28, 28) uint8 array (the PIL image)
    passed through ``transform``, with an int label."""
    def __init__(self, root, train=True, transform=None, download=False):
        rng = np.random.default_rng(7)
        templates = (rng.random((10, 7, 7)) > 0.6).repeat(4, axis=1).repeat(4, axis=2)
        rng = np.random.default_rng(1 if train else 2)
        n = 64 if train else 32
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

    class ToTensor:
        """(H, W[, C]) uint8 -> (C, H, W) float tensor in [0, 1]."""
        def __call__(self, pic):
            pic = pic if pic.ndim == 3 else pic[:, :, None]
            return torch.from_numpy(np.ascontiguousarray(pic.transpose(2, 0, 1)).astype(np.float32) / 255)

    class Normalize:
        def __init__(self, mean, std):
            self.mean, self.std = mean, std

        def __call__(self, tensor):
            mean = torch.tensor(self.mean, dtype=tensor.dtype).view(-1, 1, 1)
            std = torch.tensor(self.std, dtype=tensor.dtype).view(-1, 1, 1)
            return (tensor - mean) / std


torchvision = types.SimpleNamespace(datasets=types.SimpleNamespace(MNIST=_Images))


def save_image(tensor, fp, **kwargs):
    """Stands in for ``torchvision.utils.save_image``: checks the batch of images, writes nothing."""
    assert tensor.dim() == 4 and tensor.size(1) == 1, tuple(tensor.shape)
    assert 0 <= tensor.min().item() and tensor.max().item() <= 1, "images in [0, 1]"


# Device configuration
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

# Hyper-parameters
latent_size = 8
hidden_size = 32
image_size = 784
num_epochs = 2
batch_size = 16
sample_dir = 'samples'

# Create a directory if not exists
if not os.path.exists(sample_dir):
    os.makedirs(sample_dir)

# Image processing
# transform = transforms.Compose([
#                 transforms.ToTensor(),
#                 transforms.Normalize(mean=(0.5, 0.5, 0.5),   # 3 for RGB channels
#                                      std=(0.5, 0.5, 0.5))])
transform = transforms.Compose([
                transforms.ToTensor(),
                transforms.Normalize(mean=[0.5],   # 1 for greyscale channels
                                     std=[0.5])])

# MNIST dataset
mnist = torchvision.datasets.MNIST(root='../../data/',
                                   train=True,
                                   transform=transform,
                                   download=True)

# Data loader
data_loader = torch.utils.data.DataLoader(dataset=mnist,
                                          batch_size=batch_size, 
                                          shuffle=True)

# Discriminator
D = nn.Sequential(
    nn.Linear(image_size, hidden_size),
    nn.LeakyReLU(0.2),
    nn.Linear(hidden_size, hidden_size),
    nn.LeakyReLU(0.2),
    nn.Linear(hidden_size, 1),
    nn.Sigmoid())

# Generator 
G = nn.Sequential(
    nn.Linear(latent_size, hidden_size),
    nn.ReLU(),
    nn.Linear(hidden_size, hidden_size),
    nn.ReLU(),
    nn.Linear(hidden_size, image_size),
    nn.Tanh())

# Device setting
D = D.to(device)
G = G.to(device)

# Binary cross entropy loss and optimizer
criterion = nn.BCELoss()
d_optimizer = torch.optim.Adam(D.parameters(), lr=0.0002)
g_optimizer = torch.optim.Adam(G.parameters(), lr=0.0002)

def denorm(x):
    out = (x + 1) / 2
    return out.clamp(0, 1)

def reset_grad():
    d_optimizer.zero_grad()
    g_optimizer.zero_grad()

# Start training
total_step = len(data_loader)
for epoch in range(num_epochs):
    for i, (images, _) in enumerate(data_loader):
        images = images.reshape(batch_size, -1).to(device)
        
        # Create the labels which are later used as input for the BCE loss
        real_labels = torch.ones(batch_size, 1).to(device)
        fake_labels = torch.zeros(batch_size, 1).to(device)

        # ================================================================== #
        #                      Train the discriminator                       #
        # ================================================================== #

        # Compute BCE_Loss using real images where BCE_Loss(x, y): - y * log(D(x)) - (1-y) * log(1 - D(x))
        # Second term of the loss is always zero since real_labels == 1
        outputs = D(images)
        d_loss_real = criterion(outputs, real_labels)
        real_score = outputs
        
        # Compute BCELoss using fake images
        # First term of the loss is always zero since fake_labels == 0
        z = torch.randn(batch_size, latent_size).to(device)
        fake_images = G(z)
        outputs = D(fake_images)
        d_loss_fake = criterion(outputs, fake_labels)
        fake_score = outputs
        
        # Backprop and optimize
        d_loss = d_loss_real + d_loss_fake
        reset_grad()
        d_loss.backward()
        d_optimizer.step()
        
        # ================================================================== #
        #                        Train the generator                         #
        # ================================================================== #

        # Compute loss with fake images
        z = torch.randn(batch_size, latent_size).to(device)
        fake_images = G(z)
        outputs = D(fake_images)
        
        # We train G to maximize log(D(G(z)) instead of minimizing log(1-D(G(z)))
        # For the reason, see the last paragraph of section 3. https://arxiv.org/pdf/1406.2661.pdf
        g_loss = criterion(outputs, real_labels)
        
        # Backprop and optimize
        reset_grad()
        g_loss.backward()
        g_optimizer.step()
        
        if (i+1) % 2 == 0:
            print('Epoch [{}/{}], Step [{}/{}], d_loss: {:.4f}, g_loss: {:.4f}, D(x): {:.2f}, D(G(z)): {:.2f}' 
                  .format(epoch, num_epochs, i+1, total_step, d_loss.item(), g_loss.item(), 
                          real_score.mean().item(), fake_score.mean().item()))
    
    # Save real images
    if (epoch+1) == 1:
        images = images.reshape(images.size(0), 1, 28, 28)
        save_image(denorm(images), os.path.join(sample_dir, 'real_images.png'))
    
    # Save sampled images
    fake_images = fake_images.reshape(fake_images.size(0), 1, 28, 28)
    save_image(denorm(fake_images), os.path.join(sample_dir, 'fake_images-{}.png'.format(epoch+1)))

# Save the model checkpoints 
torch.save(G.state_dict(), 'G.ckpt')
torch.save(D.state_dict(), 'D.ckpt')