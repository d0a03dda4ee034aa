"""kl_divergence between the Gamma / Beta / Dirichlet / Poisson / Binomial / Geometric / Cauchy / Pareto / Gumbel /
HalfNormal / LogNormal families and across families, against torch's registered closed forms: values (inf where
p's support is not inside q's), gradients w.r.t. every parameter, and the pairs torch leaves unimplemented."""
import numpy as np
import pytest

import family_checks as fc
import mlx_compat.distributions as mcd
from family_checks import f32, td
from helpers import assert_same, mc, torch

P = {"a": f32(3, 4, low=0.3, high=3.0), "b": f32(3, 4, low=0.3, high=3.0), "c": f32(3, 4, low=0.5, high=4.0),
     "d": f32(3, 4, low=0.5, high=2.0), "u": f32(3, 4, low=0.05, high=0.45), "v": f32(3, 4, low=0.55, high=0.95),
     "x": f32(3, 4)}

FAMILIES = {  # name -> builder over (D, p), with p the parameter tensors above
    "Gamma": lambda D, p: D.Gamma(p["a"], p["d"]),
    "Gamma2": lambda D, p: D.Gamma(p["c"], p["b"]),
    "Beta": lambda D, p: D.Beta(p["a"], p["b"]),
    "Beta2": lambda D, p: D.Beta(p["c"], p["d"]),
    "Dirichlet": lambda D, p: D.Dirichlet(p["a"]),
    "Dirichlet2": lambda D, p: D.Dirichlet(p["c"]),
    "Poisson": lambda D, p: D.Poisson(p["c"]),
    "Poisson2": lambda D, p: D.Poisson(p["d"]),
    "Binomial": lambda D, p: D.Binomial(6, probs=p["u"]),
    "Binomial2": lambda D, p: D.Binomial(6, logits=p["x"]),
    "Binomial fewer": lambda D, p: D.Binomial(D.Binomial(1, probs=p["u"]).total_count.new_tensor(
        [[6.0, 5.0, 6.0, 3.0]]), probs=p["v"]),
    "Geometric": lambda D, p: D.Geometric(probs=p["u"]),
    "Geometric2": lambda D, p: D.Geometric(logits=p["x"]),
    "Cauchy": lambda D, p: D.Cauchy(p["x"], p["d"]),
    "Cauchy2": lambda D, p: D.Cauchy(p["b"], p["c"]),
    "Pareto": lambda D, p: D.Pareto(p["d"], p["c"]),
    "Pareto2": lambda D, p: D.Pareto(p["b"], p["a"]),
    "Gumbel": lambda D, p: D.Gumbel(p["x"], p["d"]),
    "Gumbel2": lambda D, p: D.Gumbel(p["b"], p["c"]),
    "HalfNormal": lambda D, p: D.HalfNormal(p["d"]),
    "HalfNormal2": lambda D, p: D.HalfNormal(p["c"]),
    "LogNormal": lambda D, p: D.LogNormal(p["x"], p["d"]),
    "LogNormal2": lambda D, p: D.LogNormal(p["b"], p["c"]),
    "Normal": lambda D, p: D.Normal(p["x"], p["d"]),
    "Exponential": lambda D, p: D.Exponential(p["c"]),
    "Uniform": lambda D, p: D.Uniform(p["u"], p["v"]),
    "Uniform wide": lambda D, p: D.Uniform(p["x"] - 2, p["x"] + 0.5),
    "Uniform positive": lambda D, p: D.Uniform(p["d"], p["d"] + p["c"]),
    "Laplace": lambda D, p: D.Laplace(p["x"], p["d"]),
    "Bernoulli": lambda D, p: D.Bernoulli(probs=p["u"]),
    "Chi2": lambda D, p: D.Chi2(p["c"]),
    "StudentT": lambda D, p: D.StudentT(p["c"]),
}

