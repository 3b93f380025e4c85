# Port of yunjey/pytorch-tutorial's neural style transfer (Gatys et al.: the image itself is the parameter,
# content.clone().requires_grad_(True) under Adam with betas given as a list; VGG-19 feature maps picked by
# name from vgg._modules; Gram matrices by torch.mm(f, f.t()); the result denormalized and clamp_'ed).
#   Source:  https://github.com/yunjey/pytorch-tutorial/blob/master/tutorials/03-advanced/
#            neural_style_transfer/main.py (as of commit 0500d3df5a2a8080ccfccbc00aca0eacc21818db)
#   Licence: MIT, Copyright (c) 2017 yunjey/pytorch-tutorial (text in THIRD_PARTY_LICENSES.txt)
# Changes from the original:
#   * imports changed (torch -> autograd_core, torch.nn -> nn; `import optim` added, which `torch.optim`
#     below needs);
#   * torchvision and PIL are not available: stand-ins below for `models.vgg19` (VGG-19's `features`, the
#     same 37 layers in the same order, with 1/16 of its channels, not pretrained), the transforms used,
#     `torchvision.utils.save_image` (checks the image, writes nothing) and `PIL.Image.open` (a synthetic
#     RGB picture for each of the two file names, with `size` and `resize`);
#   * sizes shrunk: argparse defaults max_size 400 -> 32, total_step 2000 -> 10, log_step 10 -> 2,
#     sample_step 500 -> 5.
# Everything else (the feature extractor, the losses and the optimization) is the original's.
from __future__ import division
import types
import argparse
import autograd_core as torch
import nn
import optim
import numpy as np


