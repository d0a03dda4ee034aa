"""torch.distributions.transforms and constraint_registry against torch: each transform's forward, inverse,
log_abs_det_jacobian (values and gradients), sign, bijective, domain / codomain, event_dim, forward_shape /
inverse_shape, equality, caching and repr; biject_to / transform_to for every constraint; the new constraints
(corr_cholesky, positive_semidefinite, cat, stack) and the tril <-> vector helpers."""
import math

import numpy as np
import pytest

import family_checks as fc
import mlx_compat.distributions as mcd
from family_checks import f32, td
from helpers import assert_same, mc, torch

X = f32(2, 3, low=-2, high=2)
SQ = f32(2, 3, 3, low=-1, high=1)

# name -> (builder(T, L) with T the transforms module and L the tensor library, an input in the domain)
TRANSFORMS = {
    "Exp": (lambda T, L: T.ExpTransform(), X),
    "Affine numbers": (lambda T, L: T.AffineTransform(1.5, -2.0), X),
    "Affine tensors": (lambda T, L: T.AffineTransform(L.tensor(X[0]), L.tensor(X[1] + 3)), X),
    "Affine event_dim 1": (lambda T, L: T.AffineTransform(0.5, L.tensor(X[1] + 3), event_dim=1), X),
    "Affine zero scale": (lambda T, L: T.AffineTransform(0.5, 0.0), X),
    "Sigmoid": (lambda T, L: T.SigmoidTransform(), X * 2),  # logit of a saturated sigmoid is ill-conditioned
    "Softplus": (lambda T, L: T.SoftplusTransform(), X * 5),
    "Tanh": (lambda T, L: T.TanhTransform(), X),
    "Abs": (lambda T, L: T.AbsTransform(), X),
    "Power": (lambda T, L: T.PowerTransform(L.tensor(X[0])), np.abs(X) + 0.1),
    "Power number": (lambda T, L: T.PowerTransform(2.5), np.abs(X) + 0.1),
    "Softmax": (lambda T, L: T.SoftmaxTransform(), X),
    "StickBreaking": (lambda T, L: T.StickBreakingTransform(), X),
    "LowerCholesky": (lambda T, L: T.LowerCholeskyTransform(), SQ),
    "PositiveDefinite": (lambda T, L: T.PositiveDefiniteTransform(), SQ),
    "CorrCholesky": (lambda T, L: T.CorrCholeskyTransform(), X),
    "Compose": (lambda T, L: T.ComposeTransform([T.AffineTransform(0.3, 2.0), T.ExpTransform(),
                                                 T.PowerTransform(0.5)]), X),
    "Compose event dims": (lambda T, L: T.ComposeTransform([T.ExpTransform(), T.AffineTransform(0.0, 0.5, event_dim=1),
                                                            T.StickBreakingTransform()]), X),
    "Compose empty": (lambda T, L: T.ComposeTransform([]), X),
    "identity": (lambda T, L: T.identity_transform, X),
    "Inverse of Exp": (lambda T, L: T.ExpTransform().inv, np.abs(X) + 0.1),
    "Inverse of Sigmoid": (lambda T, L: T.SigmoidTransform().inv, 1 / (1 + np.exp(-X))),
    "Inverse of StickBreaking": (lambda T, L: T.StickBreakingTransform().inv,
                                 np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]], np.float32)),
    "Independent": (lambda T, L: T.IndependentTransform(T.ExpTransform(), 1), X),
    "Independent 2": (lambda T, L: T.IndependentTransform(T.SigmoidTransform(), 2), X),
    "Reshape": (lambda T, L: T.ReshapeTransform((3,), (3, 1)), X),
    "Cat": (lambda T, L: T.CatTransform([T.ExpTransform(), T.AffineTransform(1.0, 3.0)], dim=-1, lengths=[1, 2]), X),
    "Cat dim 0": (lambda T, L: T.CatTransform([T.ExpTransform(), T.SigmoidTransform()], dim=0), X),
    "Stack": (lambda T, L: T.StackTransform([T.ExpTransform(), T.TanhTransform(), T.AffineTransform(0.0, 2.0)],
                                            dim=1), X),
    "CDF Normal": (lambda T, L: T.CumulativeDistributionTransform(
        (mcd if L is mc else td).Normal(L.tensor(X[0]), L.tensor(np.abs(X[1]) + 0.5))), X),
}

OPS = {
    "forward": lambda t, x: t(x),
    "inverse": lambda t, x: t.inv(t(x)),
    "log_abs_det_jacobian": lambda t, x: t.log_abs_det_jacobian(x, t(x)),
    "inv log_abs_det_jacobian": lambda t, x: t.inv.log_abs_det_jacobian(t(x), x),
    "sign": lambda t, x: t.sign,
}


