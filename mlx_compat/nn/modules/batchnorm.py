"""Batch normalization: the shared _NormBase (affine parameters, running-stat buffers, their reset and the
old-checkpoint upgrade), BatchNorm1d/2d/3d, their Lazy variants (num_features from the first input) and
SyncBatchNorm (BatchNorm's semantics in a single process; convert_sync_batchnorm)."""
import mlx.core as mx

from ... import _C, _compile, empty, long, no_grad, ones, tensor, zeros
from .. import functional as F
from .. import init
from ..parameter import Parameter, UninitializedBuffer, UninitializedParameter
from .lazy import LazyModuleMixin
from .module import Module

__all__ = ["BatchNorm1d", "LazyBatchNorm1d", "BatchNorm2d", "LazyBatchNorm2d", "BatchNorm3d", "LazyBatchNorm3d",
           "SyncBatchNorm"]


class _NormBase(Module):
    """Parameters weight/bias (num_features,) when affine; buffers running_mean, running_var and the int64
    scalar num_batches_tracked when track_running_stats (registered as None otherwise, as torch does)."""

    _version = 2
    __constants__ = ["track_running_stats", "momentum", "eps", "num_features", "affine"]

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            self.weight = Parameter(empty(num_features, **factory_kwargs))
            if bias:
                self.bias = Parameter(empty(num_features, **factory_kwargs))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, **factory_kwargs))
            self.register_buffer("running_var", ones(num_features, **factory_kwargs))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            # in place, so that tensors aliasing the buffers (e.g. a SyncBatchNorm conversion) see the reset
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        # checkpoints from before version 2 have no num_batches_tracked: keep ours (or start at 0)
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (self.num_batches_tracked if self.num_batches_tracked is not None
                                   else tensor(0, dtype=long))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


def _batch_norm_args(mod):
    """(running_mean, running_var, use batch statistics, momentum for the running update) for one forward of a
    batch-norm module, counting the batch in num_batches_tracked when training with tracked stats.

    momentum=None means a cumulative moving average: the factor is 1 / num_batches_tracked."""
    factor = 0.0 if mod.momentum is None else mod.momentum
    if mod.training and mod.track_running_stats and mod.num_batches_tracked is not None:
        mod.num_batches_tracked.add_(1)
        factor = 1.0 / float(mod.num_batches_tracked) if mod.momentum is None else mod.momentum
    # batch statistics in training, and in eval when there are no running stats to use
    bn_training = True if mod.training else (mod.running_mean is None and mod.running_var is None)
    # the buffers are passed only when they are updated (training, tracked) or used (eval)
    pass_buffers = not mod.training or mod.track_running_stats
    return (mod.running_mean if pass_buffers else None, mod.running_var if pass_buffers else None, bn_training,
            factor)


_FLUSH_EVERY = 64


def _flush_running_stats(mod):
    """Count one lazy update of `mod`'s running stats; every _FLUSH_EVERY-th, start evaluating them.

    Note [running-stat graphs]: a training forward updates running_mean / running_var / num_batches_tracked
    lazily, each update a few graph nodes holding the batch's per-channel statistics (Note [running statistics]
    in nn/_normalization.py). Nothing in a training step reads the buffers, so without this the graphs (and those
    small arrays) would grow with every step until the buffers were next read, e.g. a ResNet-50 would hold
    ~200 KiB more per step. An asynchronous evaluation every _FLUSH_EVERY training forwards bounds that at no
    visible cost: it runs alongside the step and computes nothing the step would not compute anyway."""
    if _compile._TRACE is not None:  # is_compiling(): the compiled call evaluates; tracers cannot be
        return
    d = mod.__dict__
    n = d.get("_pending_stat_updates", 0) + 1
    if n >= _FLUSH_EVERY:
        arrays = [t._storage_base._mx if t._is_storage_view else t._mx
                  for t in (mod.running_mean, mod.running_var, mod.num_batches_tracked) if t is not None]
        if arrays:
            _C._eval_lock_acquire()  # Note [Threads]: every evaluation the package starts holds the lock
            try:
                mx.async_eval(arrays)
            finally:
                _C._eval_lock_release()
        n = 0
    d["_pending_stat_updates"] = n