def _vgg19(pretrained=False):
    """Stands in for ``torchvision.models.vgg19``: its ``features`` (convs, ReLUs and max pools in VGG-19's
    order, so that layers '0', '5', '10', '19' and '28' are conv1_1 ... conv5_1), 1/16 of the channels."""
    layers, c = [], 3
    for v in [4, 4, 'M', 8, 8, 'M', 16, 16, 16, 16, 'M', 32, 32, 32, 32, 'M', 32, 32, 32, 32, 'M']:
        if v == 'M':
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(c, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            c = v
    return types.SimpleNamespace(features=nn.Sequential(*layers))


models = types.SimpleNamespace(vgg19=_vgg19)


class transforms:
    """Stands in for ``torchvision.transforms``: the transforms used below."""
    class Compose:
        def __init__(self, transforms):
            self.transforms = transforms

        def __call__(self, img):
            for t in self.transforms:
                img = t(img)
            return img

    class ToTensor:
        """A picture's (H, W, 3) uint8 pixels -> (3, H, W) float tensor in [0, 1]."""
        def __call__(self, pic):
            return torch.from_numpy(np.ascontiguousarray(pic.pixels.transpose(2, 0, 1)).astype(np.float32) / 255)

    class Normalize:
        def __init__(self, mean, std):
            self.mean, self.std = mean, std

        def __call__(self, tensor):
            mean = torch.tensor(self.mean, dtype=tensor.dtype).view(-1, 1, 1)
            std = torch.tensor(self.std, dtype=tensor.dtype).view(-1, 1, 1)
            return (tensor - mean) / std


class _Picture:
    """Stands in for a PIL image: ``size`` is (width, height); ``resize`` samples the nearest pixels."""
    def __init__(self, pixels):
        self.pixels = pixels

    @property
    def size(self):
        return (self.pixels.shape[1], self.pixels.shape[0])

    def resize(self, size, resample=None):
        w, h = (int(s) for s in size)
        rows = np.arange(h) * self.pixels.shape[0] // h
        cols = np.arange(w) * self.pixels.shape[1] // w
        return _Picture(self.pixels[rows][:, cols])


def _open(path):
    """Stands in for ``PIL.Image.open``: stripes for the content, checks for the style, 128x128 pixels."""
    yy, xx = np.mgrid[0:128, 0:128]
    if 'style' in path:
        pattern = ((yy // 6 + xx // 6) % 2)[:, :, None] * np.array([0.9, 0.3, 0.2])
    else:
        pattern = (0.5 + 0.5 * np.sin(xx / 5.0))[:, :, None] * np.array([0.2, 0.5, 0.9])
    return _Picture((pattern * 255).astype(np.uint8))


Image = types.SimpleNamespace(open=_open, ANTIALIAS=1, LANCZOS=1)


def _save_image(tensor, fp, **kwargs):
    """Stands in for ``torchvision.utils.save_image``: checks the image, writes nothing."""
    assert tensor.dim() == 3 and tensor.size(0) == 3, tuple(tensor.shape)
    assert 0 <= tensor.min().item() and tensor.max().item() <= 1, "pixels in [0, 1]"


torchvision = types.SimpleNamespace(utils=types.SimpleNamespace(save_image=_save_image))


# Device configuration
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

def load_image(image_path, transform=None, max_size=None, shape=None):
    """Load an image and convert it to a torch tensor."""
    image = Image.open(image_path)
    
    if max_size:
        scale = max_size / max(image.size)
        size = np.array(image.size) * scale
        image = image.resize(size.astype(int), Image.ANTIALIAS)
    
    if shape:
        image = image.resize(shape, Image.LANCZOS)
    
    if transform:
        image = transform(image).unsqueeze(0)
    
    return image.to(device)


class VGGNet(nn.Module):
    def __init__(self):
        """Select conv1_1 ~ conv5_1 activation maps."""
        super(VGGNet, self).__init__()
        self.select = ['0', '5', '10', '19', '28'] 
        self.vgg = models.vgg19(pretrained=True).features
        
    def forward(self, x):
        """Extract multiple convolutional feature maps."""
        features = []
        for name, layer in self.vgg._modules.items():
            x = layer(x)
            if name in self.select:
                features.append(x)
        return features


def main(config):
    
    # Image preprocessing
    # VGGNet was trained on ImageNet where images are normalized by mean=[0.485, 0.456, 0.406] and std=[0.229, 0.224, 0.225].
    # We use the same normalization statistics here.
    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize(mean=(0.485, 0.456, 0.406), 
                             std=(0.229, 0.224, 0.225))])
    
    # Load content and style images
    # Make the style image same size as the content image
    content = load_image(config.content, transform, max_size=config.max_size)
    style = load_image(config.style, transform, shape=[content.size(2), content.size(3)])
    
    # Initialize a target image with the content image
    target = content.clone().requires_grad_(True)
    
    optimizer = torch.optim.Adam([target], lr=config.lr, betas=[0.5, 0.999])
    vgg = VGGNet().to(device).eval()
    
    for step in range(config.total_step):
        
        # Extract multiple(5) conv feature vectors
        target_features = vgg(target)
        content_features = vgg(content)
        style_features = vgg(style)

        style_loss = 0
        content_loss = 0
        for f1, f2, f3 in zip(target_features, content_features, style_features):
            # Compute content loss with target and content images
            content_loss += torch.mean((f1 - f2)**2)

            # Reshape convolutional feature maps
            _, c, h, w = f1.size()
            f1 = f1.view(c, h * w)
            f3 = f3.view(c, h * w)

            # Compute gram matrix
            f1 = torch.mm(f1, f1.t())
            f3 = torch.mm(f3, f3.t())

            # Compute style loss with target and style images
            style_loss += torch.mean((f1 - f3)**2) / (c * h * w) 
        
        # Compute total loss, backprop and optimize
        loss = content_loss + config.style_weight * style_loss 
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        if (step+1) % config.log_step == 0:
            print ('Step [{}/{}], Content Loss: {:.4f}, Style Loss: {:.4f}' 
                   .format(step+1, config.total_step, content_loss.item(), style_loss.item()))

        if (step+1) % config.sample_step == 0:
            # Save the generated image
            denorm = transforms.Normalize((-2.12, -2.04, -1.80), (4.37, 4.46, 4.44))
            img = target.clone().squeeze()
            img = denorm(img).clamp_(0, 1)
            torchvision.utils.save_image(img, 'output-{}.png'.format(step+1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument('--content', type=str, default='png/content.png')
    parser.add_argument('--style', type=str, default='png/style.png')
    parser.add_argument('--max_size', type=int, default=32)
    parser.add_argument('--total_step', type=int, default=10)
    parser.add_argument('--log_step', type=int, default=2)
    parser.add_argument('--sample_step', type=int, default=5)
    parser.add_argument('--style_weight', type=float, default=100)
    parser.add_argument('--lr', type=float, default=0.003)
    config = parser.parse_args()
    print(config)
    main(config)