def _pair(name, grad=False):
    make, x = TRANSFORMS[name]
    xt, xm = torch.tensor(x, requires_grad=grad), mc.tensor(x, requires_grad=grad)
    return make(td.transforms, torch), make(mcd.transforms, mc), xt, xm


def _same(a, b):
    if isinstance(b, torch.Tensor):
        assert_same(a, b, rtol=1e-5, atol=1e-5)
    else:
        assert a == b and type(a) is type(b)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("name", TRANSFORMS)
def test_values(name, op):
    tt, tm, xt, xm = _pair(name)
    (rt, et), (rm, em) = fc.outcome(lambda: OPS[op](tt, xt)), fc.outcome(lambda: OPS[op](tm, xm))
    if et is not None:
        assert type(em) is type(et) and str(em) == str(et), (em, et)
        return
    assert em is None, em
    _same(rm, rt)


@pytest.mark.parametrize("op", ["forward", "log_abs_det_jacobian", "inverse"])
@pytest.mark.parametrize("name", TRANSFORMS)
def test_gradients(name, op):
    """Gradients w.r.t. the input of forward, log |det J| and the round trip equal torch's."""
    tt, tm, xt, xm = _pair(name, grad=True)
    rt, et = fc.outcome(lambda: OPS[op](tt, xt))
    if et is not None:
        return
    rm = OPS[op](tm, xm)
    if not rt.requires_grad:
        assert not rm.requires_grad
        return
    w = fc.rng.standard_normal(tuple(rt.shape)).astype(np.float32)
    finite = np.isfinite(rt.detach().numpy())
    (torch.where(torch.tensor(finite), rt, 0.0) * torch.tensor(w * finite)).sum().backward()
    (mc.where(mc.tensor(finite), rm, 0.0) * mc.tensor(w * finite)).sum().backward()
    scale = float(xt.grad.abs().max())
    assert_same(xm.grad, xt.grad, rtol=1e-5, atol=max(1e-6, 1e-5 * scale))


@pytest.mark.parametrize("name", TRANSFORMS)
def test_attributes(name):
    tt, tm, xt, _ = _pair(name)
    assert repr(tm) == repr(tt)
    assert repr(tm.inv) == repr(tt.inv)
    for attr in ("bijective", "event_dim"):
        _compare_attr(tt, tm, attr)
        _compare_attr(tt.inv, tm.inv, attr)
    for side in ("domain", "codomain"):
        ct, cm = getattr(tt, side), getattr(tm, side)
        assert repr(cm) == repr(ct) and cm.event_dim == ct.event_dim and cm.is_discrete == ct.is_discrete
    assert tm.inv.inv is tm and repr(tm.inv.domain) == repr(tm.codomain)
    for shape in [tuple(xt.shape), (5,) + tuple(xt.shape)]:
        for method in ("forward_shape", "inverse_shape"):
            (rt, et), (rm, em) = (fc.outcome(lambda: getattr(tt, method)(torch.Size(shape))),
                                  fc.outcome(lambda: getattr(tm, method)(mc.Size(shape))))
            assert (et is None) == (em is None) and (em is None or type(em) is type(et)), (em, et)
            if et is None:
                assert tuple(rm) == tuple(rt)


def _compare_attr(tt, tm, attr):
    (rt, et), (rm, em) = fc.outcome(lambda: getattr(tt, attr)), fc.outcome(lambda: getattr(tm, attr))
    assert (et is None) == (em is None) and (em is None or type(em) is type(et)), (attr, em, et)
    if et is None:
        assert rm == rt, attr


def test_equality():
    T = mcd.transforms
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform() != T.SigmoidTransform()
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    assert T.AffineTransform(mc.tensor([1.0]), 2.0) == T.AffineTransform(mc.tensor([1.0]), 2.0)
    assert T.PowerTransform(2.0) == T.PowerTransform(2.0) != T.PowerTransform(3.0)
    assert T.ComposeTransform([T.ExpTransform()]) == T.ComposeTransform([T.ExpTransform()])
    assert T.ExpTransform().inv == T.ExpTransform().inv and T.ExpTransform().inv != T.ExpTransform()
    t = T.TanhTransform()
    assert t == t and T.CorrCholeskyTransform() != T.CorrCholeskyTransform()  # identity, as torch's base __eq__


