# Port of the PyTorch forward-forward example (Hinton's forward-forward algorithm: each Linear layer is
# trained on its own, with its own Adam, to give positive data a high "goodness" and negative data a low
# one; no gradient crosses layers).
#   Source:  https://github.com/pytorch/examples/blob/main/mnist_forward_forward/main.py
#   Licence: BSD 3-Clause, Copyright (c) 2017 Pytorch contributors; the file is based on Mohammad Pezeshki's
#            pytorch_forward_forward, MIT License (both texts in THIRD_PARTY_LICENSES.txt)
# Changes from the original:
#   * imports changed (torch -> autograd_core, torch.nn -> nn, torch.utils.data -> nn.data,
#     torch.optim -> optim); torchvision is not imported (numpy is);
#   * sizes shrunk: layer widths 500 -> 64, argparse defaults epochs 1000 -> 40, train size
#     50000 -> 256, test size 10000 -> 64;
#   * data replaced: torchvision's MNIST (with its ToTensor + Normalize + flatten transform) ->
#     synthetic 28x28 digit-like images made with NumPy (mnist_like below, as in the MNIST CNN port),
#     normalized with MNIST's mean and std and flattened to 784 features.
# Everything else (get_y_neg, overlay_y_on_x, Net, Layer, the training and the error rates) is the original's.
# This code is based on the implementation of Mohammad Pezeshki available at
# https://github.com/mohammadpz/pytorch_forward_forward and licensed under the MIT License.
# Modifications/Improvements to the original code have been made by Vivek V Patel.

import argparse
import numpy as np
import autograd_core as torch
import nn
from nn.data import DataLoader
from optim import Adam


def mnist_like(train, n):
    """Stands in for ``MNIST(..., transform=transform)``: flattened (784,) float images, int labels."""
    rng = np.random.default_rng(7)
    templates = (rng.random((10, 7, 7)) > 0.6).repeat(4, axis=1).repeat(4, axis=2).astype(np.float32)
    rng = np.random.default_rng(1 if train else 2)
    labels = rng.integers(0, 10, size=n)
    images = np.clip(templates[labels] * 0.8 + rng.random((n, 28, 28)) * 0.4, 0.0, 1.0).astype(np.float32)
    images = ((images - 0.1307) / 0.3081).reshape(n, 784)
    return torch.utils.data.TensorDataset(torch.from_numpy(images.astype(np.float32)),
                                          torch.from_numpy(labels.astype(np.int64)))


def get_y_neg(y):
    y_neg = y.clone()
    for idx, y_samp in enumerate(y):
        allowed_indices = list(range(10))
        allowed_indices.remove(y_samp.item())
        y_neg[idx] = torch.tensor(allowed_indices)[
            torch.randint(len(allowed_indices), size=(1,))
        ].item()
    return y_neg.to(device)


def overlay_y_on_x(x, y, classes=10):
    x_ = x.clone()
    x_[:, :classes] *= 0.0
    x_[range(x.shape[0]), y] = x.max()
    return x_


class Net(torch.nn.Module):
    def __init__(self, dims):

        super().__init__()
        self.layers = []
        for d in range(len(dims) - 1):
            self.layers = self.layers + [Layer(dims[d], dims[d + 1]).to(device)]

    def predict(self, x):
        goodness_per_label = []
        for label in range(10):
            h = overlay_y_on_x(x, label)
            goodness = []
            for layer in self.layers:
                h = layer(h)
                goodness = goodness + [h.pow(2).mean(1)]
            goodness_per_label += [sum(goodness).unsqueeze(1)]
        goodness_per_label = torch.cat(goodness_per_label, 1)
        return goodness_per_label.argmax(1)

    def train(self, x_pos, x_neg):
        h_pos, h_neg = x_pos, x_neg
        for i, layer in enumerate(self.layers):
            print("training layer: ", i)
            h_pos, h_neg = layer.train(h_pos, h_neg)


class Layer(nn.Linear):
    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__(in_features, out_features, bias, device, dtype)
        self.relu = torch.nn.ReLU()
        self.opt = Adam(self.parameters(), lr=args.lr)
        self.threshold = args.threshold
        self.num_epochs = args.epochs

    def forward(self, x):
        x_direction = x / (x.norm(2, 1, keepdim=True) + 1e-4)
        return self.relu(torch.mm(x_direction, self.weight.T) + self.bias.unsqueeze(0))

    def train(self, x_pos, x_neg):
        for i in range(self.num_epochs):
            g_pos = self.forward(x_pos).pow(2).mean(1)
            g_neg = self.forward(x_neg).pow(2).mean(1)
            loss = torch.log1p(
                torch.exp(
                    torch.cat([-g_pos + self.threshold, g_neg - self.threshold])
                )
            ).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            if i % args.log_interval == 0:
                print("Loss: ", loss.item())
        return self.forward(x_pos).detach(), self.forward(x_neg).detach()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--epochs",
        type=int,
        default=40,
        metavar="N",
        help="number of epochs to train (default: 40)",
    )
    parser.add_argument(
        "--lr",
        type=float,
        default=0.03,
        metavar="LR",
        help="learning rate (default: 0.03)",
    )
    parser.add_argument(
        "--no_accel", action="store_true", help="disables accelerator"
    )
    parser.add_argument(
        "--seed", type=int, default=1, metavar="S", help="random seed (default: 1)"
    )
    parser.add_argument(
        "--save_model",
        action="store_true",
        help="For saving the current Model",
    )
    parser.add_argument(
        "--train_size", type=int, default=256, help="size of training set"
    )
    parser.add_argument(
        "--threshold", type=float, default=2, help="threshold for training"
    )
    parser.add_argument("--test_size", type=int, default=64, help="size of test set")
    parser.add_argument(
        "--save-model",
        action="store_true",
        help="For Saving the current Model",
    )
    parser.add_argument(
        "--log-interval",
        type=int,
        default=10,
        metavar="N",
        help="how many batches to wait before logging training status",
    )
    args = parser.parse_args()
    use_accel = not args.no_accel and torch.accelerator.is_available()
    if use_accel:
        device = torch.accelerator.current_accelerator()
    else:
        device = torch.device("cpu")

    train_kwargs = {"batch_size": args.train_size}
    test_kwargs = {"batch_size": args.test_size}

    if use_accel:
        accel_kwargs = {"num_workers": 1, "pin_memory": True, "shuffle": True}
        train_kwargs.update(accel_kwargs)
        test_kwargs.update(accel_kwargs)

    train_loader = DataLoader(
        mnist_like(True, args.train_size), **train_kwargs
    )
    test_loader = DataLoader(
        mnist_like(False, args.test_size), **test_kwargs
    )
    net = Net([784, 64, 64])
    x, y = next(iter(train_loader))
    x, y = x.to(device), y.to(device)
    x_pos = overlay_y_on_x(x, y)
    y_neg = get_y_neg(y)
    x_neg = overlay_y_on_x(x, y_neg)
    net.train(x_pos, x_neg)
    print("train error:", 1.0 - net.predict(x).eq(y).float().mean().item())
    x_te, y_te = next(iter(test_loader))
    x_te, y_te = x_te.to(device), y_te.to(device)
    if args.save_model:
        torch.save(net.state_dict(), "mnist_ff.pt")
    print("test error:", 1.0 - net.predict(x_te).eq(y_te).float().mean().item())
