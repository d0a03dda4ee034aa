"""Note [Target bounds on the host] and Note [compiled cross entropy]: class-index targets are checked as torch
checks them (IndexError at the call), whether they came from the host or were computed on the device; the
compiled forward and backward give torch's values and gradients for every reduction and ignore_index."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
mc = pytest.importorskip("mlx_compat")


def _both(fn_t, fn_m):
    with pytest.raises(Exception) as et:
        fn_t()
    with pytest.raises(Exception) as em:
        fn_m()
    assert type(em.value) is type(et.value), (em.value, et.value)
    assert str(em.value) == str(et.value)


@pytest.mark.parametrize("bad", [10, -3, 57])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_bad_host_targets_raise_torchs_error(bad, dtype):
    x = np.random.default_rng(0).standard_normal((4, 10)).astype(np.float32)
    y = np.array([1, bad, 3, 2], dtype=np.int64)
    _both(lambda: torch.nn.functional.cross_entropy(torch.tensor(x).to(getattr(torch, dtype)), torch.tensor(y)),
          lambda: mc.nn.functional.cross_entropy(mc.tensor(x).to(getattr(mc, dtype)), mc.tensor(y)))


def test_bad_device_targets_raise_torchs_error():
    x = np.random.default_rng(1).standard_normal((4, 10)).astype(np.float32)
    y = np.array([[1, 2, 3, 4, 5], [6, 7, 8, 9, 12]], dtype=np.int64)
    _both(lambda: torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(y)[:, 1:].reshape(-1) * 1),
          lambda: mc.nn.functional.cross_entropy(mc.tensor(x), mc.tensor(y)[:, 1:].reshape(-1) * 1))


def test_ignored_target_outside_the_range_is_fine():
    x = np.random.default_rng(2).standard_normal((3, 5)).astype(np.float32)
    y = np.array([1, -100, 4], dtype=np.int64)
    t = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(y))
    m = mc.nn.functional.cross_entropy(mc.tensor(x), mc.tensor(y))
    assert m.item() == pytest.approx(t.item(), rel=1e-6)


def test_a_checked_target_is_read_once_per_class_count(monkeypatch):
    """A target array found in bounds is not read on the host again while it lives (its check is remembered per
    class count and ignore_index); a smaller class count or another ignore_index checks it again, as torch would."""
    import gc

    from mlx_compat._ops import indexing

    reads = []
    real = indexing._host_values
    monkeypatch.setattr(indexing, "_host_values", lambda tv: (reads.append(1), real(tv))[1])
    x = np.random.default_rng(4).standard_normal((4, 10)).astype(np.float32)
    y = np.array([1, 9, 3, -100], dtype=np.int64)
    ym = mc.tensor(y)
    for _ in range(3):
        mc.nn.functional.cross_entropy(mc.tensor(x), ym)
    assert len(reads) == 1
    _both(lambda: torch.nn.functional.cross_entropy(torch.tensor(x[:, :9]), torch.tensor(y)),
          lambda: mc.nn.functional.cross_entropy(mc.tensor(x[:, :9]), ym))
    _both(lambda: torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(y), ignore_index=3),
          lambda: mc.nn.functional.cross_entropy(mc.tensor(x), ym, ignore_index=3))
    ym.add_(1)  # a new array: read again, and 10 is out of bounds
    _both(lambda: torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(y) + 1),
          lambda: mc.nn.functional.cross_entropy(mc.tensor(x), ym))
    z = mc.tensor(np.array([0, 1, 2, 3], dtype=np.int64))
    mc.nn.functional.cross_entropy(mc.tensor(x), z)
    key = id(z._mx)
    assert key in indexing._checked
    del z
    gc.collect()
    assert key not in indexing._checked  # an entry leaves with its array


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [-100, 2])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float64"])
@pytest.mark.parametrize("shape", [(6, 5), (17, 33)])
def test_compiled_forward_backward_match_torch(reduction, ignore_index, dtype, shape):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(np.float32) * 3
    y = rng.integers(0, shape[1], shape[0]).astype(np.int64)
    y[1] = 2
    xt = torch.tensor(x).to(getattr(torch, dtype)).requires_grad_(True)
    xm = mc.tensor(x).to(getattr(mc, dtype)).requires_grad_(True)
    lt = torch.nn.functional.cross_entropy(xt, torch.tensor(y), reduction=reduction, ignore_index=ignore_index)
    lm = mc.nn.functional.cross_entropy(xm, mc.tensor(y), reduction=reduction, ignore_index=ignore_index)
    gt = torch.linspace(0.5, 1.5, lt.numel()).reshape(lt.shape).to(lt.dtype)
    lt.backward(gt)
    lm.backward(mc.tensor(gt.float().numpy()).to(lm.dtype))
    # a bfloat16 sum of 17 terms differs from torch by an ulp or two (its accumulation order; so before compiling)
    tol = dict(rtol=2.5e-2, atol=1e-2) if dtype == "bfloat16" else dict(rtol=1e-6, atol=1e-7)
    assert lm.dtype == getattr(mc, dtype) and tuple(lm.shape) == tuple(lt.shape)
    np.testing.assert_allclose(lm.float().detach().numpy(), lt.float().detach().numpy(), **tol)
    np.testing.assert_allclose(xm.grad.float().numpy(), xt.grad.float().numpy(), **tol)


def test_uint8_targets():
    x = np.random.default_rng(4).standard_normal((4, 6)).astype(np.float32)
    y = np.array([0, 5, 3, 1], dtype=np.uint8)
    t = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(y))
    m = mc.nn.functional.cross_entropy(mc.tensor(x), mc.tensor(y))
    assert m.item() == pytest.approx(t.item(), rel=1e-6)
