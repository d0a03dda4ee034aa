"""The `torch` / `torchvision` import alias: unmodified `import torch` programs run on mlx_compat.

`install()` puts a meta-path finder first on `sys.meta_path` that answers every `torch` and `torch.X.Y` import
with the module object `mlx_compat.X.Y` (and `torchvision.X` with `mlx_compat.vision.X`), so
`torch.nn.Module is mlx_compat.nn.Module`. Only the top-level `torch` name is a thin module of its own
(`TorchModule`) that forwards every attribute to `mlx_compat` and adds `__version__` (see TORCH_VERSION);
everything below it is the package's own module.

What mlx_compat lacks raises ModuleNotFoundError / AttributeError naming the missing `torch.` piece; a real torch is
never imported behind the alias (Note [no silent torch]).

SHIMS lists the few import-time pieces of torch's surface that third-party packages (timm, transformers) touch and
that the package itself does not have; each is a small honest module documented where it is built.
`uninstall()` removes the finder and every aliased entry from `sys.modules`.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import sys
import types
import warnings

__all__ = ["install", "uninstall", "is_installed", "TORCH_VERSION"]

# The version the alias reports as torch.__version__ (and as the `torch` distribution's version when no real torch
# is installed): the torch release whose API mlx_compat follows, with a local label naming the package, so
# `packaging.version.parse(torch.__version__) >= parse("2.0")` holds and nobody mistakes it for a real torch.
TORCH_VERSION = "2.13.0+mlxcompat"

# alias prefix -> the mlx_compat module it stands for
ALIASES = {"torch": "mlx_compat", "torchvision": "mlx_compat.vision"}


class TorchVersion(str):
    """torch.__version__'s type: a str that also compares with version strings and tuples, like torch's."""

    def _key(self, other):
        from packaging.version import Version
        if isinstance(other, tuple):
            other = ".".join(str(p) for p in other)
        return Version(str(self)), Version(str(other))

    def __lt__(self, other):
        a, b = self._key(other)
        return a < b

    def __le__(self, other):
        a, b = self._key(other)
        return a <= b

    def __gt__(self, other):
        a, b = self._key(other)
        return a > b

    def __ge__(self, other):
        a, b = self._key(other)
        return a >= b

    def __eq__(self, other):
        if isinstance(other, str) and not isinstance(other, TorchVersion):
            try:
                a, b = self._key(other)
                return a == b
            except Exception:
                return str.__eq__(self, other)
        return str.__eq__(self, other)

    __hash__ = str.__hash__


class TorchModule(types.ModuleType):
    """sys.modules['torch'] under the alias: forwards attributes to mlx_compat (same objects).

    A missing attribute is an AttributeError naming `torch.<name>`; a submodule not yet imported (`torch.fft`
    used without `import torch.fft`) is imported from mlx_compat on first access, as torch's lazy submodules are.
    """

    def __init__(self, target):
        super().__init__("torch", target.__doc__)
        object.__setattr__(self, "_target", target)
        self.__version__ = TorchVersion(TORCH_VERSION)
        for n, d in _FLOAT8.items():
            setattr(self, n, d)
        self.finfo = _finfo_with_float8(target.finfo)
        self.__file__ = getattr(target, "__file__", None)
        self.__path__ = list(getattr(target, "__path__", []))

    def __getattr__(self, name):
        target = object.__getattribute__(self, "_target")
        try:
            return getattr(target, name)
        except AttributeError:
            pass
        extra = _torch_extras().get(name)
        if extra is not None:
            return extra
        if not name.startswith("__"):
            try:
                return importlib.import_module("torch." + name)
            except ImportError:
                pass
        raise AttributeError(f"module 'torch' has no attribute '{name}' (mlx_compat does not provide torch.{name})")

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(dir(object.__getattribute__(self, "_target"))))


class _LegacyTensorType(type):
    """Metaclass of torch's legacy CPU tensor types (torch.FloatTensor, torch.LongTensor, ...): isinstance answers
    whether a Tensor has the type's dtype on the CPU, as torch's does."""

    def __instancecheck__(cls, obj):
        import mlx_compat
        return isinstance(obj, mlx_compat.Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"


def _legacy_tensor_type(name, dtype):
    import mlx_compat

    def __new__(cls, *args, **kwargs):
        from mlx_compat._tensor import _legacy_new

        return _legacy_new(mlx_compat.Tensor, dtype, args, kwargs)
    return _LegacyTensorType(name, (), {"__new__": __new__, "dtype": dtype, "__module__": "torch",
                                        "__doc__": f"torch.{name}: legacy constructor/type of {dtype} CPU tensors."})


class UnsupportedDtype:
    """A torch dtype MLX has no storage for (the float8 family): it exists so code naming it at import time (e.g.
    transformers' `fp8_max = torch.finfo(torch.float8_e4m3fn).max` in a class body) imports, and torch.finfo under
    the alias answers its limits; it is not an mlx_compat.dtype, so any tensor op given it raises TypeError."""

    def __init__(self, name, finfo_values):
        self.name = name
        self.itemsize = 1
        self.is_floating_point = True
        self.is_complex = False
        self.is_signed = True
        self._finfo = finfo_values

    def __repr__(self):
        return "torch." + self.name

    __str__ = __repr__


# name -> (bits, eps, max, smallest_normal, resolution) as torch.finfo reports them
_FLOAT8 = {n: UnsupportedDtype(n, v) for n, v in (
    ("float8_e4m3fn", (8, 0.125, 448.0, 0.015625, 1.0)),
    ("float8_e5m2", (8, 0.25, 57344.0, 6.103515625e-05, 1.0)),
    ("float8_e4m3fnuz", (8, 0.125, 240.0, 0.0078125, 1.0)),
    ("float8_e5m2fnuz", (8, 0.125, 57344.0, 3.0517578125e-05, 1.0)),
)}


def _finfo_with_float8(base):
    """torch.finfo under the alias: mlx_compat.finfo, also answering the float8 UnsupportedDtypes."""
    class finfo(base):
        def __init__(self, type=None):  # noqa: A002 - torch's keyword
            if isinstance(type, UnsupportedDtype):
                self.bits, self.eps, self.max, self.smallest_normal, self.resolution = type._finfo
                self.min = -self.max
                self.tiny = self.smallest_normal
                self.dtype = type.name
                return
            super().__init__(type)
    finfo.__qualname__ = finfo.__name__ = "finfo"
    finfo.__module__ = "torch"
    return finfo


_EXTRAS = None


def _torch_extras():
    """Top-level torch names the alias adds over mlx_compat (built once): the legacy tensor types and
    the memory formats."""
    global _EXTRAS
    if _EXTRAS is None:
        import mlx_compat as t
        _EXTRAS = {n: _legacy_tensor_type(n, d) for n, d in (
            ("FloatTensor", t.float32), ("DoubleTensor", t.float64), ("HalfTensor", t.float16),
            ("BFloat16Tensor", t.bfloat16), ("ByteTensor", t.uint8), ("CharTensor", t.int8),
            ("ShortTensor", t.int16), ("IntTensor", t.int32), ("LongTensor", t.int64), ("BoolTensor", t.bool))}


        class memory_format:
            """torch.memory_format: mlx_compat's results are contiguous, which is what contiguous_format and
            preserve_format ask of a contiguous input; channels_last layouts are not represented."""
            __module__ = "torch"

            def __init__(self, name):
                self.name = name

            def __repr__(self):
                return "torch." + self.name
        _EXTRAS["memory_format"] = memory_format
        for n in ("contiguous_format", "preserve_format", "channels_last", "channels_last_3d"):
            _EXTRAS[n] = memory_format(n)
    return _EXTRAS


# ---------------------------------------------------------------------------------------------------------------
# Shims: torch names third-party code touches at import/run time that mlx_compat does not (yet) have.
# Each builder returns a module for sys.modules; each is either exact (the behaviour torch has when no compiler /
# tracer / distributed backend is active) or raises a clear error when really used.
# ---------------------------------------------------------------------------------------------------------------

def _not_provided(qualname):
    def fn(*args, **kwargs):
        raise NotImplementedError(f"{qualname} is not provided by mlx_compat (torch import alias)")
    fn.__name__ = qualname.rsplit(".", 1)[-1]
    fn.__qualname__ = qualname
    return fn


def _shim_jit():
    """torch.jit: nothing is ever scripted or traced here, so is_scripting/is_tracing are False (exactly torch's
    answer in eager code); script/trace/ignore/unused decorators return the function unchanged (eager execution,
    what torch.jit.ignore does anyway); `script` warns once that nothing is compiled."""
    m = types.ModuleType("torch.jit")
    m.is_scripting = lambda: False
    m.is_tracing = lambda: False

    def script(obj=None, *args, **kwargs):
        warnings.warn("torch.jit.script under mlx_compat returns the object unchanged (eager execution)",
                      stacklevel=2)
        return obj

    def _identity_decorator(fn=None, **kwargs):
        if fn is None:
            return lambda f: f
        return fn
    m.script = script
    m.trace = _not_provided("torch.jit.trace")
    m.ignore = _identity_decorator
    m.unused = _identity_decorator
    m.export = _identity_decorator
    m.interface = _identity_decorator
    m.Final = __import__("typing").Final
    m.annotations = types.SimpleNamespace()
    m.ScriptModule = type("ScriptModule", (), {})
    m.load = _not_provided("torch.jit.load")
    m.save = _not_provided("torch.jit.save")
    m.__path__ = []  # a package, so torch.jit.annotations can be imported
    return m


def _shim_jit_annotations():
    """torch.jit.annotations: the typing names TorchScript code imports from it (List, Tuple, Dict, Optional, ...)."""
    import typing
    m = types.ModuleType("torch.jit.annotations")
    for n in ("Any", "Dict", "List", "Optional", "Tuple", "Union", "Callable"):
        setattr(m, n, getattr(typing, n))
    m.BroadcastingList1 = m.BroadcastingList2 = m.BroadcastingList3 = typing.List
    return m


def _shim_dynamo_trace_wrapped():
    """torch._dynamo._trace_wrapped_higher_order_op: TransformGetItemToIndex is the mode torch.vmap tracing of
    `tensor[scalar_tensor]` needs; vmap is not provided, so entering it raises NotImplementedError."""
    m = types.ModuleType("torch._dynamo._trace_wrapped_higher_order_op")

    class TransformGetItemToIndex:
        def __enter__(self):
            raise NotImplementedError("torch._dynamo._trace_wrapped_higher_order_op.TransformGetItemToIndex (vmap "
                                      "tracing) is not provided by mlx_compat")

        def __exit__(self, *exc):
            return False
    m.TransformGetItemToIndex = TransformGetItemToIndex
    return m


def _shim_fx():
    """torch.fx: symbolic tracing is not provided; `wrap` (a registration decorator used at import time) returns
    its argument, `Proxy` is a class nothing is ever an instance of (isinstance checks answer False, as in eager)."""
    m = types.ModuleType("torch.fx")
    m.wrap = lambda fn_or_name: fn_or_name
    m.Proxy = type("Proxy", (), {})
    m.GraphModule = type("GraphModule", (), {})
    m.Graph = type("Graph", (), {})
    m.Node = type("Node", (), {})
    m.symbolic_trace = _not_provided("torch.fx.symbolic_trace")
    m.Tracer = type("Tracer", (), {"__init__": _not_provided("torch.fx.Tracer")})
    return m


def _shim_distributed():
    """torch.distributed: no process group backend exists; is_available() False (torch's answer on a build
    without distributed), is_initialized() False."""
    m = types.ModuleType("torch.distributed")
    m.is_available = lambda: False
    m.is_initialized = lambda: False
    m.get_rank = _not_provided("torch.distributed.get_rank")
    m.get_world_size = _not_provided("torch.distributed.get_world_size")
    return m


def _frozen_batch_norm_2d():
    """torchvision.ops.misc.FrozenBatchNorm2d (timm imports it at import time): BatchNorm2d whose statistics and
    affine parameters are fixed buffers; y = (x - running_mean) / sqrt(running_var + eps) * weight + bias."""
    from mlx_compat import nn
    import mlx_compat

    class FrozenBatchNorm2d(nn.Module):
        def __init__(self, num_features, eps=1e-5):
            super().__init__()
            self.eps = eps
            self.register_buffer("weight", mlx_compat.ones(num_features))
            self.register_buffer("bias", mlx_compat.zeros(num_features))
            self.register_buffer("running_mean", mlx_compat.zeros(num_features))
            self.register_buffer("running_var", mlx_compat.ones(num_features))

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                                  unexpected_keys, error_msgs):
            state_dict.pop(prefix + "num_batches_tracked", None)  # torchvision drops BatchNorm's counter too
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                          unexpected_keys, error_msgs)

        def forward(self, x):
            scale = self.weight.reshape(1, -1, 1, 1) * (self.running_var.reshape(1, -1, 1, 1) + self.eps).rsqrt()
            shift = self.bias.reshape(1, -1, 1, 1) - self.running_mean.reshape(1, -1, 1, 1) * scale
            return x * scale + shift

        def __repr__(self):
            return f"{type(self).__name__}({self.weight.shape[0]}, eps={self.eps})"

    FrozenBatchNorm2d.__module__ = "torchvision.ops.misc"
    return FrozenBatchNorm2d


def _missing_class(qualname):
    """A class standing for a torch/torchvision class mlx_compat lacks: importing it works (timm imports all of
    torchvision's datasets at import time), constructing it raises NotImplementedError naming it."""
    modname, name = qualname.rsplit(".", 1)

    def build():
        def __init__(self, *args, **kwargs):
            raise NotImplementedError(f"{qualname} is not provided by mlx_compat (torch import alias)")
        return type(name, (), {"__init__": __init__, "__module__": modname, "__doc__": f"Not provided: {qualname}."})
    return build


def _save_on_cpu():
    """torch.autograd.graph.save_on_cpu: a context manager moving saved activations to host memory; MLX keeps
    arrays in memory shared by CPU and GPU, so it changes no value and nothing is moved."""
    class save_on_cpu:
        def __init__(self, pin_memory=False, device_type="cuda"):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False
    save_on_cpu.__module__ = "torch.autograd.graph"
    return save_on_cpu


def _pil_to_tensor():
    """torchvision.transforms.functional.pil_to_tensor: a PIL image as a uint8 (C, H, W) tensor, a permuted view of
    an (H, W, C) copy of its pixels, as torchvision returns it."""
    def pil_to_tensor(pic):
        import numpy as np
        import mlx_compat
        a = np.array(pic, copy=True)
        if a.ndim == 2:
            a = a[:, :, None]
        return mlx_compat.from_numpy(a).permute(2, 0, 1)
    pil_to_tensor.__module__ = "torchvision.transforms.functional"
    return pil_to_tensor


# (aliased module, attribute) -> builder: names a real mlx_compat module lacks that third-party code imports from
# it; set on the module only when it has no such attribute, and removed again by uninstall().
ATTR_SHIMS = {
    ("torchvision.ops.misc", "FrozenBatchNorm2d"): _frozen_batch_norm_2d,
    ("torch.autograd.graph", "save_on_cpu"): _save_on_cpu,
    ("torchvision.transforms.functional", "pil_to_tensor"): _pil_to_tensor,
    # torch.distributed collectives transformers imports by name when torch.distributed.is_available()
    **{("torch.distributed", n): (lambda n=n: _not_provided("torch.distributed." + n))
       for n in ("all_gather_into_tensor", "all_to_all_single", "get_process_group_ranks")},
    **{("torchvision.datasets", n): _missing_class("torchvision.datasets." + n)
       for n in ("CIFAR10", "CIFAR100", "KMNIST", "ImageFolder")},
    **{("torch.cuda", n): _missing_class("torch.cuda." + n) for n in ("CUDAGraph", "graph", "Stream", "StreamContext")},
}
_added_attrs = []

def _shim_hub():
    """torch.hub: nothing is downloaded at run time, so the download functions raise RuntimeError saying how to load
    a local file instead; get_dir() answers torch's default location ($TORCH_HOME/hub, ~/.cache/torch/hub)."""
    import os
    import re
    from urllib.parse import urlparse
    m = types.ModuleType("torch.hub")
    m.HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
    m.urlparse = urlparse

    def _get_torch_home():
        return os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"),
                                                                        "torch")))

    def get_dir():
        return os.path.join(_get_torch_home(), "hub")

    def _no_download(name):
        def fn(url, *args, **kwargs):
            raise RuntimeError(f"torch.hub.{name}({url!r}): mlx_compat downloads nothing; download the file yourself "
                               "and load it with torch.load(path) / model.load_state_dict(...)")
        fn.__name__ = name
        return fn
    m._get_torch_home = _get_torch_home
    m.get_dir = get_dir
    m.set_dir = lambda d: None
    m.load_state_dict_from_url = _no_download("load_state_dict_from_url")
    m.download_url_to_file = _no_download("download_url_to_file")
    m.load = _no_download("load")
    return m


