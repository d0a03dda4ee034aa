"""gather/scatter accept int32 indices as torch does (values compared with torch)."""
import numpy as np
import pytest

from helpers import assert_same, mc, torch


@pytest.mark.parametrize("idx_dtype", ["int32", "int64"])
def test_gather_scatter_index_dtypes(idx_dtype):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    idx = np.array([[0, 3], [1, 1], [2, 0]], dtype=idx_dtype)
    xt, xm = torch.from_numpy(x), mc.from_numpy(x)
    it, im = torch.from_numpy(idx), mc.from_numpy(idx)
    assert_same(mc.gather(xm, 1, im), torch.gather(xt, 1, it))
    assert_same(xm.scatter(1, im, 7.0), xt.scatter(1, it, 7.0))
