"""torch.distributed's process group and collectives over MLX's distributed layer (`mx.distributed`).

Backends: 'gloo' -> MLX's ring (TCP, CPU), 'nccl' -> MLX's NCCL, 'mpi' -> MLX's MPI. One default group (MLX's
global group); collectives act on it. Collectives are evaluated when called (torch's synchronous semantics, and
errors such as a lost peer surface at the call); with async_op=True the MLX graph is started with `mx.async_eval`
and the returned Work's wait() finishes it. In-place collectives write through the tensor (views included).
"""
from __future__ import annotations

import datetime
import enum
import os
import sys
import threading
import time
import warnings

import mlx.core as mx

from . import _rendezvous

__all__ = ["Backend", "ReduceOp", "Work", "GroupMember", "ProcessGroup", "is_available", "is_initialized",
           "is_gloo_available", "is_nccl_available", "is_mpi_available", "is_torchelastic_launched",
           "init_process_group", "destroy_process_group", "get_rank", "get_world_size", "get_backend",
           "get_node_local_rank", "barrier", "all_reduce", "all_gather", "all_gather_into_tensor",
           "all_gather_object", "reduce_scatter_tensor", "all_gather_single", "reduce_scatter_single", "reduce",
           "broadcast", "broadcast_object_list", "send", "recv", "isend", "irecv", "default_pg_timeout"]

default_pg_timeout = datetime.timedelta(minutes=30)


class Backend(str):
    """Backend names as torch spells them (lower case)."""
    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        return str.__new__(cls, name.lower())


_MLX_BACKEND = {"gloo": "ring", "nccl": "nccl", "mpi": "mpi"}


class ReduceOp:
    """Reduction operators (ReduceOp.SUM, ...), compared by identity of their RedOpType."""

    class RedOpType(enum.Enum):
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7
        PREMUL_SUM = 8
        UNUSED = 9


for _op in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR", "PREMUL_SUM", "UNUSED"):
    setattr(ReduceOp, _op, getattr(ReduceOp.RedOpType, _op))
del _op


class ProcessGroup:
    """The default group: MLX's global `Group` with torch's rank()/size() queries."""

    def __init__(self, group, backend, mlx_backend):
        self._group = group
        self._backend = backend
        self._mlx_backend = mlx_backend
        self._timeout = default_pg_timeout.total_seconds()

    def rank(self):
        return self._group.rank()

    def size(self):
        return self._group.size()

    def name(self):
        return self._backend

    def __repr__(self):
        return f"<ProcessGroup backend={self._backend} rank={self.rank()} size={self.size()}>"


class GroupMember:
    WORLD = None
    NON_GROUP_MEMBER = -100


class _State:
    pg = None
    groups = {}  # MLX backend -> mx Group already created in this process (MLX cannot tear one down)
    hostfile = None  # (path _prepare_ring wrote, MLX_HOSTFILE before it) until MLX's ring has read it


def is_available():
    return True


def is_gloo_available():
    return mx.distributed.is_available()


def is_nccl_available():
    try:
        return bool(mx.cuda.is_available())
    except AttributeError:
        return False


def is_mpi_available():
    return mx.distributed.is_available()


def is_torchelastic_launched():
    return os.getenv("TORCHELASTIC_RUN_ID") is not None


def is_initialized():
    return _State.pg is not None


def _default_pg():
    if _State.pg is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return _State.pg


def _check_group(group):
    pg = _default_pg()
    if group is not None and group is not pg:
        raise ValueError("Invalid process group specified: only the default group (group=None or "
                         "GroupMember.WORLD) exists; MLX's ring backend cannot split groups")
    return pg


def _seconds(timeout):
    if timeout is None:
        return default_pg_timeout.total_seconds()
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {type(timeout).__name__}")


def _env_int(names, what):
    for n in names:
        v = os.environ.get(n)
        if v not in (None, ""):
            try:
                return int(v)
            except ValueError:
                raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: environment "
                                 f"variable {n} expected, but not set") from None
    raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: environment variable {what} "
                     f"expected, but not set")


