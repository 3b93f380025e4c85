# Port of the PyTorch tutorial "Learn the Basics: Automatic Differentiation with torch.autograd" (a one-layer
# net with binary_cross_entropy_with_logits, grad_fn, no_grad and detach, and vector-Jacobian products
# accumulated over repeated backward(retain_graph=True) calls, then zeroed).
#   Source:  https://github.com/pytorch/tutorials/blob/main/beginner_source/basics/autogradqs_tutorial.py
#            (as of commit db77dcf6e3637924f43852c014f2af9978b0f891)
#   Licence: BSD 3-Clause, Copyright (c) 2017 Pytorch contributors (text in THIRD_PARTY_LICENSES.txt)
# Changes from the original:
#   * imports changed (torch -> autograd_core; `import nn` added, which `torch.nn.functional` below needs);
#   * the tutorial's prose between the code cells is left out.
# Everything else is the original's.
import autograd_core as torch
import nn

x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w)+b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)


print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")

loss.backward()
print(w.grad)
print(b.grad)


z = torch.matmul(x, w)+b
print(z.requires_grad)

with torch.no_grad():
    z = torch.matmul(x, w)+b
print(z.requires_grad)


z = torch.matmul(x, w)+b
z_det = z.detach()
print(z_det.requires_grad)


inp = torch.eye(4, 5, requires_grad=True)
out = (inp+1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")
