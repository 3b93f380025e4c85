import numpy as np

import autograd_core as ag


def test_square_sum_gradient():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad._data, [2.0, 4.0, 6.0])
