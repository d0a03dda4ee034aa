"""DistributedDataParallel: data parallelism across the processes of mlx_compat.distributed's default group.

At construction the parameters and buffers are copied from rank 0 (bit-exact broadcast, one collective per dtype).
During backward each parameter's gradient hook marks it ready; parameters are grouped in buckets (reverse
registration order, about bucket_cap_mb each, one dtype per bucket), and a complete bucket is flattened, averaged
across ranks with one all_reduce and written back into the parameters' .grad. Note [DDP bucket order]: buckets are
reduced strictly in index order (a bucket completed early waits for the ones before it), so every rank issues the
same collectives in the same order whatever order its own backward visits the parameters in.
Note [DDP hook and accumulation]: a tensor hook runs before the engine accumulates that gradient into .grad, so
the hook computes the accumulated value itself (.grad + incoming); when that completes a bucket, the running
parameter's .grad is cleared and the hook returns the averaged gradient, which the engine then stores as is.
"""
from __future__ import annotations

import contextlib

import mlx.core as mx

from ... import distributed as dist
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ..._tensor import Tensor
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]


def _flat_broadcast(tensors, pg, src=0):
    """Broadcast the values of `tensors` from rank `src`, writing them in place (one collective per dtype)."""
    by_dtype = {}
    for t in tensors:
        by_dtype.setdefault(t.dtype, []).append(t)
    for ts in by_dtype.values():
        flat = mx.concatenate([t.detach()._mx.reshape(-1) for t in ts]) if len(ts) > 1 else \
            ts[0].detach()._mx.reshape(-1)
        carrier = Tensor._new_on(flat, ts[0]._device_code, ts[0].dtype._code)
        dist.broadcast(carrier, src, group=pg)
        out = carrier._mx
        off = 0
        for t in ts:
            n = t.numel()
            with no_grad():
                t._write(out[off:off + n].reshape(tuple(t.shape)))
            off += n