def _placeholder_module(name, classes=(), functions=(), package=False, doc=""):
    """A module of torch's distributed-tensor / tracing names that mlx_compat lacks: each class is one no object is
    an instance of (so `isinstance(t, DTensor)` answers False, as for every eager tensor) and whose constructor
    raises NotImplementedError; each function raises NotImplementedError naming it."""
    def build():
        m = types.ModuleType(name, doc)
        for c in classes:
            setattr(m, c, _missing_class(f"{name}.{c}")())
        for f in functions:
            setattr(m, f, _not_provided(f"{name}.{f}"))
        if package:
            m.__path__ = []
        return m
    return build


def _placements():
    """torch.distributed.tensor's placement descriptors (plain data: Shard(dim), Replicate(), Partial(op)), so
    code that builds parallel plans at import time imports; using one needs a DTensor, which is not provided."""
    class Placement:
        __module__ = "torch.distributed.tensor.placement_types"

        def _key(self):
            return tuple(sorted(vars(self).items()))

        def __eq__(self, other):
            return type(self) is type(other) and self._key() == other._key()

        def __hash__(self):
            return hash((type(self).__name__,) + self._key())

        def __repr__(self):
            return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"

        def is_shard(self, dim=None):
            return isinstance(self, Shard) and (dim is None or dim == self.dim)

        def is_replicate(self):
            return isinstance(self, Replicate)

        def is_partial(self):
            return isinstance(self, Partial)

    class Shard(Placement):
        def __init__(self, dim):
            self.dim = dim

    class _StridedShard(Shard):
        def __init__(self, dim, split_factor=1):
            self.dim, self.split_factor = dim, split_factor

    class Replicate(Placement):
        pass

    class Partial(Placement):
        def __init__(self, reduce_op="sum"):
            self.reduce_op = reduce_op
    return {c.__name__: c for c in (Placement, Shard, _StridedShard, Replicate, Partial)}