def _parse_init_method(init_method):
    """(master_addr, master_port) from 'env://' (MASTER_ADDR/MASTER_PORT) or 'tcp://host:port'."""
    if init_method is None or init_method.startswith("env://"):
        addr = os.environ.get("MASTER_ADDR")
        port = os.environ.get("MASTER_PORT")
        return addr, (int(port) if port else None)
    if init_method.startswith("tcp://"):
        hostport = init_method[len("tcp://"):].split("?")[0].rstrip("/")
        host, _, port = hostport.rpartition(":")
        return host.strip("[]"), int(port)
    raise ValueError(f"No rendezvous handler for {init_method.split('://')[0]}://")


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Initialize the default process group on MLX's distributed layer (torch.distributed.init_process_group).

    rank/world_size come from the arguments, else torch's RANK/WORLD_SIZE, else MLX's MLX_RANK/MLX_WORLD_SIZE.
    For 'gloo' (MLX's ring) a hostfile given in MLX_HOSTFILE is used as is; otherwise one is made from
    MASTER_ADDR/MASTER_PORT by a rendezvous of all ranks (Note [Ring bootstrap timeout])."""
    if _State.pg is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if store is not None:
        raise NotImplementedError("init_process_group(store=...): stores are not supported; use init_method")
    seconds = _seconds(timeout)
    if backend is None:
        backend = "nccl" if is_nccl_available() else "gloo"
    backend = Backend(backend)
    if backend == "cpu:gloo,cuda:nccl":
        backend = Backend("nccl" if is_nccl_available() else "gloo")
    if backend not in _MLX_BACKEND:
        raise ValueError(f"Invalid backend: '{backend}': MLX provides 'gloo' (its ring), 'nccl' and 'mpi'")
    mlx_backend = _MLX_BACKEND[backend]
    if rank is None or rank < 0:
        rank = _env_int(("RANK", "MLX_RANK"), "RANK") if mlx_backend != "mpi" or "RANK" in os.environ else -1
    if (world_size is None or world_size < 0) and mlx_backend == "ring" and "WORLD_SIZE" not in os.environ \
            and os.environ.get("MLX_HOSTFILE"):
        world_size = _hostfile_size(os.environ["MLX_HOSTFILE"])  # mlx.launch's contract: the hostfile's length
    if world_size is None or world_size < 0:
        world_size = _env_int(("WORLD_SIZE", "MLX_WORLD_SIZE"), "WORLD_SIZE") if mlx_backend != "mpi" or \
            "WORLD_SIZE" in os.environ else -1
    if mlx_backend != "mpi" and not 0 <= rank < world_size:
        raise ValueError(f"Invalid rank {rank} for world size {world_size}")

    if mlx_backend in _State.groups:
        group = _State.groups[mlx_backend]
    elif world_size == 1:
        group = _SingleGroup()
    else:
        if mlx_backend == "ring":
            _prepare_ring(rank, world_size, init_method, seconds)
        elif mlx_backend == "nccl":
            _prepare_nccl(rank, world_size, init_method)
        try:
            group = mx.distributed.init(strict=True, backend=mlx_backend)
        except RuntimeError as e:
            raise RuntimeError(f"init_process_group(backend='{backend}'): MLX's {mlx_backend} backend failed to "
                               f"initialize: {e}") from None
        finally:
            _drop_hostfile()
    if world_size > 0 and group.size() != world_size:
        raise RuntimeError(f"init_process_group: MLX's {mlx_backend} group has {group.size()} processes but "
                           f"world_size is {world_size}")
    if rank >= 0 and group.rank() != rank:
        raise RuntimeError(f"init_process_group: MLX's {mlx_backend} group gave rank {group.rank()} but rank is "
                           f"{rank}")
    _State.groups[mlx_backend] = group
    _State.pg = ProcessGroup(group, str(backend), mlx_backend)
    _State.pg._timeout = seconds
    GroupMember.WORLD = _State.pg


def _hostfile_size(path):
    import json

    try:
        with open(path) as f:
            return len(json.load(f))
    except (OSError, ValueError) as e:
        raise ValueError(f"MLX_HOSTFILE {path!r} is not a readable JSON hostfile: {e}") from None


class _SingleGroup:
    """A one-process group (world_size 1 needs no transport)."""

    def rank(self):
        return 0

    def size(self):
        return 1


def _prepare_ring(rank, world_size, init_method, seconds):
    if os.environ.get("MLX_HOSTFILE") and init_method in (None, "env://") and "MASTER_PORT" not in os.environ:
        os.environ["MLX_RANK"] = str(rank)
        return
    addr, port = _parse_init_method(init_method)
    if addr is None:
        raise ValueError("Error initializing torch.distributed using env:// rendezvous: environment variable "
                         "MASTER_ADDR expected, but not set")
    if port is None:
        raise ValueError("Error initializing torch.distributed using env:// rendezvous: environment variable "
                         "MASTER_PORT expected, but not set")
    hosts = _rendezvous.exchange_addresses(rank, world_size, addr, port, seconds)
    _State.hostfile = (_rendezvous.write_hostfile(_rendezvous.ring_hostfile(hosts, port + 1)),
                       os.environ.get("MLX_HOSTFILE"))
    os.environ["MLX_HOSTFILE"] = _State.hostfile[0]
    os.environ["MLX_RANK"] = str(rank)


def _drop_hostfile():
    """Delete the hostfile _prepare_ring wrote, once MLX's ring has read it (its `init` reads MLX_HOSTFILE and
    nothing later does), and give MLX_HOSTFILE back its earlier value: a program that never calls
    destroy_process_group leaves no file behind in the temporary directory."""
    if _State.hostfile is None:
        return
    path, before = _State.hostfile
    _State.hostfile = None
    try:
        os.unlink(path)
    except OSError:
        pass
    if before is None:
        os.environ.pop("MLX_HOSTFILE", None)
    else:
        os.environ["MLX_HOSTFILE"] = before


def _prepare_nccl(rank, world_size, init_method):
    addr, port = _parse_init_method(init_method)
    if addr is not None and "NCCL_HOST_IP" not in os.environ:
        os.environ["NCCL_HOST_IP"] = addr
    if port is not None and "NCCL_PORT" not in os.environ:
        os.environ["NCCL_PORT"] = str(port + 1)
    os.environ["MLX_RANK"] = str(rank)
    os.environ["MLX_WORLD_SIZE"] = str(world_size)


def destroy_process_group(group=None):
    """Forget the default group. MLX keeps its transport for the process's life, so a later
    init_process_group with the same backend reuses it."""
    _check_group(group)
    _State.pg = None
    GroupMember.WORLD = None


def get_rank(group=None):
    return _check_group(group).rank()


def get_world_size(group=None):
    return _check_group(group).size()


def get_backend(group=None):
    return _check_group(group)._backend


def get_node_local_rank(fallback_rank=None):
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
                       "`get_node_local_rank` to work, assuming you are not running in a multi-device context and "
                       "want the code to run locally instead.")


# ---------------------------------------------------------------- execution


class _Watchdog:
    """Note [Collective timeout]: MLX cannot interrupt a collective, so a peer that is alive but never joins
    would block this process forever. A daemon thread watches each blocking evaluation; past the process
    group's timeout it prints which collective timed out and ends the process (as torch's NCCL watchdog does),
    which in turn makes every peer's next transfer fail with a lost connection instead of hanging."""

    def __init__(self):
        self._cond = threading.Condition()
        self._deadline = None
        self._what = None
        self._thread = None

    def arm(self, seconds, what):
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="mlx_compat-dist-watchdog", daemon=True)
                self._thread.start()
            self._deadline = time.monotonic() + seconds
            self._what = (what, seconds)
            self._cond.notify()

    def disarm(self):
        with self._cond:
            self._deadline = None
            self._cond.notify()

    def _loop(self):
        with self._cond:
            while True:
                if self._deadline is None:
                    self._cond.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                what, seconds = self._what
                rank = _State.pg.rank() if _State.pg is not None else "?"
                sys.stderr.write(f"[mlx_compat.distributed] rank {rank}: {what} did not complete within the process "
                                 f"group's timeout ({seconds:.0f} s); a peer is stuck or gone. Aborting this "
                                 f"process so that the others fail too.\n")
                sys.stderr.flush()
                os._exit(1)


