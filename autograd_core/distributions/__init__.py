"""``torch.distributions``: probability distributions with PyTorch's parameters, shapes, formulas and
checks, for policies (REINFORCE, PPO, SAC), VAEs, mixtures and Bayesian scripts.

* Continuous: ``Normal``, ``Uniform``, ``Laplace``, ``Exponential``, ``Cauchy``, ``StudentT``, ``Gumbel``,
  ``Gamma``, ``Chi2``, ``Beta``, ``Dirichlet``, ``LogNormal``, ``HalfNormal``, ``HalfCauchy``.
* Discrete: ``Bernoulli``, ``Categorical``, ``OneHotCategorical``, ``Binomial``, ``Poisson``, ``Geometric``,
  ``Multinomial``.
* Relaxed (reparameterized) discrete: ``RelaxedBernoulli``, ``RelaxedOneHotCategorical`` (Gumbel-softmax).
* Multivariate and composite: ``MultivariateNormal``, ``Independent``, ``MixtureSameFamily``,
  ``TransformedDistribution`` with ``ExpTransform``, ``AffineTransform``, ``SigmoidTransform``,
  ``TanhTransform``, ``PowerTransform``, ``AbsTransform``, ``SoftmaxTransform``, ``ComposeTransform``.
* ``kl_divergence`` / ``register_kl``, ``constraints``, and ``Distribution.set_default_validate_args``.

Each has ``sample`` (and ``rsample`` where PyTorch has it), ``log_prob``, ``entropy``, ``mean``, ``mode``,
``variance``, ``stddev``, ``batch_shape``, ``event_shape``, ``expand``, and ``cdf`` / ``icdf`` where PyTorch
has them. Densities, entropies and KL divergences are taped ops, so ``log_prob(action) * advantage``
trains a policy and ``rsample`` backpropagates through a sample (the reparameterization trick; for
the gamma family through the implicit gradient of the gamma CDF). Parameters and values are checked
against their constraints unless ``validate_args=False``, as in PyTorch. Samples come from the global
generator (``manual_seed``); the numbers differ from PyTorch's for the same seed.

    >>> _ = ag.manual_seed(0)
    >>> m = ag.distributions.Categorical(logits=ag.tensor([0.0, 1.0, 2.0]))
    >>> a = m.sample()
    >>> a.dtype, m.log_prob(ag.tensor(2))
    (dtype('int64'), tensor(-0.4076))
"""
from __future__ import annotations

from . import constraints, kl, transforms, utils
from .continuous import (Beta, Cauchy, Chi2, Dirichlet, Exponential, Gamma, Gumbel, Laplace, Normal, StudentT,
                         Uniform)
from .discrete import Bernoulli, Binomial, Categorical, Geometric, Multinomial, OneHotCategorical, Poisson
from .distribution import Distribution
from .kl import kl_divergence, register_kl
from .multivariate import Independent, MixtureSameFamily, MultivariateNormal
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, ExpRelaxedCategorical, ExpTransform,
                         HalfCauchy, HalfNormal, LogitRelaxedBernoulli, LogNormal, PowerTransform, RelaxedBernoulli,
                         RelaxedOneHotCategorical, SigmoidTransform, SoftmaxTransform, TanhTransform, Transform,
                         TransformedDistribution, identity_transform)

__all__ = ["Distribution", "Normal", "Uniform", "Laplace", "Exponential", "Cauchy", "StudentT", "Gumbel", "Gamma",
           "Chi2", "Beta", "Dirichlet", "Bernoulli", "Categorical", "OneHotCategorical", "Binomial", "Poisson",
           "Geometric", "Multinomial", "MultivariateNormal", "Independent", "MixtureSameFamily",
           "TransformedDistribution", "Transform", "ExpTransform", "AffineTransform", "SigmoidTransform",
           "TanhTransform", "PowerTransform", "AbsTransform", "SoftmaxTransform", "ComposeTransform",
           "identity_transform", "LogNormal", "HalfNormal", "HalfCauchy", "RelaxedBernoulli", "LogitRelaxedBernoulli",
           "RelaxedOneHotCategorical", "ExpRelaxedCategorical", "kl_divergence", "register_kl", "constraints",
           "kl", "transforms", "utils"]