_PLACEMENT_CLASSES = None


def _with_constants(build, **constants):
    """build(), with torch's module-level constants set on it (e.g. flex_attention's default block size 128)."""
    def wrapped():
        m = build()
        for k, v in constants.items():
            setattr(m, k, v)
        return m
    return wrapped


def _with_placements(build):
    def wrapped():
        global _PLACEMENT_CLASSES
        if _PLACEMENT_CLASSES is None:
            _PLACEMENT_CLASSES = _placements()
        m = build()
        for n, c in _PLACEMENT_CLASSES.items():
            setattr(m, n, c)
        return m
    return wrapped

def _shim_version():
    """torch.version: __version__ (TORCH_VERSION); cuda/hip/xpu None (no CUDA or ROCm build of torch is present,
    whatever MLX's backend), debug False."""
    m = types.ModuleType("torch.version")
    m.__version__ = TorchVersion(TORCH_VERSION)
    m.cuda = m.hip = m.xpu = None
    m.debug = False
    m.git_version = "mlx_compat"
    return m


def _shim_library():
    """torch.library's Python custom-op API (custom_op, register_fake, register_autograd, register_kernel): an op
    "ns::name" becomes callable as torch.ops.ns.name (a namespace object set on mlx_compat.ops, removed by
    uninstall()). Its implementation runs eagerly on mlx_compat tensors; register_autograd wraps it in an
    autograd.Function whose backward is the registered one; register_fake stores the fake (shape-only) function,
    which eager execution never needs. Library / fragment-style registration is not provided."""
    import mlx_compat
    m = types.ModuleType("torch.library")
    ops_module = mlx_compat.ops

    class CustomOpDef:
        def __init__(self, qualname, fn):
            self._qualname, self._fn = qualname, fn
            self._fake = None
            self._backward = self._setup_context = None
            self.__name__ = qualname.split("::")[-1]

        def __call__(self, *args, **kwargs):
            if self._backward is None:
                return self._fn(*args, **kwargs)
            op = self

            class _Op(mlx_compat.autograd.Function):
                @staticmethod
                def forward(ctx, *a):
                    with mlx_compat.no_grad():
                        out = op._fn(*a, **kwargs)
                    if op._setup_context is not None:
                        op._setup_context(ctx, a, out)
                    return out

                @staticmethod
                def backward(ctx, *grads):
                    return op._backward(ctx, *grads)
            return _Op.apply(*args)

        def register_fake(self, fn):
            self._fake = fn
            return fn

        def register_autograd(self, backward, *, setup_context=None):
            self._backward, self._setup_context = backward, setup_context

        def register_kernel(self, device_types, fn=None):
            def reg(f):
                return f
            return reg(fn) if fn is not None else reg

    registry = {}

    def _publish(qualname, op):
        ns, name = qualname.split("::")
        space = getattr(ops_module, ns, None)
        if space is None:
            space = types.SimpleNamespace()
            setattr(ops_module, ns, space)
            _added_attrs.append((ops_module, ns))
        setattr(space, name, op)
        registry[qualname] = op

    def custom_op(name, fn=None, /, *, mutates_args, device_types=None, schema=None, tags=None):
        def wrap(f):
            op = CustomOpDef(name, f)
            _publish(name, op)
            return op
        return wrap(fn) if fn is not None else wrap

    def _lookup(op):
        if isinstance(op, CustomOpDef):
            return op
        if op not in registry:
            raise RuntimeError(f"operator {op} does not exist (torch.library under mlx_compat knows only ops "
                               "made by torch.library.custom_op)")
        return registry[op]

    def register_fake(op, fn=None, /, *, lib=None, _stacklevel=1, allow_override=False):
        def reg(f):
            _lookup(op).register_fake(f)
            return f
        return reg(fn) if fn is not None else reg

    def register_autograd(op, backward, /, *, setup_context=None, lib=None):
        _lookup(op).register_autograd(backward, setup_context=setup_context)

    def register_kernel(op, device_types, fn=None, /, *, lib=None):
        def reg(f):
            return f
        return reg(fn) if fn is not None else reg
    m.CustomOpDef = CustomOpDef
    m.custom_op = custom_op
    m.register_fake = register_fake
    m.register_autograd = register_autograd
    m.register_kernel = register_kernel
    m.impl_abstract = register_fake
    m.Library = _missing_class("torch.library.Library")()
    return m