_watchdog = _Watchdog()


def _blocking_eval(arrays, what):
    """mx.eval under the watchdog (Note [Collective timeout]); transport errors become torch's RuntimeError."""
    pg = _State.pg
    if pg is not None and pg.size() > 1:
        _watchdog.arm(pg._timeout, what)
    try:
        mx.eval(*arrays)
    except RuntimeError as e:
        raise _transport_error(e) from None
    finally:
        if pg is not None and pg.size() > 1:
            _watchdog.disarm()


class Work:
    """The handle an async collective returns: wait() finishes it (raising the transport's error, if any) and
    writes its results; is_completed() says whether that has happened."""

    def __init__(self, arrays, finish=None, what="collective"):
        self._what = what
        self._arrays = arrays
        self._finish = finish
        self._done = False
        self._exc = None

    def wait(self, timeout=None):
        if not self._done:
            try:
                _blocking_eval(self._arrays, self._what)
            except RuntimeError as e:
                self._exc = e
                self._done = True
                raise
            if self._finish is not None:
                self._finish()
            self._done = True
        elif self._exc is not None:
            raise self._exc
        return True

    def is_completed(self):
        return self._done

    def is_success(self):
        return self._done and self._exc is None

    def exception(self):
        return self._exc

    def result(self):
        return []

    def synchronize(self):
        self.wait()

    def get_future(self):
        raise NotImplementedError("Work.get_future: futures are not supported; call wait()")


