# Port of yunjey/pytorch-tutorial's image captioning (a CNN encoder whose layers but the last run under
# no_grad, a Linear and BatchNorm1d(momentum=0.01) on its features; an LSTM decoder over the image feature
# and the embedded caption packed by pack_padded_sequence; the targets packed the same way; a DataLoader with
# a collate_fn that sorts by length and pads; Adam over parameters of three modules).
#   Source:  https://github.com/yunjey/pytorch-tutorial/blob/master/tutorials/03-advanced/image_captioning/
#            train.py, model.py, data_loader.py and build_vocab.py's Vocabulary
#            (as of commit 0500d3df5a2a8080ccfccbc00aca0eacc21818db)
#   Licence: MIT, Copyright (c) 2017 yunjey/pytorch-tutorial (text in THIRD_PARTY_LICENSES.txt)
# Changes from the original:
#   * imports changed (torch -> autograd_core, torch.nn -> nn, torch.nn.utils.rnn -> nn.utils.rnn,
#     torch.utils.data -> nn.data; `import optim` added, which `torch.optim` below needs); the four files
#     are joined in one, in the order build_vocab.py's Vocabulary, data_loader.py, model.py, train.py, and
#     their imports of each other are dropped;
#   * torchvision, PIL, nltk and pycocotools are not available: stand-ins below for `models.resnet152` (a
#     small CNN with the same children order, conv -> bn -> relu -> avgpool -> fc), the transforms used,
#     `Image.open` (a synthetic 40x40 RGB image for each file name), `nltk.tokenize.word_tokenize` and
#     `COCO` (a few captions in memory); make_data writes data/vocab.pkl from those captions, as
#     build_vocab.py does from COCO's;
#   * sizes shrunk: argparse defaults crop_size 224 -> 32, log_step 10 -> 1, save_step 1000 -> 2,
#     embed_size 256 -> 16, hidden_size 512 -> 32, num_epochs 5 -> 2, batch_size 128 -> 4, num_workers
#     2 -> 0 (each library seeds its worker processes' Python random its own way: the random crops and flips
#     would differ between the two runs).
# Everything else (the models, the data loading, the training loop and the checkpoints) is the original's.
import random
import types
from collections import Counter

import autograd_core as torch
import nn
import optim
import nn.data as data
import os
import pickle
import numpy as np
from nn.utils.rnn import pack_padded_sequence

CAPTIONS = ["A man riding a wave on top of a surfboard.", "A dog sitting on a couch.",
            "Two dogs playing with a ball in the grass.", "A plate of food with broccoli.",
            "A man riding a horse on a beach.", "A cat sitting on top of a car.",
            "A group of people standing on a beach.", "A plate with a sandwich and a salad.",
            "A cat laying on a couch.", "A dog running in the grass with a ball.",
            "A man holding a surfboard on the beach.", "Two cats sitting on a car.",
            "A woman riding a horse.", "A bowl of food on a table.",
            "A group of dogs on a beach.", "A woman sitting on a couch with a cat."]


class _ResNet(nn.Module):
    """Stands in for ``torchvision.models.resnet152``: its children in the same order, far fewer of them."""
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(nn.Conv2d(8, 16, kernel_size=3, stride=2, padding=1, bias=False),
                                    nn.BatchNorm2d(16), nn.ReLU(inplace=True))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, 1000)

    def forward(self, x):
        x = self.avgpool(self.layer1(self.relu(self.bn1(self.conv1(x)))))
        return self.fc(torch.flatten(x, 1))


models = types.SimpleNamespace(resnet152=lambda pretrained=False: _ResNet())


