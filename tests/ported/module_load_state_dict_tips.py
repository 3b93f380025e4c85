# Port of the PyTorch recipe "Tips for Loading an nn.Module from a Checkpoint": torch.load(..., mmap=True),
# building a module under the torch.device('meta') context manager, and load_state_dict(..., assign=True).
#   Source:  https://github.com/pytorch/tutorials/blob/main/recipes_source/recipes/module_load_state_dict_tips.py
#            (as of commit 06059c5ed41b731d4d3392d18d417fd267246e05)
#   Licence: BSD 3-Clause, Copyright (c) 2017 Pytorch contributors (text in THIRD_PARTY_LICENSES.txt)
# Changes from the original:
#   * imports changed (torch -> autograd_core, `from torch import nn` -> `import nn`);
#   * the recipe's prose between the code cells, and its commented-out example routine, are left out.
# Everything else is the original's.
"""

Tips for Loading an `nn.Module` from a Checkpoint
=================================================

In this tutorial, we will share some tips for loading a model from a checkpoint.
In particular, we will discuss


1.  The `mmap` keyword argument on `torch.load`
2.  The `torch.device()` context manager
3.  The `assign` keyword argument on `nn.Module.load_state_dict()`

The following snippet of code illustrates the use of the above three utilities.
"""

import autograd_core as torch
import nn

class SomeModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linears = nn.ModuleList([nn.Linear(1, 1) for i in range(10)])

    def forward(self, x):
        return self.linears(x)


m = SomeModule()
torch.save(m.state_dict(), 'checkpoint.pth')
state_dict = torch.load('checkpoint.pth', mmap=True)
with torch.device('meta'):
  meta_m = SomeModule()
meta_m.load_state_dict(state_dict, assign=True)

state_dict = torch.load('checkpoint.pth')
m = SomeModule()
m.load_state_dict(state_dict)

state_dict = torch.load('checkpoint.pth')

state_dict = torch.load('checkpoint.pth', mmap=True)

m = SomeModule()

with torch.device('meta'):
  meta_m = SomeModule()

m.load_state_dict(state_dict)

meta_m.load_state_dict(state_dict, assign=True)