def _transport_error(e):
    msg = str(e)
    if "connection to a peer was lost" in msg or "closed" in msg:
        return RuntimeError(f"Connection closed by peer: a process of the group exited or lost its connection "
                            f"({msg})")
    return RuntimeError(msg)


def _run(arrays, finish, async_op):
    """Evaluate `arrays` now (then call finish) or hand them to a Work."""
    w = Work(arrays, finish, sys._getframe(1).f_code.co_name)
    if async_op:
        mx.async_eval(*arrays)
        return w
    w.wait()
    return None


def _stream(pg, tensor):
    if pg._mlx_backend == "nccl":
        return None
    return mx.cpu


def _coll(pg, name, x, tensor):
    if isinstance(pg._group, _SingleGroup):
        return x
    fn = getattr(mx.distributed, name)
    s = _stream(pg, tensor)
    return fn(x, group=pg._group, stream=s) if s is not None else fn(x, group=pg._group)


def _value(tensor):
    from .._tensor import Tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `tensor` of type torch.Tensor but got "
                        f"{type(tensor)} instead.")
    return tensor.detach()._mx


def _put(tensor, arr):
    """Write `arr` into `tensor` in place (through views), as c10d does: outside autograd's in-place checks."""
    from ..autograd.grad_mode import no_grad

    with no_grad():
        tensor._write(arr)


