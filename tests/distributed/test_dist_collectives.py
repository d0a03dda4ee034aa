"""Collectives of mlx_compat.distributed on 2 and 4 local processes (MLX's ring backend over 127.0.0.1, started by
the launcher), every op and dtype, against numpy on the same per-rank inputs."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dist_procs  # noqa: E402
from collectives_worker import DTYPES, inputs  # noqa: E402

TOL = {"float16": 2e-3, "bfloat16": 2e-2, "float32": 1e-6, "float64": 1e-12}


def cast(a, dt):
    """numpy's value of data `a` stored in dtype `dt` (bfloat16 rounded to nearest even, as a cast does)."""
    if dt == "bfloat16":
        import mlx_compat as torch

        return torch.from_numpy(np.asarray(a, np.float32)).to(torch.bfloat16).float().numpy().astype(np.float64)
    if dt == "float16":
        return np.asarray(a).astype(np.float16).astype(np.float64)
    return np.asarray(a).astype(dt)


def check(got, want, dt):
    if dt in TOL:
        np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=TOL[dt],
                                   atol=TOL[dt])
    else:
        assert got.dtype == np.dtype(dt), (got.dtype, dt)
        np.testing.assert_array_equal(got, want)


@pytest.fixture(scope="module", params=[2, 4])
def results(request, tmp_path_factory):
    n = request.param
    out = str(tmp_path_factory.mktemp(f"coll{n}") / "res_RANK.npz")
    rc, log = dist_procs.launch(n, [os.path.join(dist_procs.HERE, "collectives_worker.py"), out], timeout=120)
    assert rc == 0, log
    return n, [dict(np.load(out.replace("RANK", str(r)))) for r in range(n)]


@pytest.mark.parametrize("dt", DTYPES)
def test_all_reduce(results, dt):
    n, res = results
    xs = [cast(inputs(r, dt), dt) for r in range(n)]
    want = {"SUM": sum(xs[1:], xs[0]) if dt != "bool" else np.logical_or.reduce(xs),
            "MAX": np.maximum.reduce(xs), "MIN": np.minimum.reduce(xs),
            "PRODUCT": np.prod(np.stack(xs), axis=0).astype(xs[0].dtype) if dt != "bool" else
            np.logical_and.reduce(xs)}
    if dt in TOL:
        want["AVG"] = sum(xs) / n
    for name, w in want.items():
        for r in range(n):
            check(res[r][f"all_reduce.{name}.{dt}"], w, dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_all_reduce_view_and_async(results, dt):
    n, res = results
    xs = [cast(inputs(r, dt), dt) for r in range(n)]
    for r in range(n):
        want = xs[r].copy()
        want[:, 1] = np.maximum.reduce([x[:, 1] for x in xs])
        check(res[r][f"all_reduce_view.{dt}"], want, dt)
        check(res[r][f"all_reduce_async.{dt}"], np.maximum.reduce(xs), dt)
        assert bool(res[r][f"all_reduce_async_done.{dt}"])


@pytest.mark.parametrize("dt", DTYPES)
def test_broadcast_and_gathers(results, dt):
    n, res = results
    xs = [cast(inputs(r, dt), dt) for r in range(n)]
    for r in range(n):
        # broadcast is bit-exact: compare exactly even for floats
        np.testing.assert_array_equal(res[r][f"broadcast.{dt}"], xs[n - 1])
        np.testing.assert_array_equal(res[r][f"all_gather.{dt}"], np.stack(xs))
        np.testing.assert_array_equal(res[r][f"all_gather_into_tensor.{dt}"], np.concatenate(xs))
        np.testing.assert_array_equal(res[r][f"all_gather_into_tensor_stacked.{dt}"], np.stack(xs))
        np.testing.assert_array_equal(res[r][f"recv.{dt}"], xs[(r - 1) % n])


@pytest.mark.parametrize("dt", DTYPES)
def test_reduce_scatter_tensor(results, dt):
    n, res = results
    bigs = [cast(inputs(r, dt, (n * 2, 3), salt=1), dt) for r in range(n)]
    total = {"SUM": sum(bigs[1:], bigs[0]) if dt != "bool" else np.logical_or.reduce(bigs),
             "MAX": np.maximum.reduce(bigs)}
    for name, w in total.items():
        for r in range(n):
            check(res[r][f"reduce_scatter_tensor.{name}.{dt}"], w[2 * r:2 * r + 2], dt)


def test_scalar_and_objects(results):
    n, res = results
    for r in range(n):
        assert res[r]["scalar_sum"].shape == ()
        assert float(res[r]["scalar_sum"]) == n * (n + 1) / 2
        assert list(res[r]["objects"]) == ["r" * (k + 1) for k in range(n)]
