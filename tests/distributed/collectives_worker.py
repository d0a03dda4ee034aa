"""Worker for test_collectives.py: runs every collective on every dtype with rank-dependent inputs
(inputs(rank, ...) below, which the test recomputes) and saves the results to an npz file per rank."""
import datetime
import sys

import numpy as np

import mlx_compat as torch
import mlx_compat.distributed as dist

DTYPES = ["float32", "float64", "float16", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "bool"]


def inputs(rank, dtype, shape=(4, 3), salt=0):
    """numpy data for `rank` (float64 for the float types, later cast; small integers so products fit)."""
    rs = np.random.RandomState(100 * rank + 7 * DTYPES.index(dtype) + salt)
    if dtype == "bool":
        return rs.rand(*shape) > 0.5
    if dtype == "uint8":
        return rs.randint(0, 4, shape).astype(np.uint8)
    if dtype.startswith("int"):
        return rs.randint(-3, 4, shape).astype(dtype)
    return rs.randn(*shape)


def to_tensor(a, dtype):
    t = torch.from_numpy(np.ascontiguousarray(a))
    return t.to(getattr(torch, dtype))


def to_numpy(t):
    if t.dtype in (torch.bfloat16, torch.float16):
        return t.float().numpy()
    return t.numpy()


def main(out_path):
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=30))
    rank, n = dist.get_rank(), dist.get_world_size()
    res = {"world": np.array(n)}
    ops = {"SUM": dist.ReduceOp.SUM, "MAX": dist.ReduceOp.MAX, "MIN": dist.ReduceOp.MIN,
           "PRODUCT": dist.ReduceOp.PRODUCT, "AVG": dist.ReduceOp.AVG}
    for dt in DTYPES:
        x = inputs(rank, dt)
        for name, op in ops.items():
            if name == "AVG" and dt in ("bool",) or (name == "AVG" and not dt.startswith(("float", "bfloat"))):
                continue
            t = to_tensor(x, dt)
            assert dist.all_reduce(t, op) is None
            res[f"all_reduce.{name}.{dt}"] = to_numpy(t)
        # in place through a view: the base sees the reduction
        base = to_tensor(x, dt)
        col = base[:, 1]
        dist.all_reduce(col, dist.ReduceOp.MAX)
        res[f"all_reduce_view.{dt}"] = to_numpy(base)
        # async
        t = to_tensor(x, dt)
        work = dist.all_reduce(t, dist.ReduceOp.MAX, async_op=True)
        work.wait()
        res[f"all_reduce_async_done.{dt}"] = np.array(work.is_completed())
        res[f"all_reduce_async.{dt}"] = to_numpy(t)
        t = to_tensor(x, dt)
        dist.broadcast(t, src=n - 1)
        res[f"broadcast.{dt}"] = to_numpy(t)
        outs = [to_tensor(np.zeros_like(x), dt) for _ in range(n)]
        dist.all_gather(outs, to_tensor(x, dt))
        res[f"all_gather.{dt}"] = np.stack([to_numpy(o) for o in outs])
        cat = to_tensor(np.zeros((n * 4, 3), x.dtype), dt)
        dist.all_gather_into_tensor(cat, to_tensor(x, dt))
        res[f"all_gather_into_tensor.{dt}"] = to_numpy(cat)
        stk = to_tensor(np.zeros((n, 4, 3), x.dtype), dt)
        dist.all_gather_into_tensor(stk, to_tensor(x, dt))
        res[f"all_gather_into_tensor_stacked.{dt}"] = to_numpy(stk)
        big = inputs(rank, dt, (n * 2, 3), salt=1)
        for name in ("SUM", "MAX"):
            out = to_tensor(np.zeros((2, 3), big.dtype), dt)
            dist.reduce_scatter_tensor(out, to_tensor(big, dt), ops[name])
            res[f"reduce_scatter_tensor.{name}.{dt}"] = to_numpy(out)
        # ring neighbours: send to rank+1, receive from rank-1
        got = to_tensor(np.zeros_like(x), dt)
        nxt, prv = (rank + 1) % n, (rank - 1) % n
        if rank % 2 == 0:
            dist.send(to_tensor(x, dt), nxt)
            dist.recv(got, prv)
        else:
            dist.recv(got, prv)
            dist.send(to_tensor(x, dt), nxt)
        res[f"recv.{dt}"] = to_numpy(got)
    s = torch.tensor(float(rank + 1))
    dist.all_reduce(s)
    res["scalar_sum"] = s.numpy()
    objs = [None] * n
    dist.all_gather_object(objs, {"rank": rank, "name": "r" * (rank + 1)})
    res["objects"] = np.array([o["name"] for o in objs])
    dist.barrier()
    np.savez(out_path.replace("RANK", str(rank)), **res)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
