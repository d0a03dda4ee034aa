"""kl_divergence involving ContinuousBernoulli, LowRankMultivariateNormal, InverseGamma and Wishart against torch's
registered closed forms (and the generic exponential-family one): values (inf where p's support is not inside q's),
gradients w.r.t. every parameter; the pairs torch leaves unimplemented raise as torch's."""
import numpy as np
import pytest

import family_checks as fc
import mlx_compat.distributions as mcd
from family_checks import td
from helpers import assert_same, mc, torch

_rng = np.random.default_rng(24)  # this file's own, so its parameters do not depend on which tests ran first


def f32(*shape, low=-1.0, high=1.0):
    return _rng.uniform(low, high, shape).astype(np.float32)

P = {"a": f32(3, 4, low=0.3, high=3.0), "b": f32(3, 4, low=0.3, high=3.0), "c": f32(3, 4, low=0.5, high=4.0),
     "d": f32(3, 4, low=0.5, high=2.0), "u": f32(3, 4, low=0.05, high=0.45), "v": f32(3, 4, low=0.55, high=0.95),
     "x": f32(3, 4), "W": f32(3, 4, 2), "W2": f32(3, 4, 3), "tril": np.tril(f32(3, 4, 4, low=-0.4, high=0.4))
     + 1.5 * np.eye(4, dtype=np.float32), "df": f32(3, low=4.0, high=9.0), "cov": f32(3, 4, 4)}
P["cov"] = P["cov"] @ np.swapaxes(P["cov"], -1, -2) / 4 + np.eye(4, dtype=np.float32)

FAMILIES = {
    "ContinuousBernoulli": lambda D, p: D.ContinuousBernoulli(probs=p["u"]),
    "ContinuousBernoulli2": lambda D, p: D.ContinuousBernoulli(logits=p["x"]),
    "Beta": lambda D, p: D.Beta(p["a"], p["b"]),
    "Exponential": lambda D, p: D.Exponential(p["c"]),
    "Gamma": lambda D, p: D.Gamma(p["a"], p["d"]),
    "Gumbel": lambda D, p: D.Gumbel(p["x"], p["d"]),
    "Laplace": lambda D, p: D.Laplace(p["x"], p["d"]),
    "Normal": lambda D, p: D.Normal(p["x"], p["d"]),
    "Pareto": lambda D, p: D.Pareto(p["d"], p["c"]),
    "Uniform": lambda D, p: D.Uniform(p["u"], p["v"]),
    "Uniform covering": lambda D, p: D.Uniform(-p["d"], 1 + p["d"]),
    "LowRank": lambda D, p: D.LowRankMultivariateNormal(p["x"], p["W"], p["d"]),
    "LowRank2": lambda D, p: D.LowRankMultivariateNormal(p["b"], p["W2"], p["c"]),
    "LowRank unbatched": lambda D, p: D.LowRankMultivariateNormal(p["x"][0], p["W"][0], p["d"][0]),
    "MVN": lambda D, p: D.MultivariateNormal(p["b"], scale_tril=p["tril"]),
    "MVN unbatched": lambda D, p: D.MultivariateNormal(p["b"][0], scale_tril=p["tril"][0]),
    "MVN small": lambda D, p: D.MultivariateNormal(p["b"][:, :3], scale_tril=p["tril"][:, :3, :3]),
    "InverseGamma": lambda D, p: D.InverseGamma(p["a"], p["d"]),
    "InverseGamma2": lambda D, p: D.InverseGamma(p["c"], p["b"]),
    "Wishart": lambda D, p: D.Wishart(p["df"], scale_tril=p["tril"]),
    "Wishart2": lambda D, p: D.Wishart(p["df"] + 1, covariance_matrix=p["cov"]),
    "Weibull": lambda D, p: D.Weibull(p["d"], p["c"]),
    "Weibull2": lambda D, p: D.Weibull(p["c"], p["a"]),
    "Kumaraswamy": lambda D, p: D.Kumaraswamy(p["a"], p["b"]),
    "VonMises": lambda D, p: D.VonMises(p["x"], p["c"]),
    "NegativeBinomial": lambda D, p: D.NegativeBinomial(p["c"], probs=p["u"]),
    "Multinomial": lambda D, p: D.Multinomial(3, probs=p["v"]),
    "RelaxedBernoulli": lambda D, p: D.RelaxedBernoulli(p["d"][0, 0], probs=p["u"]),
    "FisherSnedecor": lambda D, p: D.FisherSnedecor(p["c"], p["d"]),
    "GeneralizedPareto": lambda D, p: D.GeneralizedPareto(p["x"], p["d"], p["u"]),
}