class _BatchNorm(_NormBase):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device=device, dtype=dtype,
                         bias=bias)

    def forward(self, input):
        self._check_input_dim(input)
        running_mean, running_var, bn_training, factor = _batch_norm_args(self)
        out = F.batch_norm(input, running_mean, running_var, self.weight, self.bias, bn_training, factor, self.eps)
        if self.training and self.track_running_stats:
            _flush_running_stats(self)
        return out


class _LazyNormBase(LazyModuleMixin, _NormBase):
    """num_features, the affine parameters and the running stats take their size from input.shape[1] at the
    first forward (or from a loaded state_dict)."""

    cls_to_become = None

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None, *,
                 bias=True):
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(0, eps, momentum, False, False, device=device, dtype=dtype, bias=False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            self.weight = UninitializedParameter(**factory_kwargs)
            if bias:
                self.bias = UninitializedParameter(**factory_kwargs)
        if self.track_running_stats:
            self.running_mean = UninitializedBuffer(**factory_kwargs)
            self.running_var = UninitializedBuffer(**factory_kwargs)
            self.num_batches_tracked = tensor(0, dtype=long, device=device)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            with no_grad():
                if self.affine:
                    self.weight.materialize((self.num_features,))
                    if self.bias is not None:
                        self.bias.materialize((self.num_features,))
                if self.track_running_stats:
                    self.running_mean.materialize((self.num_features,))
                    self.running_var.materialize((self.num_features,))
            self.reset_parameters()


def _check_dims(input, dims):
    if input.dim() not in dims:
        want = " or ".join(f"{d}D" for d in dims)
        raise ValueError(f"expected {want} input (got {input.dim()}D input)")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) input."""

    def _check_input_dim(self, input):
        _check_dims(input, (2, 3))


class LazyBatchNorm1d(_LazyNormBase, _BatchNorm):
    cls_to_become = BatchNorm1d

    def _check_input_dim(self, input):
        _check_dims(input, (2, 3))


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) input."""

    def _check_input_dim(self, input):
        _check_dims(input, (4,))


class LazyBatchNorm2d(_LazyNormBase, _BatchNorm):
    cls_to_become = BatchNorm2d

    def _check_input_dim(self, input):
        _check_dims(input, (4,))


class BatchNorm3d(_BatchNorm):
    """Batch norm over (N, C, D, H, W) input."""

    def _check_input_dim(self, input):
        _check_dims(input, (5,))


class LazyBatchNorm3d(_LazyNormBase, _BatchNorm):
    cls_to_become = BatchNorm3d

    def _check_input_dim(self, input):
        _check_dims(input, (5,))


def _distributed_world_size(process_group):
    """The number of processes SyncBatchNorm would synchronise over: 1 unless a distributed backend is initialized."""
    import mlx_compat

    dist = getattr(mlx_compat, "distributed", None)
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return 1
    return dist.get_world_size(process_group) if process_group is not None else dist.get_world_size()


class SyncBatchNorm(_BatchNorm):
    """Batch norm over input of any rank >= 2 whose statistics are meant to be shared across processes; in a single
    process (no distributed backend initialized) it is exactly BatchNorm.

    Note [SyncBatchNorm across processes]: cross-process statistics need an all-reduce of the per-channel sums in
    the forward and of the gradient sums in the backward. With a distributed backend initialized over more than one
    process this raises NotImplementedError instead of silently normalizing with local statistics."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device=device, dtype=dtype,
                         bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _check_non_zero_input_channels(self, input):
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def forward(self, input):
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        running_mean, running_var, bn_training, factor = _batch_norm_args(self)
        if bn_training and self.training and _distributed_world_size(self.process_group) > 1:
            raise NotImplementedError("SyncBatchNorm across processes is not supported yet "
                                      "(see Note [SyncBatchNorm across processes])")
        out = F.batch_norm(input, running_mean, running_var, self.weight, self.bias, bn_training, factor, self.eps)
        if self.training and self.track_running_stats:
            _flush_running_stats(self)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """`module` with every BatchNorm*d replaced by a SyncBatchNorm sharing its parameters and buffers."""
        out = module
        if isinstance(module, _BatchNorm):
            out = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                with no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return out
