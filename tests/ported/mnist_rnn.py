# Port of the PyTorch MNIST RNN example (an LSTM over the image rows, batch_first, then BatchNorm1d,
# Dropout2d on (N, C) features, Adadelta and StepLR).
#   Source:  https://github.com/pytorch/examples/blob/main/mnist_rnn/main.py
#   Licence: BSD 3-Clause, Copyright (c) 2017 Pytorch contributors (text in THIRD_PARTY_LICENSES.txt)
# Changes from the original:
#   * imports changed (torch -> autograd_core, torch.nn -> nn, torch.optim -> optim); torchvision is not
#     imported (numpy is);
#   * sizes shrunk: argparse defaults batch 64 -> 32, test batch 1000 -> 64, epochs 14 -> 2, log
#     interval 10 -> 2;
#   * data replaced: torchvision's MNIST (with its ToTensor + Normalize transform) -> synthetic 28x28
#     digit-like images made with NumPy (mnist_like below, as in the MNIST CNN port), normalized with
#     MNIST's mean and std.
# Everything else (the model, train/test loops, device handling, logging, the scheduler) is the original's.
from __future__ import print_function

import argparse

import numpy as np

import autograd_core as torch
import nn
import nn.functional as F
import optim
from optim.lr_scheduler import StepLR


def mnist_like(train, n=None):
    """Stands in for ``datasets.MNIST(..., transform=...)``: (1, 28, 28) float images, int labels."""
    n = n or (256 if train else 64)
    rng = np.random.default_rng(7)
    templates = (rng.random((10, 7, 7)) > 0.6).repeat(4, axis=1).repeat(4, axis=2).astype(np.float32)
    rng = np.random.default_rng(1 if train else 2)
    labels = rng.integers(0, 10, size=n)
    images = np.clip(templates[labels] * 0.8 + rng.random((n, 28, 28)) * 0.4, 0.0, 1.0).astype(np.float32)
    images = (images[:, None] - 0.1307) / 0.3081
    return torch.utils.data.TensorDataset(torch.from_numpy(images.astype(np.float32)),
                                          torch.from_numpy(labels.astype(np.int64)))


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.rnn = nn.LSTM(input_size=28, hidden_size=64, batch_first=True)
        self.batchnorm = nn.BatchNorm1d(64)
        self.dropout1 = nn.Dropout2d(0.25)
        self.dropout2 = nn.Dropout2d(0.5)
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, input):
        # Shape of input is (batch_size,1, 28, 28)
        # converting shape of input to (batch_size, 28, 28)
        # as required by RNN when batch_first is set True
        input = input.reshape(-1, 28, 28)
        output, hidden = self.rnn(input)

        # RNN output shape is (seq_len, batch, input_size)
        # Get last output of RNN
        output = output[:, -1, :]
        output = self.batchnorm(output)
        output = self.dropout1(output)
        output = self.fc1(output)
        output = F.relu(output)
        output = self.dropout2(output)
        output = self.fc2(output)
        output = F.log_softmax(output, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                       100. * batch_idx / len(train_loader), loss.item()))
            if args.dry_run:
                break


def test(args, model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()
            if args.dry_run:
                break

    test_loss /= len(test_loader.dataset)

    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
        test_loss, correct, len(test_loader.dataset),
        100. * correct / len(test_loader.dataset)))


def main():
    # Training settings
    parser = argparse.ArgumentParser(description='PyTorch MNIST Example using RNN')
    parser.add_argument('--batch-size', type=int, default=32, metavar='N',
                        help='input batch size for training (default: 32)')
    parser.add_argument('--test-batch-size', type=int, default=64, metavar='N',
                        help='input batch size for testing (default: 64)')
    parser.add_argument('--epochs', type=int, default=2, metavar='N',
                        help='number of epochs to train (default: 2)')
    parser.add_argument('--lr', type=float, default=0.1, metavar='LR',
                        help='learning rate (default: 0.1)')
    parser.add_argument('--gamma', type=float, default=0.7, metavar='M',
                        help='learning rate step gamma (default: 0.7)')
    parser.add_argument('--accel', action='store_true',
                        help='enables accelerator')
    parser.add_argument('--dry-run', action='store_true',
                        help='quickly check a single pass')
    parser.add_argument('--seed', type=int, default=1, metavar='S',
                        help='random seed (default: 1)')
    parser.add_argument('--log-interval', type=int, default=2, metavar='N',
                        help='how many batches to wait before logging training status')
    parser.add_argument('--save-model', action='store_true',
                        help='for Saving the current Model')
    args = parser.parse_args()

    if args.accel:
        device = torch.accelerator.current_accelerator()
    else:
        device = torch.device("cpu")

    torch.manual_seed(args.seed)

    kwargs = {'num_workers': 1, 'pin_memory': True} if args.accel else {}
    train_loader = torch.utils.data.DataLoader(
        mnist_like(train=True),
        batch_size=args.batch_size, shuffle=True, **kwargs)
    test_loader = torch.utils.data.DataLoader(
        mnist_like(train=False),
        batch_size=args.test_batch_size, shuffle=True, **kwargs)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(args, model, device, test_loader)
        scheduler.step()

    if args.save_model:
        torch.save(model.state_dict(), "mnist_rnn.pt")


if __name__ == '__main__':
    main()