def _tensors_in(obj, out):
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _tensors_in(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _tensors_in(o, out)
    return out


def _reachable_leaves(outputs):
    """ids of the leaf tensors the autograd graph of `outputs` reaches."""
    seen, leaves = set(), set()
    stack = [t.grad_fn for t in _tensors_in(outputs, []) if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        try:
            leaves.add(id(node.variable))
            continue
        except AttributeError:
            pass
        for child, _ in node.next_functions:
            if child is not None and id(child) not in seen:
                stack.append(child)
    return leaves


class _Bucket:
    __slots__ = ("indices", "pending", "values", "unused")

    def __init__(self, indices):
        self.indices = indices
        self.pending = set(indices)
        self.values = {}
        self.unused = set()


class DistributedDataParallel(Module):
    """Wraps `module` (registered as `module`: state_dict keys gain the "module." prefix, as in torch)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 init_sync=True, process_group=None, bucket_cap_mb=None, find_unused_parameters=False,
                 check_reduction=False, gradient_as_bucket_view=False, static_graph=False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None, mixed_precision=None,
                 device_mesh=None, skip_all_reduce_unused_params=False):
        super().__init__()
        pg = dist.distributed_c10d._check_group(process_group)
        if not any(p.requires_grad for p in module.parameters()):
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError("device_ids can only be None or contain a single element.")
        self.module = module
        self.process_group = pg
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.static_graph = static_graph
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        ignored = set(getattr(module, "_ddp_params_and_buffers_to_ignore", ()))
        named = [(n, p) for n, p in module.named_parameters() if n not in ignored]
        self._params = [p for _, p in named if p.requires_grad]
        self._param_names = [n for n, p in named if p.requires_grad]
        self._buffers_to_sync = [b for n, b in module.named_buffers() if n not in ignored]
        if init_sync and pg.size() > 1:
            _flat_broadcast([p for _, p in named] + self._buffers_to_sync, pg)
        self._buckets = self._make_buckets()
        self._bucket_of = {}
        for b, bucket in enumerate(self._buckets):
            for i in bucket.indices:
                self._bucket_of[i] = b
        self._active = False
        self._next_bucket = 0
        self._fired = 0
        self._expected = 0
        self._hook_handles = [p.register_hook(self._make_hook(i)) for i, p in enumerate(self._params)]

    def _make_buckets(self):
        buckets, cur, cur_bytes, cur_dtype = [], [], 0, None
        for i in reversed(range(len(self._params))):
            p = self._params[i]
            nbytes = p.numel() * p.element_size()
            if cur and (p.dtype != cur_dtype or cur_bytes + nbytes > self.bucket_bytes_cap):
                buckets.append(_Bucket(cur))
                cur, cur_bytes = [], 0
            cur.append(i)
            cur_bytes += nbytes
            cur_dtype = p.dtype
        if cur:
            buckets.append(_Bucket(cur))
        return buckets

    # ------------------------------------------------------------ forward

    def forward(self, *inputs, **kwargs):
        if self._active and 0 < self._fired < self._expected:
            unready = [self._param_names[i] for b in self._buckets for i in b.pending]
            raise RuntimeError("Expected to have finished reduction in the prior iteration before starting a new "
                               "one. This error indicates that your module has parameters that were not used in "
                               "producing loss. You can enable unused parameter detection by passing the keyword "
                               "argument `find_unused_parameters=True` to "
                               "`torch.nn.parallel.DistributedDataParallel`. Parameters which did not receive "
                               f"grad for rank {self.process_group.rank()}: {', '.join(unready)}")
        if self.broadcast_buffers and self.require_forward_param_sync and self._buffers_to_sync and \
                self.process_group.size() > 1:
            _flat_broadcast(self._buffers_to_sync, self.process_group)
        out = self.module(*inputs, **kwargs)
        self._active = is_grad_enabled() and self.require_backward_grad_sync
        if self._active:
            self._prepare_for_backward(out)
        return out

    def _prepare_for_backward(self, out):
        for b in self._buckets:
            b.pending = set(b.indices)
            b.values = {}
            b.unused = set()
        self._next_bucket = 0
        self._fired = 0
        self._expected = len(self._params)
        if self.find_unused_parameters:
            used = _reachable_leaves(out)
            for i, p in enumerate(self._params):
                if id(p) not in used:
                    self._mark_ready(i, None, unused=True)

    # ------------------------------------------------------------ backward

    def _make_hook(self, index):
        def hook(grad):
            if not self._active:
                return None
            return self._mark_ready(index, grad)

        return hook

    def _mark_ready(self, i, grad, unused=False):
        """Record parameter i's accumulated gradient; reduce every bucket now due (Note [DDP bucket order]).
        Returns the tensor the engine should store for parameter i when its bucket was reduced here, else None."""
        p = self._params[i]
        bucket = self._buckets[self._bucket_of[i]]
        if i not in bucket.pending:
            return None
        old = p.grad
        if grad is None:
            value = old.detach()._mx if old is not None else mx.zeros(tuple(p.shape), dtype=p.detach()._mx.dtype)
        else:
            g = grad.detach()._mx
            value = g if old is None else old.detach()._mx + g
        bucket.values[i] = value
        bucket.pending.discard(i)
        if unused:
            bucket.unused.add(i)
        self._fired += 1
        result = None
        while self._next_bucket < len(self._buckets) and not self._buckets[self._next_bucket].pending:
            r = self._reduce_bucket(self._buckets[self._next_bucket], i if not unused else None)
            if r is not None:
                result = r
            self._next_bucket += 1
        if self._fired == self._expected:
            self._active = False
        if result is not None:
            p.grad = None  # Note [DDP hook and accumulation]: the engine stores the returned average as is
        return result

    def _reduce_bucket(self, bucket, current):
        pg = self.process_group
        n = pg.size()
        idx = bucket.indices
        parts = [bucket.values[i].reshape(-1) for i in idx]
        if self.find_unused_parameters:
            # one flag per parameter rides along: > 0 after the sum iff some rank used it (torch leaves the
            # .grad of a parameter no rank used untouched)
            parts.append(mx.array([0 if i in bucket.unused else 1 for i in idx], dtype=parts[0].dtype))
        flat = mx.concatenate(parts) if len(parts) > 1 else parts[0]
        p0 = self._params[idx[0]]
        carrier = Tensor._new_on(flat / n if n > 1 else flat, p0._device_code, p0.dtype._code)
        if n > 1:
            dist.all_reduce(carrier, dist.ReduceOp.SUM, group=pg)
        out = carrier._mx
        result = None
        off = 0
        used = out[-len(idx):].astype(mx.float32).tolist() if self.find_unused_parameters else None
        for pos, i in enumerate(idx):
            p = self._params[i]
            k = p.numel()
            avg = Tensor._new_on(out[off:off + k].reshape(tuple(p.shape)), p._device_code, p.dtype._code)
            off += k
            if used is not None and not used[pos] > 0:
                continue  # no rank used it: its .grad stays as it was
            if i == current:
                result = avg
            else:
                p.grad = avg
        bucket.values = {}
        bucket.unused = set()
        return result

    # ------------------------------------------------------------ API

    @contextlib.contextmanager
    def no_sync(self):
        """Gradients of backward passes run from forwards inside this context accumulate locally, unreduced;
        the first synchronized backward after it averages the accumulated gradients."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def join(self, *args, **kwargs):
        raise NotImplementedError("DistributedDataParallel.join (uneven inputs) is not supported")

    def register_comm_hook(self, state, hook):
        raise NotImplementedError("DistributedDataParallel.register_comm_hook is not supported")

    def _get_ddp_logging_data(self):
        return {"world_size": self.process_group.size(), "bucket_cap_bytes": self.bucket_bytes_cap,
                "num_buckets": len(self._buckets), "find_unused_parameters": self.find_unused_parameters}

    @staticmethod
    def _set_params_and_buffers_to_ignore_for_model(module, params_and_buffers_to_ignore):
        module._ddp_params_and_buffers_to_ignore = params_and_buffers_to_ignore