def _shim_tv_io():
    """torchvision.io: image/video decoding is not provided (read_image, decode_image, read_video ... raise
    NotImplementedError); ImageReadMode, the enum naming the channel modes, exists."""
    import enum
    m = _placeholder_module("torchvision.io", (), ("read_image", "decode_image", "decode_jpeg", "decode_png",
                                                     "read_file", "write_file", "read_video", "write_video",
                                                     "encode_jpeg", "encode_png"))()
    m.ImageReadMode = enum.Enum("ImageReadMode", [("UNCHANGED", 0), ("GRAY", 1), ("GRAY_ALPHA", 2), ("RGB", 3),
                                                  ("RGB_ALPHA", 4), ("RGBA", 4)])
    return m


SHIMS = {
    "torchvision.io": _shim_tv_io,
    "torch.library": _shim_library,
    "torch.nn.attention.flex_attention": _with_constants(_placeholder_module(
        "torch.nn.attention.flex_attention", ("BlockMask", "AuxRequest"),
        ("flex_attention", "create_block_mask", "create_mask", "and_masks", "or_masks")),
        _DEFAULT_SPARSE_BLOCK_SIZE=128),
    "torch.version": _shim_version,
    # torch.distributed's DTensor stack (transformers imports it when torch.distributed.is_available())
    "torch.distributed.tensor": _with_placements(_placeholder_module(
        "torch.distributed.tensor", ("DTensor", "DeviceMesh"), ("distribute_tensor", "distribute_module"),
        package=True)),
    "torch.distributed.tensor._utils": _placeholder_module(
        "torch.distributed.tensor._utils", (), ("compute_local_shape_and_global_offset",)),
    "torch.distributed.tensor.placement_types": _with_placements(_placeholder_module(
        "torch.distributed.tensor.placement_types")),
    "torch.distributed._functional_collectives": _placeholder_module(
        "torch.distributed._functional_collectives", (),
        ("wait_tensor", "all_to_all_single_autograd", "all_gather_tensor", "reduce_scatter_tensor", "all_reduce")),
    "torch.distributed._composable": _placeholder_module("torch.distributed._composable", package=True),
    "torch.distributed._composable.fsdp": _placeholder_module(
        "torch.distributed._composable.fsdp", ("FSDPModule", "CPUOffloadPolicy", "MixedPrecisionPolicy"),
        ("fully_shard",)),
    "torch.distributed.fsdp": _placeholder_module(
        "torch.distributed.fsdp", ("FullyShardedDataParallel", "FSDPModule", "CPUOffloadPolicy",
                                   "MixedPrecisionPolicy", "ShardingStrategy"), ("fully_shard",), package=True),
    "torch.distributed.checkpoint": _placeholder_module(
        "torch.distributed.checkpoint", (), ("save", "load"), package=True),
    "torch.distributed.checkpoint.hf_storage": _placeholder_module(
        "torch.distributed.checkpoint.hf_storage", ("HuggingFaceStorageReader", "HuggingFaceStorageWriter")),
    "torch.distributed.checkpoint.state_dict": _placeholder_module(
        "torch.distributed.checkpoint.state_dict", ("StateDictOptions",),
        ("get_model_state_dict", "set_model_state_dict", "get_optimizer_state_dict")),
    "torch.distributed.device_mesh": _placeholder_module(
        "torch.distributed.device_mesh", ("DeviceMesh",), ("init_device_mesh",)),
    "torch.hub": _shim_hub,
    "torch.jit": _shim_jit,
    "torch.jit.annotations": _shim_jit_annotations,
    "torch._dynamo._trace_wrapped_higher_order_op": _shim_dynamo_trace_wrapped,
    "torch.fx": _shim_fx,
    "torch.distributed": _shim_distributed,
}