CB = "ContinuousBernoulli"
PAIRS = [
    (CB, "ContinuousBernoulli2"), ("ContinuousBernoulli2", CB), (CB, "Exponential"), (CB, "Normal"), (CB, "Pareto"),
    (CB, "Uniform"), (CB, "Uniform covering"), ("Beta", CB), ("Exponential", CB), ("Gamma", CB), ("Gumbel", CB),
    ("Laplace", CB), ("Normal", CB), ("Pareto", CB), ("Uniform", CB), ("Uniform covering", CB),
    ("LowRank", "LowRank2"), ("LowRank2", "LowRank"), ("LowRank unbatched", "LowRank"), ("MVN", "LowRank"),
    ("MVN unbatched", "LowRank2"), ("LowRank", "MVN"), ("LowRank unbatched", "MVN"), ("LowRank", "MVN unbatched"),
    ("InverseGamma", "InverseGamma2"), ("Wishart", "Wishart2"), ("Wishart2", "Wishart"),
]
MISSING = [("MVN small", "LowRank"), ("LowRank", "MVN small"), ("Weibull", "Weibull2"), ("Kumaraswamy", "Beta"),
           ("VonMises", "VonMises"), ("NegativeBinomial", "NegativeBinomial"), ("Multinomial", "Multinomial"),
           ("RelaxedBernoulli", "RelaxedBernoulli"), ("FisherSnedecor", "FisherSnedecor"),
           ("GeneralizedPareto", "GeneralizedPareto"), (CB, "Beta"), (CB, "Gamma"), ("Weibull", "InverseGamma")]


def _params(lib, grad, dtype=None):
    return {k: lib.tensor(v, requires_grad=grad, dtype=dtype) for k, v in P.items()}


def _torch_grads(make_p, make_q, w, dtype):
    tp = _params(torch, True, dtype)
    rt = td.kl_divergence(make_p(td, tp), make_q(td, tp))
    (torch.where(rt.isfinite(), rt, 0.0) * torch.tensor(w, dtype=dtype)).sum().backward()
    return {k: None if t.grad is None else t.grad.to(torch.float32) for k, t in tp.items()}


@pytest.mark.parametrize("p_name,q_name", PAIRS + MISSING)
def test_kl(p_name, q_name):
    """Values equal torch's; each gradient is within 1e-5 (relative to its largest entry) of torch's, or, where
    torch's float32 gradient itself is further than that from its float64 one (ContinuousBernoulli's closed forms
    cancel digits near p = 1/2), within twice torch's float32 error of the float64 gradient (plus 1e-5)."""
    tp, mp = _params(torch, True), _params(mc, True)
    make_p, make_q = FAMILIES[p_name], FAMILIES[q_name]
    (rt, et) = fc.outcome(lambda: td.kl_divergence(make_p(td, tp), make_q(td, tp)))
    (rm, em) = fc.outcome(lambda: mcd.kl_divergence(make_p(mcd, mp), make_q(mcd, mp)))
    if et is not None:
        assert (p_name, q_name) in MISSING, et
        assert type(em) is type(et) and str(em) == str(et), (em, et)
        return
    assert (p_name, q_name) in PAIRS
    assert em is None, em
    assert_same(rm, rt, rtol=1e-5, atol=1e-5)
    if not rt.requires_grad:  # every entry infinite
        assert not rm.requires_grad and not bool(rt.isfinite().any())
        return
    w = fc.rng.standard_normal(tuple(rt.shape)).astype(np.float32)
    (mc.where(rm.isfinite(), rm, 0.0) * mc.tensor(w)).sum().backward()
    g32 = _torch_grads(make_p, make_q, w, torch.float32)
    g64 = _torch_grads(make_p, make_q, w, torch.float64)
    for k in tp:
        if g32[k] is None:
            assert mp[k].grad is None or not mp[k].grad.abs().sum().item(), k
            continue
        scale = max(float(g32[k].abs().max()), 1.0)
        torch_error = float((g32[k] - g64[k]).abs().max())
        ours = torch.tensor(mp[k].grad.numpy())
        if float((ours - g32[k]).abs().max()) > 1e-5 * scale:
            assert float((ours - g64[k]).abs().max()) <= 2 * torch_error + 1e-5 * scale, (k, ours, g32[k], g64[k])


def test_registrations_match_torch():
    """Every (p, q) pair torch registers is registered here, and no other."""
    from mlx_compat.distributions import kl as mkl
    from torch.distributions import kl as tkl
    assert {(p.__name__, q.__name__) for p, q in tkl._KL_REGISTRY} == {
        (p.__name__, q.__name__) for p, q in mkl._KL_REGISTRY}