class transforms:
    """Stands in for ``torchvision.transforms``: the transforms used below, on NumPy (H, W, C) images."""
    class Compose:
        def __init__(self, transforms):
            self.transforms = transforms

        def __call__(self, img):
            for t in self.transforms:
                img = t(img)
            return img

    class RandomCrop:
        """A size x size window at an offset drawn by Python's random."""
        def __init__(self, size):
            self.size = size

        def __call__(self, img):
            i = random.randint(0, img.shape[0] - self.size)
            j = random.randint(0, img.shape[1] - self.size)
            return img[i:i + self.size, j:j + self.size]

    class RandomHorizontalFlip:
        """Flips with probability p, drawn by Python's random."""
        def __init__(self, p=0.5):
            self.p = p

        def __call__(self, img):
            return img[:, ::-1] if random.random() < self.p else img

    class ToTensor:
        """(H, W, C) uint8 -> (C, H, W) float tensor in [0, 1]."""
        def __call__(self, pic):
            return torch.from_numpy(np.ascontiguousarray(pic.transpose(2, 0, 1)).astype(np.float32) / 255)

    class Normalize:
        def __init__(self, mean, std):
            self.mean, self.std = mean, std

        def __call__(self, tensor):
            mean = torch.tensor(self.mean, dtype=tensor.dtype).view(-1, 1, 1)
            std = torch.tensor(self.std, dtype=tensor.dtype).view(-1, 1, 1)
            return (tensor - mean) / std


class _Picture:
    """Stands in for a PIL image: ``convert('RGB')`` gives the (H, W, 3) uint8 array."""
    def __init__(self, pixels):
        self.pixels = pixels

    def convert(self, mode):
        return self.pixels


def _open(path):
    """Stands in for ``PIL.Image.open``: a 40x40 RGB image drawn from a generator seeded by the file's number."""
    number = int(os.path.splitext(os.path.basename(path))[0])
    return _Picture((np.random.default_rng(number).random((40, 40, 3)) * 255).astype(np.uint8))


Image = types.SimpleNamespace(open=_open)
nltk = types.SimpleNamespace(tokenize=types.SimpleNamespace(
    word_tokenize=lambda text: text.replace(".", " .").split()))


class COCO:
    """Stands in for ``pycocotools.coco.COCO``: the captions above, one image each."""
    def __init__(self, annotation_file):
        self.anns = {100 + i: {"caption": c, "image_id": i} for i, c in enumerate(CAPTIONS)}

    def loadImgs(self, img_id):
        return [{"file_name": "{:012d}.jpg".format(img_id)}]


class Vocabulary(object):
    """Simple vocabulary wrapper."""
    def __init__(self):
        self.word2idx = {}
        self.idx2word = {}
        self.idx = 0

    def add_word(self, word):
        if not word in self.word2idx:
            self.word2idx[word] = self.idx
            self.idx2word[self.idx] = word
            self.idx += 1

    def __call__(self, word):
        if not word in self.word2idx:
            return self.word2idx['<unk>']
        return self.word2idx[word]

    def __len__(self):
        return len(self.word2idx)


def make_data(path, threshold=1):
    """build_vocab.py's vocabulary, from the stand-in COCO's captions, pickled at ``path``."""
    counter = Counter()
    for ann in COCO(None).anns.values():
        counter.update(nltk.tokenize.word_tokenize(ann["caption"].lower()))
    vocab = Vocabulary()
    for word in ['<pad>', '<start>', '<end>', '<unk>']:
        vocab.add_word(word)
    for word in sorted(w for w, cnt in counter.items() if cnt >= threshold):
        vocab.add_word(word)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        pickle.dump(vocab, f)


make_data(os.path.join('data', 'vocab.pkl'))



class CocoDataset(data.Dataset):
    """COCO Custom Dataset compatible with torch.utils.data.DataLoader."""
    def __init__(self, root, json, vocab, transform=None):
        """Set the path for images, captions and vocabulary wrapper.
        
        Args:
            root: image directory.
            json: coco annotation file path.
            vocab: vocabulary wrapper.
            transform: image transformer.
        """
        self.root = root
        self.coco = COCO(json)
        self.ids = list(self.coco.anns.keys())
        self.vocab = vocab
        self.transform = transform

    def __getitem__(self, index):
        """Returns one data pair (image and caption)."""
        coco = self.coco
        vocab = self.vocab
        ann_id = self.ids[index]
        caption = coco.anns[ann_id]['caption']
        img_id = coco.anns[ann_id]['image_id']
        path = coco.loadImgs(img_id)[0]['file_name']

        image = Image.open(os.path.join(self.root, path)).convert('RGB')
        if self.transform is not None:
            image = self.transform(image)

        # Convert caption (string) to word ids.
        tokens = nltk.tokenize.word_tokenize(str(caption).lower())
        caption = []
        caption.append(vocab('<start>'))
        caption.extend([vocab(token) for token in tokens])
        caption.append(vocab('<end>'))
        target = torch.Tensor(caption)
        return image, target

    def __len__(self):
        return len(self.ids)