# ---------------------------------------------------------------------------------------------------------------
# The finder
# ---------------------------------------------------------------------------------------------------------------

def _target_name(fullname):
    """'torch.nn.functional' -> 'mlx_compat.nn.functional'; None when fullname is not aliased."""
    for prefix, target in ALIASES.items():
        if fullname == prefix:
            return target
        if fullname.startswith(prefix + "."):
            return target + fullname[len(prefix):]
    return None


def _build_shim(fullname):
    """The SHIMS module `fullname`, built once and kept in sys.modules."""
    shim = sys.modules.get(fullname)
    if shim is None or not getattr(shim, "_mlx_compat_shim", False):
        shim = SHIMS[fullname]()
        shim._mlx_compat_shim = True
        sys.modules[fullname] = shim
    return shim


def _apply_attr_shims(fullname, module):
    """Set ATTR_SHIMS' attributes of the aliased module `fullname` that `module` lacks; returns module."""
    for (modname, attr), build in ATTR_SHIMS.items():
        if modname == fullname and not hasattr(module, attr):
            setattr(module, attr, build())
            _added_attrs.append((module, attr))
    return module


class _ExistingModuleLoader(importlib.abc.Loader):
    """Loads an aliased name as an already-built module object (nothing executes)."""

    def __init__(self, module):
        self._module = module

    def create_module(self, spec):
        return self._module

    def exec_module(self, module):
        pass


