# Port of yunjey/pytorch-tutorial's variational autoencoder (fully connected encoder and decoder, the
# reparameterization with torch.randn_like, binary_cross_entropy with the deprecated size_average=False, the
# KL divergence summed by hand; samples and reconstructions joined by torch.cat along the width).
#   Source:  https://github.com/yunjey/pytorch-tutorial/blob/master/tutorials/03-advanced/
#            variational_autoencoder/main.py (as of commit 0500d3df5a2a8080ccfccbc00aca0eacc21818db)
#   Licence: MIT, Copyright (c) 2017 yunjey/pytorch-tutorial (text in THIRD_PARTY_LICENSES.txt)
# Changes from the original:
#   * imports changed (torch -> autograd_core, torch.nn -> nn, torch.nn.functional -> nn.functional;
#     `import optim` added, which `torch.optim` below needs);
#   * torchvision is not available: its imports are replaced by stand-ins for `torchvision.datasets.MNIST`
#     (synthetic digit-like images made with NumPy), `transforms.ToTensor` and `save_image` (checks the
#     batch of images, writes nothing);
#   * sizes shrunk: num_epochs 15 -> 2, batch_size 128 -> 16, 64 training images, the log interval 10 -> 2
#     steps (h_dim and z_dim stay: VAE() takes its sizes from its own defaults).
# Everything else (the model, the losses, the training loop and the sampling) is the original's.
import os
import types

import numpy as np

import autograd_core as torch
import nn
import optim
import nn.functional as F


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
    class ToTensor:
        """(H, W[, C]) uint8 -> (C, H, W) float tensor in [0, 1]."""
        def __call__(self, pic):
            pic = pic if pic.ndim == 3 else pic[:, :, None]
            return torch.from_numpy(np.ascontiguousarray(pic.transpose(2, 0, 1)).astype(np.float32) / 255)


torchvision = types.SimpleNamespace(datasets=types.SimpleNamespace(MNIST=_Images))


def save_image(tensor, fp, **kwargs):
    """Stands in for ``torchvision.utils.save_image``: checks the batch of images, writes nothing."""
    assert tensor.dim() == 4 and tensor.size(1) == 1, tuple(tensor.shape)
    assert 0 <= tensor.min().item() and tensor.max().item() <= 1, "images in [0, 1]"


# Device configuration
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

# Create a directory if not exists
sample_dir = 'samples'
if not os.path.exists(sample_dir):
    os.makedirs(sample_dir)

# Hyper-parameters
image_size = 784
h_dim = 400
z_dim = 20
num_epochs = 2
batch_size = 16
learning_rate = 1e-3

# MNIST dataset
dataset = torchvision.datasets.MNIST(root='../../data',
                                     train=True,
                                     transform=transforms.ToTensor(),
                                     download=True)

# Data loader
data_loader = torch.utils.data.DataLoader(dataset=dataset,
                                          batch_size=batch_size, 
                                          shuffle=True)


# VAE model
class VAE(nn.Module):
    def __init__(self, image_size=784, h_dim=400, z_dim=20):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(image_size, h_dim)
        self.fc2 = nn.Linear(h_dim, z_dim)
        self.fc3 = nn.Linear(h_dim, z_dim)
        self.fc4 = nn.Linear(z_dim, h_dim)
        self.fc5 = nn.Linear(h_dim, image_size)
        
    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc2(h), self.fc3(h)
    
    def reparameterize(self, mu, log_var):
        std = torch.exp(log_var/2)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h = F.relu(self.fc4(z))
        return F.sigmoid(self.fc5(h))
    
    def forward(self, x):
        mu, log_var = self.encode(x)
        z = self.reparameterize(mu, log_var)
        x_reconst = self.decode(z)
        return x_reconst, mu, log_var

model = VAE().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

# Start training
for epoch in range(num_epochs):
    for i, (x, _) in enumerate(data_loader):
        # Forward pass
        x = x.to(device).view(-1, image_size)
        x_reconst, mu, log_var = model(x)
        
        # Compute reconstruction loss and kl divergence
        # For KL divergence, see Appendix B in VAE paper or http://yunjey47.tistory.com/43
        reconst_loss = F.binary_cross_entropy(x_reconst, x, size_average=False)
        kl_div = - 0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())
        
        # Backprop and optimize
        loss = reconst_loss + kl_div
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        
        if (i+1) % 2 == 0:
            print ("Epoch[{}/{}], Step [{}/{}], Reconst Loss: {:.4f}, KL Div: {:.4f}" 
                   .format(epoch+1, num_epochs, i+1, len(data_loader), reconst_loss.item(), kl_div.item()))
    
    with torch.no_grad():
        # Save the sampled images
        z = torch.randn(batch_size, z_dim).to(device)
        out = model.decode(z).view(-1, 1, 28, 28)
        save_image(out, os.path.join(sample_dir, 'sampled-{}.png'.format(epoch+1)))

        # Save the reconstructed images
        out, _, _ = model(x)
        x_concat = torch.cat([x.view(-1, 1, 28, 28), out.view(-1, 1, 28, 28)], dim=3)
        save_image(x_concat, os.path.join(sample_dir, 'reconst-{}.png'.format(epoch+1)))