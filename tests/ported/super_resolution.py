# Port of the PyTorch super-resolution example (the efficient sub-pixel CNN of Shi et al.: four convolutions
# with orthogonal init scaled by init.calculate_gain('relu'), nn.PixelShuffle; Adam on MSELoss, the PSNR
# from log10 of the test MSE, and a checkpoint of the whole model each epoch).
#   Source:  https://github.com/pytorch/examples/blob/main/super_resolution/main.py and .../model.py
#            (as of commit 77f55b912142e11fcfdf5b530231fb9c52f181e8)
#   Licence: BSD 3-Clause, Copyright (c) 2017 Pytorch contributors (text in THIRD_PARTY_LICENSES.txt)
# Changes from the original:
#   * imports changed (torch -> autograd_core, torch.nn -> nn, torch.nn.init -> nn.init, torch.optim ->
#     optim, torch.utils.data -> nn.data); model.py's imports are merged with main.py's and
#     `from model import Net` is dropped (the model is defined above the training code);
#   * data replaced: data.py's get_training_set / get_test_set (BSDS300 downloaded, the Y channel of
#     256x256 crops, the input resized by PIL) -> stand-ins below: smooth synthetic 16x16 Y images made
#     with NumPy, the input their block means at 1/upscale_factor the size;
#   * sizes shrunk: argparse defaults batchSize 64 -> 8, testBatchSize 10 -> 4, threads 4 -> 2; 48 training
#     and 8 test images.
# Everything else (the model, its init, the training, the test and the checkpoints) is the original's.
from __future__ import print_function
import argparse
from math import log10

import numpy as np

import autograd_core as torch
import nn
import nn.init as init
import optim
from nn.data import DataLoader


def _y_images(n, upscale_factor, seed, size=16):
    """Stands in for data.py's datasets: ``n`` pairs (input, target) of (1, size/upscale_factor, ...) and
    (1, size, size) float images in [0, 1], smooth blobs, the input the target's block means."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    c = rng.random((n, 4, 1, 1))
    target = 0.5 + 0.25 * np.sin(6 * c[:, 0] * xx + 6 * c[:, 1] * yy) * np.cos(4 * c[:, 2] * xx - c[:, 3])
    f = upscale_factor
    low = target.reshape(n, size // f, f, size // f, f).mean(axis=(2, 4))
    return torch.utils.data.TensorDataset(torch.from_numpy(low[:, None].astype(np.float32)),
                                          torch.from_numpy(target[:, None].astype(np.float32)))


def get_training_set(upscale_factor):
    return _y_images(48, upscale_factor, 1)


def get_test_set(upscale_factor):
    return _y_images(8, upscale_factor, 2)


class Net(nn.Module):
    def __init__(self, upscale_factor):
        super(Net, self).__init__()

        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 64, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(64, 64, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(64, 32, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(32, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)

        self._initialize_weights()

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        x = self.pixel_shuffle(self.conv4(x))
        return x

    def _initialize_weights(self):
        init.orthogonal_(self.conv1.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv2.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv3.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv4.weight)

# Training settings
parser = argparse.ArgumentParser(description='PyTorch Super Res Example')
parser.add_argument('--upscale_factor', type=int, required=True, help="super resolution upscale factor")
parser.add_argument('--batchSize', type=int, default=8, help='training batch size')
parser.add_argument('--testBatchSize', type=int, default=4, help='testing batch size')
parser.add_argument('--nEpochs', type=int, default=2, help='number of epochs to train for')
parser.add_argument('--lr', type=float, default=0.01, help='Learning Rate. Default=0.01')
parser.add_argument('--accel', action='store_true', help='Enables acceleration for training, if available')
parser.add_argument('--threads', type=int, default=2, help='number of threads for data loader to use')
parser.add_argument('--seed', type=int, default=123, help='random seed to use. Default=123')
opt = parser.parse_args()

print(opt)

torch.manual_seed(opt.seed)


if opt.accel and torch.accelerator.is_available():
    device = torch.accelerator.current_accelerator()
else:
    device = torch.device("cpu")

print('===> Loading datasets')
train_set = get_training_set(opt.upscale_factor)
test_set = get_test_set(opt.upscale_factor)
training_data_loader = DataLoader(dataset=train_set, num_workers=opt.threads, batch_size=opt.batchSize, shuffle=True)
testing_data_loader = DataLoader(dataset=test_set, num_workers=opt.threads, batch_size=opt.testBatchSize, shuffle=False)

print('===> Building model')
model = Net(upscale_factor=opt.upscale_factor).to(device)
criterion = nn.MSELoss()

optimizer = optim.Adam(model.parameters(), lr=opt.lr)


def train(epoch):
    epoch_loss = 0
    for iteration, batch in enumerate(training_data_loader, 1):
        input, target = batch[0].to(device), batch[1].to(device)

        optimizer.zero_grad()
        loss = criterion(model(input), target)
        epoch_loss += loss.item()
        loss.backward()
        optimizer.step()

        print("===> Epoch[{}]({}/{}): Loss: {:.4f}".format(epoch, iteration, len(training_data_loader), loss.item()))

    print("===> Epoch {} Complete: Avg. Loss: {:.4f}".format(epoch, epoch_loss / len(training_data_loader)))


def test():
    avg_psnr = 0
    with torch.no_grad():
        for batch in testing_data_loader:
            input, target = batch[0].to(device), batch[1].to(device)

            prediction = model(input)
            mse = criterion(prediction, target)
            psnr = 10 * log10(1 / mse.item())
            avg_psnr += psnr
    print("===> Avg. PSNR: {:.4f} dB".format(avg_psnr / len(testing_data_loader)))


def checkpoint(epoch):
    model_out_path = "model_epoch_{}.pth".format(epoch)
    torch.save(model, model_out_path)
    print("Checkpoint saved to {}".format(model_out_path))

for epoch in range(1, opt.nEpochs + 1):
    train(epoch)
    test()
    checkpoint(epoch)