class TorchAliasFinder(importlib.abc.MetaPathFinder):
    """Answers `torch[.X]` and `torchvision[.X]` imports with mlx_compat's modules (see module docstring)."""

    def find_spec(self, fullname, path=None, target=None):
        target_name = _target_name(fullname)
        if target_name is None:
            return None
        module = self._resolve(fullname, target_name)
        is_pkg = hasattr(module, "__path__")
        spec = importlib.machinery.ModuleSpec(fullname, _ExistingModuleLoader(module), is_package=is_pkg)
        if is_pkg:
            spec.submodule_search_locations = list(module.__path__)
        return spec

    def _resolve(self, fullname, target_name):
        if fullname == "torch":
            import mlx_compat
            # torch.X reached as an attribute never passes through this finder: shim those attributes now
            for modname in {m for m, _ in ATTR_SHIMS if m.startswith("torch.")}:
                _apply_attr_shims(modname, importlib.import_module(_target_name(modname)))
            return TorchModule(mlx_compat)
        try:
            module = _apply_attr_shims(fullname, importlib.import_module(target_name))
            # `from torchvision import io` looks for 'mlx_compat.vision.io' (the module's own __name__), which
            # never reaches this finder: a shimmed child is set on the package as an attribute
            for shim_name in SHIMS:
                parent, _, child = shim_name.rpartition(".")
                if parent == fullname and not hasattr(module, child):
                    setattr(module, child, _build_shim(shim_name))
                    _added_attrs.append((module, child))
            return module
        except ModuleNotFoundError as exc:
            # only the aliased module itself being absent falls through to a shim; an import error inside an
            # existing mlx_compat module is a real bug and propagates as it is
            if exc.name is not None and not target_name.startswith(exc.name) and exc.name != target_name:
                raise
            if fullname in SHIMS:
                return _build_shim(fullname)
            raise ModuleNotFoundError(
                f"No module named '{fullname}': mlx_compat (the torch import alias) has no '{target_name}'",
                name=fullname) from None

    def find_distributions(self, context=importlib.metadata.DistributionFinder.Context()):
        """Answer `importlib.metadata.version('torch')` with TORCH_VERSION when no real torch distribution is
        installed (packages such as transformers decide whether torch is available this way)."""
        name = getattr(context, "name", None)
        if name not in ("torch",):
            return iter(())
        others = [f for f in sys.meta_path if f is not self and hasattr(f, "find_distributions")]
        for f in others:
            if any(True for _ in f.find_distributions(context)):
                return iter(())
        return iter((_TorchDistribution(),))