PAIRS = [
    ("Gamma", "Gamma2"), ("Beta", "Beta2"), ("Dirichlet", "Dirichlet2"), ("Poisson", "Poisson2"),
    ("Binomial", "Binomial2"), ("Binomial", "Binomial fewer"), ("Binomial fewer", "Binomial"),
    ("Geometric", "Geometric2"), ("Cauchy", "Cauchy2"), ("Pareto", "Pareto2"), ("Pareto2", "Pareto"),
    ("Gumbel", "Gumbel2"), ("HalfNormal", "HalfNormal2"), ("LogNormal", "LogNormal2"), ("Chi2", "Gamma"),
    ("Bernoulli", "Poisson"), ("Beta", "Pareto"), ("Beta", "Exponential"), ("Beta", "Gamma"), ("Beta", "Normal"),
    ("Beta", "Uniform"), ("Beta", "Uniform wide"), ("Exponential", "Beta"), ("Exponential", "Gamma"),
    ("Exponential", "Gumbel"), ("Exponential", "Normal"), ("Exponential", "Pareto"), ("Exponential", "Uniform"),
    ("Gamma", "Beta"), ("Gamma", "Exponential"), ("Gamma", "Gumbel"), ("Gamma", "Normal"), ("Gamma", "Pareto"),
    ("Gamma", "Uniform"), ("Gumbel", "Beta"), ("Gumbel", "Exponential"), ("Gumbel", "Gamma"), ("Gumbel", "Normal"),
    ("Gumbel", "Pareto"), ("Gumbel", "Uniform"), ("Laplace", "Beta"), ("Laplace", "Gamma"), ("Laplace", "Normal"),
    ("Normal", "Beta"), ("Normal", "Gamma"), ("Normal", "Gumbel"), ("Normal", "Laplace"), ("Normal", "Pareto"),
    ("Pareto", "Beta"), ("Pareto", "Exponential"), ("Pareto2", "Exponential"), ("Pareto", "Gamma"),
    ("Pareto2", "Gamma"), ("Pareto", "Normal"), ("Pareto2", "Normal"), ("Pareto", "Uniform"), ("Poisson", "Bernoulli"),
    ("Poisson", "Binomial"), ("Uniform", "Beta"), ("Uniform wide", "Beta"), ("Uniform", "Exponential"),
    ("Uniform wide", "Exponential"), ("Uniform", "Gamma"), ("Uniform positive", "Gamma"), ("Uniform", "Gumbel"),
    ("Uniform", "Normal"), ("Uniform", "Pareto"), ("Uniform positive", "Pareto"),
]
MISSING = [("Cauchy", "Normal"), ("StudentT", "StudentT"), ("Dirichlet", "Beta"), ("Geometric", "Poisson"),
           ("Gamma", "Laplace"), ("LogNormal", "Gamma"), ("Beta", "Dirichlet")]


def _params(lib, grad):
    return {k: lib.tensor(v, requires_grad=grad) for k, v in P.items()}


@pytest.mark.parametrize("p_name,q_name", PAIRS + MISSING)
def test_kl(p_name, q_name):
    tp, mp = _params(torch, True), _params(mc, True)
    make_p, make_q = FAMILIES[p_name], FAMILIES[q_name]
    (rt, et) = fc.outcome(lambda: td.kl_divergence(make_p(td, tp), make_q(td, tp)))
    (rm, em) = fc.outcome(lambda: mcd.kl_divergence(make_p(mcd, mp), make_q(mcd, mp)))
    if et is not None:
        assert type(em) is type(et) and str(em) == str(et), (em, et)
        return
    assert em is None, em
    assert_same(rm, rt, rtol=1e-5, atol=1e-5)
    if not rt.requires_grad:
        assert not rm.requires_grad
        return
    w = fc.rng.standard_normal(tuple(rt.shape)).astype(np.float32)
    (torch.where(rt.isfinite(), rt, 0.0) * torch.tensor(w)).sum().backward()
    (mc.where(rm.isfinite(), rm, 0.0) * mc.tensor(w)).sum().backward()
    for k in tp:
        if tp[k].grad is None:
            assert mp[k].grad is None or not mp[k].grad.abs().sum().item(), k
        else:
            scale = float(tp[k].grad.abs().max())
            assert_same(mp[k].grad, tp[k].grad, rtol=1e-5, atol=max(1e-5, 1e-5 * scale))


def test_every_torch_pair_between_our_families_is_registered():
    """Each (p, q) torch registers where both are families we provide has a registration of ours too."""
    ours = {name for name in mcd.__all__ if isinstance(getattr(mcd, name), type)}
    from mlx_compat.distributions import kl as mkl
    from torch.distributions import kl as tkl
    theirs = {(p.__name__, q.__name__) for p, q in tkl._KL_REGISTRY if p.__name__ in ours and q.__name__ in ours}
    mine = {(p.__name__, q.__name__) for p, q in mkl._KL_REGISTRY}
    assert theirs <= mine, sorted(theirs - mine)


def test_kl_transformed_needs_equal_transforms():
    a = mcd.TransformedDistribution(mcd.Normal(0.0, 1.0), [mcd.ExpTransform()])
    b = mcd.TransformedDistribution(mcd.Normal(1.0, 2.0), [mcd.ExpTransform()])
    c = mcd.TransformedDistribution(mcd.Normal(1.0, 2.0), [mcd.AffineTransform(0.0, 2.0)])
    ta = td.TransformedDistribution(td.Normal(0.0, 1.0), [td.ExpTransform()])
    tb = td.TransformedDistribution(td.Normal(1.0, 2.0), [td.ExpTransform()])
    assert_same(mcd.kl_divergence(a, b), td.kl_divergence(ta, tb))
    with pytest.raises(NotImplementedError):
        mcd.kl_divergence(a, c)
