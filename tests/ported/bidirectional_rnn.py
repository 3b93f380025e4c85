# Port of yunjey/pytorch-tutorial's bidirectional recurrent neural network (a two-layer bidirectional
# LSTM, batch_first, reading MNIST images row by row; the last step's features classified by a Linear).
#   Source:  https://github.com/yunjey/pytorch-tutorial/blob/master/tutorials/02-intermediate/
#            bidirectional_recurrent_neural_network/main.py (as of commit 0500d3df5a2a8080ccfccbc00aca0eacc21818db)
#   Licence: MIT, Copyright (c) 2017 yunjey/pytorch-tutorial (text in THIRD_PARTY_LICENSES.txt)
# Changes from the original:
#   * imports changed (torch -> autograd_core, torch.nn -> nn; `import optim` added, which `torch.optim`
#     below needs);
#   * torchvision is not available: its import is replaced by stand-ins for `torchvision.datasets.MNIST`
#     (synthetic digit-like images made with NumPy) and `transforms.ToTensor`;
#   * sizes shrunk: hidden_size 128 -> 16, batch_size 100 -> 16, 64 training and 32 test images, the log
#     interval 100 -> 2 steps.
# Everything else (the model, the training loop, the test and the checkpoint) is the original's.
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
    class ToTensor:
        """(H, W[, C]) uint8 -> (C, H, W) float tensor in [0, 1]."""
        def __call__(self, pic):
            pic = pic if pic.ndim == 3 else pic[:, :, None]
            return torch.from_numpy(np.ascontiguousarray(pic.transpose(2, 0, 1)).astype(np.float32) / 255)


torchvision = types.SimpleNamespace(datasets=types.SimpleNamespace(MNIST=_Images))


# Device configuration
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

# Hyper-parameters
sequence_length = 28
input_size = 28
hidden_size = 16
num_layers = 2
num_classes = 10
batch_size = 16
num_epochs = 2
learning_rate = 0.003

# MNIST dataset
train_dataset = torchvision.datasets.MNIST(root='../../data/',
                                           train=True, 
                                           transform=transforms.ToTensor(),
                                           download=True)

test_dataset = torchvision.datasets.MNIST(root='../../data/',
                                          train=False, 
                                          transform=transforms.ToTensor())

# Data loader
train_loader = torch.utils.data.DataLoader(dataset=train_dataset,
                                           batch_size=batch_size, 
                                           shuffle=True)

test_loader = torch.utils.data.DataLoader(dataset=test_dataset,
                                          batch_size=batch_size, 
                                          shuffle=False)

# Bidirectional recurrent neural network (many-to-one)
class BiRNN(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super(BiRNN, self).__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(hidden_size*2, num_classes)  # 2 for bidirection
    
    def forward(self, x):
        # Set initial states
        h0 = torch.zeros(self.num_layers*2, x.size(0), self.hidden_size).to(device) # 2 for bidirection 
        c0 = torch.zeros(self.num_layers*2, x.size(0), self.hidden_size).to(device)
        
        # Forward propagate LSTM
        out, _ = self.lstm(x, (h0, c0))  # out: tensor of shape (batch_size, seq_length, hidden_size*2)
        
        # Decode the hidden state of the last time step
        out = self.fc(out[:, -1, :])
        return out

model = BiRNN(input_size, hidden_size, num_layers, num_classes).to(device)


# Loss and optimizer
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    
# Train the model
total_step = len(train_loader)
for epoch in range(num_epochs):
    for i, (images, labels) in enumerate(train_loader):
        images = images.reshape(-1, sequence_length, input_size).to(device)
        labels = labels.to(device)
        
        # Forward pass
        outputs = model(images)
        loss = criterion(outputs, labels)
        
        # Backward and optimize
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        
        if (i+1) % 2 == 0:
            print ('Epoch [{}/{}], Step [{}/{}], Loss: {:.4f}' 
                   .format(epoch+1, num_epochs, i+1, total_step, loss.item()))

# Test the model
with torch.no_grad():
    correct = 0
    total = 0
    for images, labels in test_loader:
        images = images.reshape(-1, sequence_length, input_size).to(device)
        labels = labels.to(device)
        outputs = model(images)
        _, predicted = torch.max(outputs.data, 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()

    print('Test Accuracy of the model on the 10000 test images: {} %'.format(100 * correct / total)) 

# Save the model checkpoint
torch.save(model.state_dict(), 'model.ckpt')