def collate_fn(data):
    """Creates mini-batch tensors from the list of tuples (image, caption).
    
    We should build custom collate_fn rather than using default collate_fn, 
    because merging caption (including padding) is not supported in default.

    Args:
        data: list of tuple (image, caption). 
            - image: torch tensor of shape (3, 256, 256).
            - caption: torch tensor of shape (?); variable length.

    Returns:
        images: torch tensor of shape (batch_size, 3, 256, 256).
        targets: torch tensor of shape (batch_size, padded_length).
        lengths: list; valid length for each padded caption.
    """
    # Sort a data list by caption length (descending order).
    data.sort(key=lambda x: len(x[1]), reverse=True)
    images, captions = zip(*data)

    # Merge images (from tuple of 3D tensor to 4D tensor).
    images = torch.stack(images, 0)

    # Merge captions (from tuple of 1D tensor to 2D tensor).
    lengths = [len(cap) for cap in captions]
    targets = torch.zeros(len(captions), max(lengths)).long()
    for i, cap in enumerate(captions):
        end = lengths[i]
        targets[i, :end] = cap[:end]        
    return images, targets, lengths

def get_loader(root, json, vocab, transform, batch_size, shuffle, num_workers):
    """Returns torch.utils.data.DataLoader for custom coco dataset."""
    # COCO caption dataset
    coco = CocoDataset(root=root,
                       json=json,
                       vocab=vocab,
                       transform=transform)
    
    # Data loader for COCO dataset
    # This will return (images, captions, lengths) for each iteration.
    # images: a tensor of shape (batch_size, 3, 224, 224).
    # captions: a tensor of shape (batch_size, padded_length).
    # lengths: a list indicating valid length for each caption. length is (batch_size).
    data_loader = torch.utils.data.DataLoader(dataset=coco, 
                                              batch_size=batch_size,
                                              shuffle=shuffle,
                                              num_workers=num_workers,
                                              collate_fn=collate_fn)
    return data_loader




class EncoderCNN(nn.Module):
    def __init__(self, embed_size):
        """Load the pretrained ResNet-152 and replace top fc layer."""
        super(EncoderCNN, self).__init__()
        resnet = models.resnet152(pretrained=True)
        modules = list(resnet.children())[:-1]      # delete the last fc layer.
        self.resnet = nn.Sequential(*modules)
        self.linear = nn.Linear(resnet.fc.in_features, embed_size)
        self.bn = nn.BatchNorm1d(embed_size, momentum=0.01)
        
    def forward(self, images):
        """Extract feature vectors from input images."""
        with torch.no_grad():
            features = self.resnet(images)
        features = features.reshape(features.size(0), -1)
        features = self.bn(self.linear(features))
        return features


class DecoderRNN(nn.Module):
    def __init__(self, embed_size, hidden_size, vocab_size, num_layers, max_seq_length=20):
        """Set the hyper-parameters and build the layers."""
        super(DecoderRNN, self).__init__()
        self.embed = nn.Embedding(vocab_size, embed_size)
        self.lstm = nn.LSTM(embed_size, hidden_size, num_layers, batch_first=True)
        self.linear = nn.Linear(hidden_size, vocab_size)
        self.max_seg_length = max_seq_length
        
    def forward(self, features, captions, lengths):
        """Decode image feature vectors and generates captions."""
        embeddings = self.embed(captions)
        embeddings = torch.cat((features.unsqueeze(1), embeddings), 1)
        packed = pack_padded_sequence(embeddings, lengths, batch_first=True) 
        hiddens, _ = self.lstm(packed)
        outputs = self.linear(hiddens[0])
        return outputs
    
    def sample(self, features, states=None):
        """Generate captions for given image features using greedy search."""
        sampled_ids = []
        inputs = features.unsqueeze(1)
        for i in range(self.max_seg_length):
            hiddens, states = self.lstm(inputs, states)          # hiddens: (batch_size, 1, hidden_size)
            outputs = self.linear(hiddens.squeeze(1))            # outputs:  (batch_size, vocab_size)
            _, predicted = outputs.max(1)                        # predicted: (batch_size)
            sampled_ids.append(predicted)
            inputs = self.embed(predicted)                       # inputs: (batch_size, embed_size)
            inputs = inputs.unsqueeze(1)                         # inputs: (batch_size, 1, embed_size)
        sampled_ids = torch.stack(sampled_ids, 1)                # sampled_ids: (batch_size, max_seq_length)
        return sampled_ids


