"""gather/scatter/index_select against torch: int32 indices, empty and 0-d cases, negative-index errors, out= dtype
rules (values and exception types compared with torch); and addmm_."""
import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, torch


@pytest.mark.parametrize("idx_dtype", ["int32", "int64"])
def test_gather_scatter_index_dtypes(idx_dtype):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    idx = np.array([[0, 3], [1, 1], [2, 0]], dtype=idx_dtype)
    xt, xm = torch.from_numpy(x), mc.from_numpy(x)
    it, im = torch.from_numpy(idx), mc.from_numpy(idx)
    assert_same(mc.gather(xm, 1, im), torch.gather(xt, 1, it))
    assert_same(xm.scatter(1, im, 7.0), xt.scatter(1, it, 7.0))


@pytest.mark.parametrize("shape,dim,index", [((5,), 0, np.zeros((0,), np.uint8)), ((5,), 0, np.zeros((2, 0), np.uint8)),
                                             ((), 0, np.array([0])), ((), 0, np.array(0)), ((4,), 0, np.array(3))])
def test_gather_empty_and_0d(shape, dim, index):
    a = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out = []
    for L in (torch, mc):
        x = L.from_numpy(a.copy()).requires_grad_()
        r = L.gather(x, dim, L.from_numpy(index.copy()))
        out.append((r, L.autograd.grad(r.sum(), x, allow_unused=True, materialize_grads=True)[0]))
    assert_same(out[1][0], out[0][0])
    assert_same(out[1][1], out[0][1])


def test_gather_rejects_negative_and_small_int_index():
    for idx in (np.array([-1]), np.array([1], np.int16)):
        try:
            torch.gather(torch.zeros(5), 0, torch.from_numpy(idx))
        except RuntimeError:
            pass
        with pytest.raises(RuntimeError):
            mc.gather(mc.zeros(5), 0, mc.from_numpy(idx))


def test_addmm_inplace():
    rng = np.random.default_rng(3)
    c, a, b = (rng.standard_normal(s).astype(np.float32) for s in ((2, 4), (2, 3), (3, 4)))
    out = []
    for L in (torch, mc):
        x = L.from_numpy(c.copy())
        r = x.addmm_(L.from_numpy(a.copy()), L.from_numpy(b.copy()), beta=0.5, alpha=2)
        assert r is x
        out.append(x)
    assert_same(out[1], out[0], rtol=1e-5)


@pytest.mark.parametrize("reduce", [None, "add", "multiply"])
def test_scatter_0d(reduce):
    for src in (2.5, "tensor"):
        out = []
        for L in (torch, mc):
            x = L.tensor(1.5)
            s = L.tensor(7.0) if src == "tensor" else src
            kw = {} if reduce is None else {"reduce": reduce}
            out.append((L.scatter(x, 0, L.tensor(0), s, **kw), L.scatter_add(x, 0, L.tensor(0), L.tensor(7.0))))
        assert_same(out[1][0], out[0][0])
        assert_same(out[1][1], out[0][1])


OUT_DTYPE_CASES = {
    "index_select": lambda T, x, o: T.index_select(x, 0, T.tensor([0, 1]), out=o),
    "gather": lambda T, x, o: T.gather(x, 1, T.tensor([[0], [1]]), out=o),
    "scatter": lambda T, x, o: T.scatter(x, 0, T.tensor([[0, 1, 0]]), T.ones(1, 3), out=o),
    "scatter_add": lambda T, x, o: T.scatter_add(x, 0, T.tensor([[0, 1, 0]]), T.ones(1, 3), out=o),
    "nonzero": lambda T, x, o: T.nonzero(x, out=o),
}


@pytest.mark.parametrize("name", list(OUT_DTYPE_CASES))
def test_out_of_another_dtype_raises(name):
    """out= must already have the result's dtype (torch raises RuntimeError rather than casting into it)."""
    f = OUT_DTYPE_CASES[name]
    assert_raises_same(lambda: f(torch, torch.arange(6.0).reshape(2, 3), torch.zeros(1, dtype=torch.float16)),
                       lambda: f(mc, mc.arange(6.0).reshape(2, 3), mc.zeros(1, dtype=mc.float16)))


@pytest.mark.parametrize("name", list(OUT_DTYPE_CASES))
def test_out_of_the_result_dtype_is_written(name):
    f = OUT_DTYPE_CASES[name]
    dt = "int64" if name == "nonzero" else "float32"
    ot, om = torch.zeros(0, dtype=getattr(torch, dt)), mc.zeros(0, dtype=getattr(mc, dt))
    rt = f(torch, torch.arange(6.0).reshape(2, 3), ot)
    rm = f(mc, mc.arange(6.0).reshape(2, 3), om)
    assert rm is om and rt is ot
    assert_same(om, ot)