def _reduce(pg, x, op, tensor):
    """All-reduce of mx array x across the group with `op` (lazy)."""
    n = pg.size()
    dt = x.dtype
    if dt == mx.bool_:
        u = x.astype(mx.uint8)
        if op in (ReduceOp.SUM, ReduceOp.MAX, ReduceOp.BOR, ReduceOp.AVG):
            return _coll(pg, "all_max", u, tensor).astype(mx.bool_)
        if op in (ReduceOp.MIN, ReduceOp.PRODUCT, ReduceOp.BAND):
            return _coll(pg, "all_min", u, tensor).astype(mx.bool_)
        raise ValueError(f"ReduceOp {op} is not supported for bool tensors")
    if op == ReduceOp.SUM:
        return _coll(pg, "all_sum", x, tensor)
    if op == ReduceOp.AVG:
        s = _coll(pg, "all_sum", x, tensor)
        if mx.issubdtype(dt, mx.inexact):
            return (s / n).astype(dt)
        # integer average truncates toward zero (NCCL's integer division)
        q = mx.abs(s) // n
        return mx.where(s < 0, -q, q).astype(dt)
    if op == ReduceOp.MAX:
        if dt == mx.complex64:
            raise RuntimeError("all_reduce: MAX is not supported for complex tensors")
        return _coll(pg, "all_max", x, tensor)
    if op == ReduceOp.MIN:
        if dt == mx.complex64:
            raise RuntimeError("all_reduce: MIN is not supported for complex tensors")
        return _coll(pg, "all_min", x, tensor)
    if op == ReduceOp.PRODUCT:
        g = _coll(pg, "all_gather", x.reshape((1,) + x.shape), tensor)
        return mx.prod(g, axis=0).astype(dt)
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR):
        if mx.issubdtype(dt, mx.inexact):
            raise RuntimeError(f"all_reduce: {op.name} needs an integer tensor")
        g = _coll(pg, "all_gather", x.reshape((1,) + x.shape), tensor)
        f = {ReduceOp.BAND: mx.bitwise_and, ReduceOp.BOR: mx.bitwise_or, ReduceOp.BXOR: mx.bitwise_xor}[op]
        out = g[0]
        for i in range(1, n):
            out = f(out, g[i])
        return out
    raise ValueError(f"all_reduce: unsupported ReduceOp {op}")


def _as_op(op):
    if isinstance(op, ReduceOp.RedOpType):
        return op
    raise TypeError(f"Invalid op {op!r}: expected a torch.distributed.ReduceOp")


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `tensor` across all ranks, in place on every rank."""
    pg = _check_group(group)
    op = _as_op(op)
    out = _reduce(pg, _value(tensor), op, tensor)
    return _run([out], lambda: _put(tensor, out), async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce `tensor` across ranks into rank `dst`'s tensor (the others keep theirs)."""
    pg = _check_group(group)
    dst = dst if dst is not None else (group_dst if group_dst is not None else 0)
    op = _as_op(op)
    out = _reduce(pg, _value(tensor), op, tensor)
    return _run([out], (lambda: _put(tensor, out)) if pg.rank() == dst else None, async_op)


def _bits(x):
    """x reinterpreted as same-width integers, so a sum with zeros copies it bit for bit."""
    size = x.dtype.size
    if x.dtype == mx.bool_ or mx.issubdtype(x.dtype, mx.integer):
        return x, None
    it = {2: mx.int16, 4: mx.int32, 8: mx.int64}[size]
    return mx.view(x, it), x.dtype


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy rank `src`'s tensor into every rank's `tensor` (bit-exact: sums of the bit patterns with zeros)."""
    pg = _check_group(group)
    src = src if src is not None else (group_src if group_src is not None else 0)
    if not 0 <= src < pg.size():
        raise RuntimeError(f"broadcast: invalid root rank: {src}")
    x = _value(tensor)
    if pg.size() == 1:
        return _run([x], None, async_op)
    if x.dtype == mx.complex64:
        b = mx.view(x, mx.int64)
        back = mx.complex64
    else:
        b, back = _bits(x)
    if b.dtype == mx.bool_:
        b = b.astype(mx.uint8)
        back = mx.bool_
    mine = b if pg.rank() == src else mx.zeros_like(b)
    s = _coll(pg, "all_sum", mine, tensor)
    if back is not None:
        s = s.astype(mx.bool_) if back == mx.bool_ else mx.view(s, back)
    return _run([s], lambda: _put(tensor, s), async_op)


def _gathered(pg, x, tensor):
    """(world, *x.shape) array of every rank's x (lazy)."""
    if pg.size() == 1:
        return x.reshape((1,) + x.shape)
    if x.dtype == mx.bool_:
        return _coll(pg, "all_gather", x.astype(mx.uint8).reshape((1,) + x.shape), tensor).astype(mx.bool_)
    return _coll(pg, "all_gather", x.reshape((1,) + x.shape), tensor)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill tensor_list[i] with rank i's `tensor`."""
    pg = _check_group(group)
    n = pg.size()
    if not isinstance(tensor_list, list) or len(tensor_list) != n:
        raise RuntimeError(f"all_gather: invalid output tensor list (expected length {n}, got "
                           f"{len(tensor_list) if isinstance(tensor_list, list) else type(tensor_list).__name__})")
    x = _value(tensor)
    for t in tensor_list:
        if tuple(t.shape) != tuple(tensor.shape):
            raise RuntimeError(f"all_gather: output tensors must have the input's shape {tuple(tensor.shape)}, got "
                               f"{tuple(t.shape)}")
    g = _gathered(pg, x, tensor)

    def finish():
        for i, t in enumerate(tensor_list):
            _put(t, g[i])

    return _run([g], finish, async_op)