def test_caching():
    T, TT = mcd.transforms, td.transforms
    for cache in (0, 1):
        for t in (T.ExpTransform(cache_size=cache), T.AffineTransform(0.0, 2.0, cache_size=cache),
                  T.ComposeTransform([T.ExpTransform()], cache_size=cache), T.PowerTransform(2.0, cache_size=cache)):
            x = mc.tensor([0.5, 1.0])
            y = t(x)
            assert (t.inv(y) is x) == bool(cache)
            assert (t(x) is y) == bool(cache)
    t = T.ExpTransform()
    assert t.with_cache(0) is t and t.with_cache(1)._cache_size == 1 and t.inv.with_cache(1)._cache_size == 1
    assert T.IndependentTransform(T.ExpTransform(), 1).with_cache(1).base_transform._cache_size == 1
    fc.compare(lambda: TT.Transform(cache_size=2), lambda: T.Transform(cache_size=2))
    assert T.CorrCholeskyTransform().with_cache(1)._cache_size == TT.CorrCholeskyTransform().with_cache(1)._cache_size
    assert T.CumulativeDistributionTransform(mcd.Normal(0.0, 1.0)).with_cache(1)._cache_size == 1
    # a cached transform gives back the input exactly, where the computed inverse would round
    x = mc.tensor([30.0])
    c = T.SigmoidTransform(cache_size=1)
    assert c.inv(c(x)) is x


TRANSFORM_ERRORS = {
    "Reshape numel": lambda T, L: T.ReshapeTransform((3,), (2,)),
    "Reshape shape": lambda T, L: T.ReshapeTransform((3,), (3, 1)).forward_shape((2, 4)),
    "StickBreaking 0-d shape": lambda T, L: T.StickBreakingTransform().forward_shape(()),
    "CorrCholesky bad length": lambda T, L: T.CorrCholeskyTransform().forward_shape((4,)),
    "CorrCholesky not square": lambda T, L: T.CorrCholeskyTransform().inverse_shape((2, 3)),
    "Cat wrong length": lambda T, L: T.CatTransform([T.ExpTransform()], dim=0, lengths=[2])(L.zeros(3)),
    "Cat lengths mismatch": lambda T, L: T.CatTransform([T.ExpTransform()], dim=0, lengths=[1, 2]),
    "Cat not transforms": lambda T, L: T.CatTransform([1]),
    "Stack wrong count": lambda T, L: T.StackTransform([T.ExpTransform()], dim=0)(L.zeros(3)),
    "Stack bad dim": lambda T, L: T.StackTransform([T.ExpTransform()], dim=3)(L.zeros(3)),
    "Independent too few dims": lambda T, L: T.IndependentTransform(T.ExpTransform(), 2)(L.zeros(3)),
    "event_dim mismatch": lambda T, L: T.CorrCholeskyTransform().inv.event_dim,
    "with_cache not implemented": lambda T, L: T.PowerTransform.__mro__[1].with_cache(T.PowerTransform(2.0), 1),
    "Transform abstract": lambda T, L: T.Transform()(L.zeros(2)),
    "vec_to_tril bad length": lambda T, L: (mcd if L is mc else td).utils.vec_to_tril_matrix(L.zeros(4)),
    "tril_to_vec bad diag": lambda T, L: (mcd if L is mc else td).utils.tril_matrix_to_vec(L.zeros(3, 3), diag=3),
}


@pytest.mark.parametrize("name", TRANSFORM_ERRORS)
def test_errors(name):
    fc.compare(lambda: TRANSFORM_ERRORS[name](td.transforms, torch), lambda: TRANSFORM_ERRORS[name](mcd.transforms, mc))


@pytest.mark.parametrize("diag", [-2, -1, 0, 1])
def test_tril_vector_round_trip(diag):
    m = f32(2, 4, 4)
    vt = td.utils.tril_matrix_to_vec(torch.tensor(m), diag=diag)
    vm = mcd.utils.tril_matrix_to_vec(mc.tensor(m), diag=diag)
    assert_same(vm, vt)
    assert_same(mcd.utils.vec_to_tril_matrix(vm, diag=diag), td.utils.vec_to_tril_matrix(vt, diag=diag))


# --- constraint registries ---