import argparse


# Device configuration
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

def main(args):
    # Create model directory
    if not os.path.exists(args.model_path):
        os.makedirs(args.model_path)
    
    # Image preprocessing, normalization for the pretrained resnet
    transform = transforms.Compose([ 
        transforms.RandomCrop(args.crop_size),
        transforms.RandomHorizontalFlip(), 
        transforms.ToTensor(), 
        transforms.Normalize((0.485, 0.456, 0.406), 
                             (0.229, 0.224, 0.225))])
    
    # Load vocabulary wrapper
    with open(args.vocab_path, 'rb') as f:
        vocab = pickle.load(f)
    
    # Build data loader
    data_loader = get_loader(args.image_dir, args.caption_path, vocab, 
                             transform, args.batch_size,
                             shuffle=True, num_workers=args.num_workers) 

    # Build the models
    encoder = EncoderCNN(args.embed_size).to(device)
    decoder = DecoderRNN(args.embed_size, args.hidden_size, len(vocab), args.num_layers).to(device)
    
    # Loss and optimizer
    criterion = nn.CrossEntropyLoss()
    params = list(decoder.parameters()) + list(encoder.linear.parameters()) + list(encoder.bn.parameters())
    optimizer = torch.optim.Adam(params, lr=args.learning_rate)
    
    # Train the models
    total_step = len(data_loader)
    for epoch in range(args.num_epochs):
        for i, (images, captions, lengths) in enumerate(data_loader):
            
            # Set mini-batch dataset
            images = images.to(device)
            captions = captions.to(device)
            targets = pack_padded_sequence(captions, lengths, batch_first=True)[0]
            
            # Forward, backward and optimize
            features = encoder(images)
            outputs = decoder(features, captions, lengths)
            loss = criterion(outputs, targets)
            decoder.zero_grad()
            encoder.zero_grad()
            loss.backward()
            optimizer.step()

            # Print log info
            if i % args.log_step == 0:
                print('Epoch [{}/{}], Step [{}/{}], Loss: {:.4f}, Perplexity: {:5.4f}'
                      .format(epoch, args.num_epochs, i, total_step, loss.item(), np.exp(loss.item()))) 
                
            # Save the model checkpoints
            if (i+1) % args.save_step == 0:
                torch.save(decoder.state_dict(), os.path.join(
                    args.model_path, 'decoder-{}-{}.ckpt'.format(epoch+1, i+1)))
                torch.save(encoder.state_dict(), os.path.join(
                    args.model_path, 'encoder-{}-{}.ckpt'.format(epoch+1, i+1)))


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--model_path', type=str, default='models/' , help='path for saving trained models')
    parser.add_argument('--crop_size', type=int, default=32 , help='size for randomly cropping images')
    parser.add_argument('--vocab_path', type=str, default='data/vocab.pkl', help='path for vocabulary wrapper')
    parser.add_argument('--image_dir', type=str, default='data/resized2014', help='directory for resized images')
    parser.add_argument('--caption_path', type=str, default='data/annotations/captions_train2014.json', help='path for train annotation json file')
    parser.add_argument('--log_step', type=int , default=1, help='step size for prining log info')
    parser.add_argument('--save_step', type=int , default=2, help='step size for saving trained models')
    
    # Model parameters
    parser.add_argument('--embed_size', type=int , default=16, help='dimension of word embedding vectors')
    parser.add_argument('--hidden_size', type=int , default=32, help='dimension of lstm hidden states')
    parser.add_argument('--num_layers', type=int , default=1, help='number of layers in lstm')
    
    parser.add_argument('--num_epochs', type=int, default=2)
    parser.add_argument('--batch_size', type=int, default=4)
    parser.add_argument('--num_workers', type=int, default=0)
    parser.add_argument('--learning_rate', type=float, default=0.001)
    args = parser.parse_args()
    print(args)
    main(args)