class _TorchDistribution(importlib.metadata.Distribution):
    """The metadata of the alias's `torch` (only Name and Version)."""

    def read_text(self, filename):
        if filename in ("METADATA", "PKG-INFO"):
            return f"Metadata-Version: 2.1\nName: torch\nVersion: {TORCH_VERSION}\n"
        return None

    def locate_file(self, path):
        return None


_finder = None


def is_installed():
    return _finder is not None and _finder in sys.meta_path


def _is_ours(module):
    """True for the alias's own sys.modules entries: the TorchModule, mlx_compat modules and SHIMS."""
    return (isinstance(module, TorchModule) or getattr(module, "__name__", "").startswith("mlx_compat")
            or getattr(module, "_mlx_compat_shim", False))


def _aliased_names():
    return [n for n in list(sys.modules) if _target_name(n) is not None]


def install():
    """Make `import torch` / `import torchvision` (and their submodules) resolve to mlx_compat.

    Raises RuntimeError when a real torch or torchvision is already imported in this process: the two cannot share
    one interpreter, and mixing them would silently hand real torch objects to code expecting the alias.
    Idempotent.
    """
    global _finder
    if is_installed():
        return
    # Note [no silent torch]: a real torch already in sys.modules would keep answering `import torch`, so code
    # would run on real torch while the user believes it runs on mlx_compat. Refuse instead.
    present = [n for n in _aliased_names() if not _is_ours(sys.modules[n])]
    if present:
        raise RuntimeError(
            "mlx_compat.install(): a real torch/torchvision is already imported in this process "
            f"({', '.join(sorted(present)[:5])}); install the alias before anything imports torch, e.g. run the "
            "program with `python -m mlx_compat.run script.py`")
    _finder = TorchAliasFinder()
    sys.meta_path.insert(0, _finder)
    importlib.invalidate_caches()


def uninstall():
    """Undo install(): remove the finder and every `torch*` / `torchvision*` entry the alias put in sys.modules.
    Modules that already bound the alias's objects keep them (as with any import)."""
    global _finder
    if _finder is not None:
        try:
            sys.meta_path.remove(_finder)
        except ValueError:
            pass
    _finder = None
    while _added_attrs:
        module, attr = _added_attrs.pop()
        if attr in vars(module):
            delattr(module, attr)
    for n in _aliased_names():
        del sys.modules[n]
    importlib.invalidate_caches()