CONSTRAINTS = {
    "real": lambda C, L: C.real,
    "positive": lambda C, L: C.positive,
    "nonnegative": lambda C, L: C.nonnegative,
    "greater_than": lambda C, L: C.greater_than(1.5),
    "greater_than_eq": lambda C, L: C.greater_than_eq(L.tensor([-1.0, 0.0, 2.0])),
    "less_than": lambda C, L: C.less_than(-0.5),
    "unit_interval": lambda C, L: C.unit_interval,
    "interval": lambda C, L: C.interval(-2.0, 3.0),
    "interval tensors": lambda C, L: C.interval(L.tensor([0.0, 1.0, 2.0]), L.tensor([1.0, 2.0, 5.0])),
    "half_open_interval": lambda C, L: C.half_open_interval(0.0, 1.0),
    "simplex": lambda C, L: C.simplex,
    "real_vector": lambda C, L: C.real_vector,
    "independent positive": lambda C, L: C.independent(C.positive, 1),
    "lower_cholesky": lambda C, L: C.lower_cholesky,
    "positive_definite": lambda C, L: C.positive_definite,
    "positive_semidefinite": lambda C, L: C.positive_semidefinite,
    "corr_cholesky": lambda C, L: C.corr_cholesky,
    "cat": lambda C, L: C.cat([C.positive, C.real, C.unit_interval], dim=-1, lengths=[1, 1, 1]),
    "stack": lambda C, L: C.stack([C.positive, C.interval(0.0, 2.0)], dim=0),
    "boolean": lambda C, L: C.boolean,
    "nonnegative_integer": lambda C, L: C.nonnegative_integer,
    "dependent": lambda C, L: C.dependent,
}


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", CONSTRAINTS)
def test_registries(name, registry):
    """The same transform (by repr), the same values on unconstrained inputs, which land in the constraint."""
    ct, cm = CONSTRAINTS[name](td.constraints, torch), CONSTRAINTS[name](mcd.constraints, mc)
    (tt, et), (tm, em) = fc.outcome(lambda: getattr(td, registry)(ct)), fc.outcome(lambda: getattr(mcd, registry)(cm))
    if et is not None:
        assert type(em) is type(et) and str(em) == str(et), (em, et)
        return
    assert em is None, em
    assert repr(tm) == repr(tt)
    shape = (2, 3, 3) if name in ("lower_cholesky", "positive_definite", "positive_semidefinite") else (2, 3)
    u = f32(*shape, low=-2, high=2)
    yt, ym = tt(torch.tensor(u)), tm(mc.tensor(u))
    assert_same(ym, yt, rtol=1e-5, atol=1e-5)
    assert bool(cm.check(ym).all())
    if tt.bijective:
        assert_same(tm.inv(ym), tt.inv(yt), rtol=1e-4, atol=1e-4)
        assert_same(tm.log_abs_det_jacobian(mc.tensor(u), ym), tt.log_abs_det_jacobian(torch.tensor(u), yt),
                    rtol=1e-5, atol=1e-5)


def test_register_custom_and_errors():
    registry = mcd.constraint_registry.ConstraintRegistry()

    class Mine(mcd.constraints.Constraint):
        pass

    @registry.register(Mine)
    def _factory(constraint):
        return mcd.ExpTransform()

    assert isinstance(registry(Mine()), mcd.ExpTransform)
    fc.compare(lambda: td.constraint_registry.ConstraintRegistry().register(3, lambda c: None),
               lambda: mcd.constraint_registry.ConstraintRegistry().register(3, lambda c: None))
    fc.compare(lambda: td.biject_to(td.constraints.lower_cholesky),
               lambda: mcd.biject_to(mcd.constraints.lower_cholesky))


NEW_CONSTRAINTS = {
    "corr_cholesky": (lambda C: C.corr_cholesky, [[[1.0, 0.0], [0.6, 0.8]], [[1.0, 0.0], [0.6, 0.9]],
                                                 [[1.0, 0.0], [0.6, -0.8]]]),
    "positive_semidefinite": (lambda C: C.positive_semidefinite, [[[1.0, 1.0], [1.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]),
    "cat": (lambda C: C.cat([C.positive, C.unit_interval], dim=-1, lengths=[2, 1]),
            [[1.0, 2.0, 0.5], [1.0, -2.0, 1.5]]),
    "stack": (lambda C: C.stack([C.positive, C.unit_interval], dim=0), [[1.0, -2.0], [0.5, 2.0]]),
    "stack negative dim": (lambda C: C.stack([C.positive, C.simplex], dim=-1), [[1.0, 0.5], [-1.0, 0.5]]),
}


@pytest.mark.parametrize("name", NEW_CONSTRAINTS)
def test_new_constraints(name):
    make, v = NEW_CONSTRAINTS[name]
    ct, cm = make(td.constraints), make(mcd.constraints)
    _compare_attr(ct, cm, "is_discrete")
    _compare_attr(ct, cm, "event_dim")
    fc.compare(lambda: ct.check(torch.tensor(v)), lambda: cm.check(mc.tensor(v)))


def test_corr_cholesky_round_trip():
    t = mcd.CorrCholeskyTransform()
    x = mc.tensor(f32(4, 6, low=-3, high=3))
    y = t(x)
    assert tuple(y.shape) == (4, 4, 4) and bool(mcd.constraints.corr_cholesky.check(y).all())
    corr = (y @ y.mT).diagonal(dim1=-2, dim2=-1)
    assert np.allclose(corr.numpy(), 1, atol=1e-5)
    assert np.allclose(t.inv(y).numpy(), x.numpy(), atol=1e-4)
    assert math.isfinite(float(t.log_abs_det_jacobian(x, y).sum()))