def all_gather_single(output_tensor, input_tensor, group=None, async_op=False):
    """Gather every rank's input into `output_tensor`, either concatenated along dim 0 (world*n, ...) or stacked
    (world, n, ...)."""
    pg = _check_group(group)
    n = pg.size()
    x = _value(input_tensor)
    out_shape = tuple(output_tensor.shape)
    in_shape = tuple(input_tensor.shape)
    stacked = (n,) + in_shape
    cat = ((n * in_shape[0],) + in_shape[1:]) if in_shape else (n,)
    if out_shape not in (stacked, cat) or output_tensor.numel() != n * input_tensor.numel():
        raise RuntimeError(f"output tensor size must be equal to world_size times input tensor size "
                         f"(got output {out_shape}, input {in_shape}, world size {n})")
    if output_tensor.dtype != input_tensor.dtype:
        raise RuntimeError("output tensor must have the same type as input tensor")
    g = _gathered(pg, x, input_tensor).reshape(out_shape)
    return _run([g], lambda: _put(output_tensor, g), async_op)


def reduce_scatter_single(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `input` across ranks and give rank r the r-th of world_size equal chunks (along dim 0, or the
    leading world dimension of a stacked input) in `output`."""
    pg = _check_group(group)
    n = pg.size()
    op = _as_op(op)
    if input.numel() != n * output.numel():
        raise RuntimeError(f"input tensor must be the same size as output size times world size (input "
                         f"{tuple(input.shape)}, output {tuple(output.shape)}, world size {n})")
    if output.dtype != input.dtype:
        raise RuntimeError("output tensor must have the same type as input tensor")
    x = _value(input).reshape((n,) + tuple(output.shape))
    if pg._mlx_backend == "nccl" and op in (ReduceOp.SUM, ReduceOp.AVG) and x.dtype != mx.bool_:
        r = _coll(pg, "sum_scatter", x, input)[0]
        if op == ReduceOp.AVG:
            r = (r / n).astype(x.dtype)
    else:
        r = _reduce(pg, x, op, input)[pg.rank()]
    return _run([r], lambda: _put(output, r), async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Deprecated name of all_gather_single (with torch's FutureWarning)."""
    warnings.warn("`torch.distributed.all_gather_into_tensor` is deprecated. Please use "
                  "`torch.distributed.all_gather_single` instead.", FutureWarning, stacklevel=2)
    return all_gather_single(output_tensor, input_tensor, group, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Deprecated name of reduce_scatter_single (with torch's FutureWarning)."""
    warnings.warn("`torch.distributed.reduce_scatter_tensor` is deprecated. Please use "
                  "`torch.distributed.reduce_scatter_single` instead.", FutureWarning, stacklevel=2)
    return reduce_scatter_single(output, input, op, group, async_op)


def _send_node(tensor, dst, group, group_dst):
    """The lazy MLX send of `tensor` to rank `dst` (bool travels as uint8), shared by send and isend."""
    pg = _check_group(group)
    dst = dst if dst is not None else group_dst
    _check_peer(pg, dst, "dst")
    x = _value(tensor)
    if x.dtype == mx.bool_:
        x = x.astype(mx.uint8)
    s = _stream(pg, tensor)
    return mx.distributed.send(x, dst, group=pg._group, stream=s) if s is not None else \
        mx.distributed.send(x, dst, group=pg._group)


def _recv_node(tensor, src, group, group_src, fname):
    """The lazy MLX receive of `tensor`'s shape and dtype from rank `src` (bool travels as uint8), shared by
    recv and irecv; returns (array in tensor's dtype, src)."""
    pg = _check_group(group)
    src = src if src is not None else group_src
    if src is None:
        raise RuntimeError(f"{fname}: src=None (receive from any rank) is not supported by MLX's backends; pass src")
    _check_peer(pg, src, "src")
    like = _value(tensor)
    dt = mx.uint8 if like.dtype == mx.bool_ else like.dtype
    s = _stream(pg, tensor)
    r = mx.distributed.recv(like.shape, dt, src, group=pg._group, stream=s) if s is not None else \
        mx.distributed.recv(like.shape, dt, src, group=pg._group)
    return (r.astype(mx.bool_) if like.dtype == mx.bool_ else r), src


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send `tensor` to rank `dst` (MLX's ring backend reaches only the ranks next to this one in its ring)."""
    _p2p([_send_node(tensor, dst, group, group_dst)])


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into `tensor` from rank `src` (required: MLX has no receive-from-any). Returns src."""
    r, src = _recv_node(tensor, src, group, group_src, "recv")
    _p2p([r])
    _put(tensor, r)
    return src


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Asynchronous send: the transfer is started; wait() completes it."""
    return _run([_send_node(tensor, dst, group, group_dst)], None, True)


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Asynchronous receive into `tensor`: wait() completes it."""
    r, _ = _recv_node(tensor, src, group, group_src, "irecv")
    return _run([r], lambda: _put(tensor, r), True)


def _check_peer(pg, peer, name):
    n = pg.size()
    if peer is None or not 0 <= int(peer) < n:
        raise ValueError(f"Invalid {name} rank {peer} for a group of size {n}")
    if int(peer) == pg.rank():
        raise ValueError(f"Invalid {name} rank: {peer} is this process's own rank")
    if pg._mlx_backend == "ring" and n > 2 and int(peer) not in ((pg.rank() + 1) % n, (pg.rank() - 1) % n):
        raise RuntimeError(f"MLX's ring backend (gloo) sends only between neighbouring ranks: rank {pg.rank()} "
                           f"cannot reach rank {peer} in a group of {n}")


def _p2p(arrays):
    _blocking_eval(arrays, "a point-to-point transfer")


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank reaches the barrier."""
    pg = _check_group(group)
    if pg.size() == 1:
        return _run([], None, async_op)
    x = _coll(pg, "all_sum", mx.zeros((1,), dtype=mx.int32), None)
    return _run([x], None, async_op)


def all_gather_object(object_list, obj, group=None):
    """Fill object_list[i] with rank i's picklable `obj`."""
    import pickle

    pg = _check_group(group)
    n = pg.size()
    data = mx.array(list(pickle.dumps(obj)), dtype=mx.uint8)
    sizes = _gathered(pg, mx.array([data.size], dtype=mx.int64), None)
    _blocking_eval([sizes], "all_gather_object")
    m = int(mx.max(sizes).item())
    padded = mx.concatenate([data, mx.zeros((m - data.size,), dtype=mx.uint8)])
    g = _gathered(pg, padded, None)
    _p2p([g])
    sizes = sizes.reshape(-1).tolist()
    for i in range(n):
        object_list[i] = pickle.loads(bytes(g[i, :sizes[i]].tolist()))


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replace object_list's items on every rank with rank `src`'s (picklable)."""
    pg = _check_group(group)
    src = src if src is not None else (group_src if group_src is not None else 0)
    gathered = [None] * pg.size()
    all_gather_object(gathered, list(object_list) if pg.rank() == src else None, group)
    object_list[:] = gathered[src]
