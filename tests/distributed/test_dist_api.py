"""mlx_compat.distributed in one process against torch.distributed: errors before init, env:// errors, the
one-process group's collectives (identities) and Work, ReduceOp/Backend names, argument errors' types."""
import datetime
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dist_procs  # noqa: E402

import mlx_compat as mc  # noqa: E402
import mlx_compat.distributed as mdist  # noqa: E402

torch = pytest.importorskip("torch")
tdist = torch.distributed


def _same_error(fn_m, fn_t):
    with pytest.raises(Exception) as et:
        fn_t()
    with pytest.raises(Exception) as em:
        fn_m()
    assert type(em.value) is type(et.value), (em.value, et.value)
    return str(em.value), str(et.value)


@pytest.fixture
def clean_env(monkeypatch):
    for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK", "MLX_HOSTFILE", "MLX_RANK",
              "MLX_WORLD_SIZE"):
        monkeypatch.delenv(k, raising=False)
    return monkeypatch


def test_before_init(clean_env):
    assert mdist.is_available() and not mdist.is_initialized() and not tdist.is_initialized()
    for name in ("get_rank", "get_world_size", "barrier", "get_backend"):
        m, t = _same_error(getattr(mdist, name), getattr(tdist, name))
        assert m == t
    m, t = _same_error(lambda: mdist.init_process_group("gloo"), lambda: tdist.init_process_group("gloo"))
    assert m == t


def test_names():
    for op in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        assert repr(getattr(mdist.ReduceOp, op)) .split(":")[0] == repr(getattr(tdist.ReduceOp, op)).split(":")[0]
        assert getattr(mdist.ReduceOp, op).name == op
    assert mdist.Backend("GLOO") == tdist.Backend("GLOO") == "gloo"
    assert mdist.Backend.NCCL == tdist.Backend.NCCL


@pytest.fixture
def both_groups(clean_env):
    port = dist_procs.free_port(2)
    for k, v in {"RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}.items():
        clean_env.setenv(k, v)
    mdist.init_process_group("gloo", timeout=datetime.timedelta(seconds=10))
    clean_env.setenv("MASTER_PORT", str(port + 1))
    tdist.init_process_group("gloo")
    yield
    mdist.destroy_process_group()
    tdist.destroy_process_group()
    assert not mdist.is_initialized()


def test_one_process_group(both_groups):
    assert (mdist.get_rank(), mdist.get_world_size(), mdist.get_backend()) == \
        (tdist.get_rank(), tdist.get_world_size(), tdist.get_backend())
    m, t = _same_error(lambda: mdist.init_process_group("gloo"), lambda: tdist.init_process_group("gloo"))
    assert m == t
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    for op in ("SUM", "MAX", "MIN", "PRODUCT"):
        mt, tt = mc.from_numpy(x.copy()), torch.from_numpy(x.copy())
        assert mdist.all_reduce(mt, getattr(mdist.ReduceOp, op)) is None
        tdist.all_reduce(tt, getattr(tdist.ReduceOp, op))
        np.testing.assert_array_equal(mt.numpy(), tt.numpy())
    mt = mc.from_numpy(x.copy())
    w = mdist.all_reduce(mt, async_op=True)
    tw = tdist.all_reduce(torch.from_numpy(x.copy()), async_op=True)
    assert w.wait() is tw.wait() is True
    assert w.is_completed() and tw.is_completed()
    mo, to = mc.zeros(2, 3), torch.zeros(2, 3)
    mdist.all_gather_single(mo, mc.from_numpy(x))
    tdist.all_gather_single(to, torch.from_numpy(x))
    np.testing.assert_array_equal(mo.numpy(), to.numpy())
    for name in ("all_gather_into_tensor", "reduce_scatter_tensor"):  # torch 2.13's deprecated names
        with pytest.warns(FutureWarning) as wt:
            getattr(tdist, name)(torch.zeros(2, 3), torch.from_numpy(x))
        with pytest.warns(FutureWarning) as wm:
            getattr(mdist, name)(mc.zeros(2, 3), mc.from_numpy(x))
        assert str(wm[0].message) == str(wt[0].message)
    _same_error(lambda: mdist.broadcast(mc.ones(2), src=3), lambda: tdist.broadcast(torch.ones(2), src=3))
    _same_error(lambda: mdist.all_gather([mc.zeros(2), mc.zeros(2)], mc.ones(2)),
                lambda: tdist.all_gather([torch.zeros(2), torch.zeros(2)], torch.ones(2)))
    _same_error(lambda: mdist.all_gather_single(mc.zeros(3), mc.ones(2)),
                lambda: tdist.all_gather_single(torch.zeros(3), torch.ones(2)))
    # a parameter can be the target of a collective (no autograd in-place error), as in torch
    p = mc.nn.Parameter(mc.ones(2))
    mdist.broadcast(p, 0)
    assert p.requires_grad and p.is_leaf


def test_bad_timeout_and_backend(clean_env):
    clean_env.setenv("RANK", "0")
    clean_env.setenv("WORLD_SIZE", "1")
    with pytest.raises(TypeError):
        mdist.init_process_group("gloo", timeout=5)
    with pytest.raises(ValueError):
        mdist.init_process_group("ucc")
    assert not mdist.is_initialized()


def test_distributed_sampler_reads_the_group(both_groups):
    ms = mc.utils.data.DistributedSampler(list(range(10)), shuffle=False)
    ts = torch.utils.data.DistributedSampler(list(range(10)), shuffle=False)
    assert (ms.num_replicas, ms.rank, list(ms)) == (ts.num_replicas, ts.rank, list(ts))
