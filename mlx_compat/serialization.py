"""Checkpoints in PyTorch's file format, written and read without torch: `save` / `load`.

The format (what torch 2.x writes, and so what `torch.load` expects):
  - a zip archive (entries stored, not compressed; each entry's data aligned to 64 bytes) under one top-level
    folder: `<name>/data.pkl` (the object, pickled at protocol 2), `<name>/.format_version` ("1"),
    `<name>/.storage_alignment` ("64"), `<name>/byteorder` ("little"), one `<name>/data/<key>` per storage
    (its raw bytes), `<name>/version` ("3") and `<name>/.data/serialization_id`;
  - in data.pkl a tensor is `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride,
    requires_grad, backward_hooks)` (`_rebuild_tensor_v3(..., dtype)` over an UntypedStorage for the unsigned
    dtypes torch has no legacy storage class for), the storage a persistent id `('storage', torch.FloatStorage,
    key, location, numel)`, a Parameter `torch._utils._rebuild_parameter(tensor, requires_grad, hooks)`.
The legacy (pre-1.6, non-zip) format is read too: magic number, protocol version and system info pickles, the
object pickle, the storage keys, then each storage as an 8-byte element count and its bytes.

Note [Storages on save and load]: a storage is a root tensor's flat value (`Tensor._storage_id` names it).
Every tensor saved refers to its root's storage with its own (offset, size, stride), so two views of one base are
saved with one storage. On load each storage becomes one flat MLX array; the first tensor that covers it exactly
(offset 0, contiguous, every element) becomes its owner, and every other tensor over it is an `as_strided` view
of that owner (or of a hidden flat owner when the first is partial), so loaded views still alias as in torch.

Note [weights_only]: `load(weights_only=True)` (the default, as in torch 2.6+) unpickles with `find_class`
answering only from an allow-list (the rebuild functions, storage classes, dtypes, Size, device, OrderedDict,
Counter, set, bytearray, complex, `_codecs.encode` for bytes, plus `add_safe_globals`), so no callable named by
the file outside that list can ever be reached; a refused global raises pickle.UnpicklingError naming it.
"""
from __future__ import annotations

import _compat_pickle
import collections
import io
import os
import pathlib
import pickle
import struct
import sys
import threading
import zipfile

import mlx.core as mx
import numpy as np

from . import _C, _device, _dtype
from ._size import Size
from ._tensor import Tensor, _new, _root

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals",
           "DEFAULT_PROTOCOL"]

DEFAULT_PROTOCOL = 2
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
STORAGE_ALIGNMENT = 64

# torch's legacy <Type>Storage class per dtype (dtypes without one are saved as UntypedStorage + dtype)
_STORAGE_NAME = {
    "float64": "DoubleStorage", "float32": "FloatStorage", "float16": "HalfStorage", "int64": "LongStorage",
    "int32": "IntStorage", "int16": "ShortStorage", "int8": "CharStorage", "uint8": "ByteStorage",
    "bool": "BoolStorage", "bfloat16": "BFloat16Storage", "complex64": "ComplexFloatStorage",
}
_UNSUPPORTED_STORAGE = {"ComplexDoubleStorage": "complex128", "QInt8Storage": "qint8", "QInt32Storage": "qint32",
                        "QUInt8Storage": "quint8", "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4"}


def _np_dtype(d):
    """The numpy dtype that holds `d`'s bytes (bfloat16 as uint16, reinterpreted in MLX)."""
    return np.dtype(np.uint16) if d is _dtype.bfloat16 else np.dtype(d._np)


# ---------------------------------------------------------------------------------------------------- saving


class _Global:
    """A reference written as pickle's GLOBAL opcode (`module name`), so torch's names are written without torch."""

    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle's save_reduce requires a callable; this one is only ever written
        raise TypeError(f"{self.module}.{self.name} is a name written into a checkpoint, not a function")


class _StorageRef:
    """A tensor's storage as the pickle refers to it (a persistent id)."""

    __slots__ = ("key", "dtype", "typed", "location", "numel")

    def __init__(self, key, dtype, typed, location, numel):
        self.key, self.dtype, self.typed, self.location, self.numel = key, dtype, typed, location, numel


def _parameter_type():
    try:
        from .nn.parameter import Parameter
    except ImportError:
        return None
    return Parameter


class _TorchPickler(pickle._Pickler):
    """Protocol-2 pickler that writes tensors, storages, dtypes, devices and Size under torch's names."""

    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.storages = {}  # storage id -> (key, dtype, root tensor)
        self._parameter = _parameter_type()

    def _save_global_ref(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    dispatch[_Global] = _save_global_ref

    def persistent_id(self, obj):
        if isinstance(obj, _StorageRef):
            cls = _Global("torch", _STORAGE_NAME[obj.dtype.name]) if obj.typed else \
                _Global("torch.storage", "UntypedStorage")
            return ("storage", cls, obj.key, obj.location, obj.numel)
        return None

    def _storage_of(self, t):
        root = _root(t)
        sid = t._storage_id()
        entry = self.storages.get(sid)
        if entry is None:
            entry = (str(len(self.storages)), t.dtype, root)
            self.storages[sid] = entry
        elif entry[1] is not t.dtype:
            raise RuntimeError("Cannot save multiple tensors or storages that view the same data as different types")
        key, d, root = entry
        nbytes = root.numel() * root.dtype.itemsize
        typed = d.name in _STORAGE_NAME
        location = "cpu" if t.device.type == "cpu" else str(t.device) if t.device.index is not None else \
            f"{t.device.type}:0"
        return _StorageRef(key, d, typed, location, nbytes // d.itemsize if typed else nbytes)

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            if self._parameter is not None and isinstance(obj, self._parameter):
                plain = obj.detach()
                return (_Global("torch._utils", "_rebuild_parameter"),
                        (_PlainTensor(plain), obj.requires_grad, collections.OrderedDict()))
            return self._tensor_reduce(obj)
        if isinstance(obj, _PlainTensor):
            return self._tensor_reduce(obj.tensor, requires_grad=False)
        if isinstance(obj, _dtype.dtype):
            return NotImplemented
        if isinstance(obj, _device.device):
            return (_Global("torch", "device"), (str(obj),))
        if type(obj) is Size:
            return (_Global("torch", "Size"), (tuple(obj),))
        return NotImplemented

    def _tensor_reduce(self, t, requires_grad=None):
        if requires_grad is None:
            requires_grad = t.requires_grad
        ref = self._storage_of(t)
        args = (ref, t.storage_offset(), tuple(t.shape), tuple(t.stride()), requires_grad, collections.OrderedDict())
        # torch's tensor metadata: a conjugate / negative view saves its storage and its bit (Note [Conjugate views])
        metadata = {k: True for k, on in (("conj", t.is_conj()), ("neg", t.is_neg())) if on}
        if ref.typed:
            return (_Global("torch._utils", "_rebuild_tensor_v2"), args + ((metadata,) if metadata else ()))
        return (_Global("torch._utils", "_rebuild_tensor_v3"),
                args + (_Global("torch", t.dtype.name),) + ((metadata,) if metadata else ()))

    def _save_dtype(self, obj):
        self._save_global_ref(_Global("torch", obj.name))

    dispatch[_dtype.dtype] = _save_dtype


class _PlainTensor:
    """A Parameter's data, pickled as a plain tensor inside `_rebuild_parameter`."""

    __slots__ = ("tensor",)

    def __init__(self, tensor):
        self.tensor = tensor


def _storage_bytes(root):
    """The root tensor's storage as a bytes-like object (little-endian, row-major: the base's physical order)."""
    flat = root._storage_value()
    if root.dtype is _dtype.bfloat16:
        flat = mx.view(flat, mx.uint16, stream=mx.cpu)
    _C._eval(flat)  # under the evaluation lock (Note [Threads]): checkpoints are often saved from a thread
    arr = np.ascontiguousarray(np.asarray(flat))  # a zero-copy view of the evaluated array
    if sys.byteorder != "little":
        arr = arr.byteswap()
    return memoryview(arr.reshape(-1)).cast("B") if arr.size else b""  # written into the archive without another copy


def _open_for_write(f):
    if isinstance(f, (str, os.PathLike)):
        parent = os.path.dirname(os.fspath(f))
        if parent and not os.path.isdir(parent):
            raise RuntimeError(f"Parent directory {parent} does not exist.")
        return open(f, "wb"), True, pathlib.Path(f).stem or "archive"
    if not hasattr(f, "write"):
        raise AttributeError(f"expected 'f' to be string, path, or a file-like object with a 'write' attribute")
    return f, False, "archive"


def _aligned_info(zf, name):
    """A ZipInfo for `name` whose data will start on a STORAGE_ALIGNMENT boundary (padding in the local header's
    extra field under the id 'FB', as torch's writer does)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    offset = zf.fp.tell() + 30 + len(name.encode("utf-8"))
    pad = (-(offset + 4)) % STORAGE_ALIGNMENT
    info.extra = b"FB" + struct.pack("<H", pad) + b"\0" * pad
    return info


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """torch.save: write `obj` (tensors, Parameters, containers, numbers, strings, ...) to a path or a writable
    file-like object in PyTorch's zip checkpoint format (readable by torch.load)."""
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("mlx_compat.save writes PyTorch's zip format only (the legacy format is read by "
                                  "load)")
    if pickle_module is not pickle:
        raise ValueError("mlx_compat.save pickles with the standard pickle module only")
    data_buf = io.BytesIO()
    pickler = _TorchPickler(data_buf, pickle_protocol)
    pickler.dump(obj)
    records = [("data.pkl", data_buf.getvalue()), (".format_version", b"1"),
               (".storage_alignment", str(STORAGE_ALIGNMENT).encode())]
    if not _disable_byteorder_record:
        records.append(("byteorder", sys.byteorder.encode()))
    for sid, (key, _d, root) in pickler.storages.items():
        records.append((f"data/{key}", _storage_bytes(root)))
    records.append(("version", b"3\n"))
    serial = "".join(str(int(b) % 10) for b in os.urandom(40))
    records.append((".data/serialization_id", serial.encode()))

    fobj, owned, archive = _open_for_write(f)
    try:
        seekable = True
        try:
            fobj.tell()
        except (AttributeError, OSError, io.UnsupportedOperation):
            seekable = False
        target = fobj if seekable else io.BytesIO()
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, data in records:
                full = f"{archive}/{name}"
                zf.writestr(_aligned_info(zf, full), data)
        if not seekable:
            fobj.write(target.getvalue())
    finally:
        if owned:
            fobj.close()


# ---------------------------------------------------------------------------------------------------- loading


class _LoadedStorage:
    """One storage of a checkpoint: its flat MLX array, dtype and device, and (Note [Storages on save and load])
    the tensor that owns it once one is built. Also what a `map_location` callable receives."""

    def __init__(self, array, dtype, device):
        self._array, self.dtype, self._device, self._owner = array, dtype, device, None

    @property
    def device(self):
        return _device.device(self._device)

    def nbytes(self):
        return self._array.size * self.dtype.itemsize

    def size(self):
        return self._array.size

    def to(self, device=None, **kwargs):
        return _LoadedStorage(self._array, self.dtype, str(_device.device(device)) if device is not None else
                              self._device)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda")

    def mps(self):
        return self.to("mps")

    def as_dtype(self, d):
        """The same bytes reinterpreted as dtype `d` (an UntypedStorage's bytes for _rebuild_tensor_v3), one
        storage per dtype so tensors over it still share."""
        if d is self.dtype:
            return self
        cache = self.__dict__.setdefault("_as", {})
        if d.name not in cache:
            if self._owner is not None or cache:
                raise RuntimeError("Cannot load tensors that view the same storage as different types")
            if self.nbytes() % d.itemsize:
                raise RuntimeError(f"corrupt checkpoint: a storage of {self.nbytes()} bytes cannot hold {d} elements")
            cache[d.name] = _LoadedStorage(mx.view(self._array, d._mx, stream=mx.cpu), d, self._device)
        return cache[d.name]

    def _owner_tensor(self):
        if self._owner is None:
            self._owner = _new(self._array, _device.to_code(self._device), self.dtype)
        return self._owner


def _contiguous_strides(size):
    strides, acc = [], 1
    for s in reversed(size):
        strides.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(strides))


def _tensor_on(storage, offset, size, stride):
    if storage is _Pending:
        return None
    if isinstance(storage, _StorageSlice):
        offset, storage = offset + storage.offset, storage.root
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    n = 1
    for s in size:
        n *= s
    if offset < 0 or (n and offset + sum((s - 1) * st for s, st in zip(size, stride)) >= storage.size()):
        raise RuntimeError(f"corrupt checkpoint: a tensor of size {list(size)}, stride {list(stride)} at offset "
                           f"{offset} lies outside its storage of {storage.size()} elements")
    if storage._owner is None and offset == 0 and n == storage.size() and \
            (len(size) == 0 or stride == _contiguous_strides(size)):
        owner = _new(mx.reshape(storage._array, size, stream=mx.cpu), _device.to_code(storage._device), storage.dtype)
        storage._owner = owner
        return owner
    return storage._owner_tensor().as_strided(size, stride, offset)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _tensor_on(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    t = _tensor_on(storage, storage_offset, size, stride)
    if t is not None and metadata:  # torch's conj / neg bits: views of the storage with the bit set
        if metadata.get("conj") and t.dtype.is_complex:
            t = t._bit_view(1)
        if metadata.get("neg"):
            t = t._bit_view(2)
    if requires_grad and t is not None:
        t.requires_grad = True
    return t


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    if storage is _Pending:
        return None
    return _rebuild_tensor_v2(storage.as_dtype(dtype), storage_offset, size, stride, requires_grad, backward_hooks,
                              metadata)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    param = _parameter_type()
    if data is None:
        return None
    if param is None:
        data.requires_grad = requires_grad
        return data
    return param(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    p = _rebuild_parameter(data, requires_grad, backward_hooks)
    if p is None:
        return None
    for k, v in (state or {}).items():
        setattr(p, k, v)
    return p


def _rebuild_from_type_v2(func, new_type, args, state):
    ret = func(*args)
    if ret is None:
        return None
    param = _parameter_type()
    if param is not None and new_type is param and not isinstance(ret, param):
        ret = param(ret, ret.requires_grad)
    if state:
        for k, v in (state[0] if isinstance(state, tuple) else state).items():
            setattr(ret, k, v)
    return ret


class _StorageType:
    """torch.FloatStorage & co. as a checkpoint names them: the dtype of the storage's elements."""

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype

    def __repr__(self):
        return f"StorageType(dtype={self.dtype})"


def _get_layout(name):
    return name


def _torch_device(*args):
    return _device.device(*args)


def _torch_size(items=()):
    return Size(items)


def _codecs_encode(s, encoding="utf-8"):
    return s.encode(encoding)


def _build_allowed():
    rc = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("collections", "Counter"): collections.Counter,
        ("torch", "Size"): _torch_size,
        ("torch", "device"): _torch_device,
        ("torch.serialization", "_get_layout"): _get_layout,
        ("_codecs", "encode"): _codecs_encode,
        ("builtins", "bytearray"): bytearray,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "complex"): complex,
        ("builtins", "slice"): slice,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
        ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
        ("torch", "Tensor"): Tensor,
        ("torch._tensor", "Tensor"): Tensor,
        ("torch.storage", "UntypedStorage"): _StorageType("UntypedStorage", _dtype.uint8),
        ("torch", "UntypedStorage"): _StorageType("UntypedStorage", _dtype.uint8),
        ("torch", "strided"): "strided",
    }
    for name, d in _dtype.BY_NAME.items():
        rc[("torch", name)] = d
    for alias, name in (("float", "float32"), ("double", "float64"), ("half", "float16"), ("long", "int64"),
                        ("int", "int32"), ("short", "int16"), ("cfloat", "complex64")):
        rc[("torch", alias)] = _dtype.BY_NAME[name]
    for dname, sname in _STORAGE_NAME.items():
        rc[("torch", sname)] = _StorageType(sname, _dtype.BY_NAME[dname])
    param = _parameter_type()
    if param is not None:
        rc[("torch.nn.parameter", "Parameter")] = param
        rc[("torch.nn", "Parameter")] = param
    return rc


_safe_globals = {}
_safe_lock = threading.Lock()


def add_safe_globals(safe_globals):
    """Allow more globals for weights_only loads: objects (named by their `__module__.__qualname__`) or
    `(object, "module.name")` pairs."""
    with _safe_lock:
        for g in safe_globals:
            if isinstance(g, tuple):
                obj, full = g
            else:
                obj, full = g, f"{g.__module__}.{g.__qualname__}"
            module, _, name = full.rpartition(".")
            _safe_globals[(module, name)] = obj


def get_safe_globals():
    return list(_safe_globals.values())


def clear_safe_globals():
    with _safe_lock:
        _safe_globals.clear()


class safe_globals:
    """Context manager: `add_safe_globals` for the duration of a `with` block."""

    def __init__(self, safe_globals):
        self._globals = safe_globals

    def __enter__(self):
        self._saved = dict(_safe_globals)
        add_safe_globals(self._globals)

    def __exit__(self, *exc):
        with _safe_lock:
            _safe_globals.clear()
            _safe_globals.update(self._saved)


_WEIGHTS_ONLY_MSG = (
    "Weights only load failed. This file can still be loaded, to do so you have two options, do those steps only "
    "if you trust the source of the checkpoint. \n\t(1) Re-running `load` with `weights_only` set to `False` will "
    "likely succeed, but it can result in arbitrary code execution. Do it only if you got the file from a trusted "
    "source.\n\t(2) Alternatively, to load with `weights_only=True` please check the recommended steps in the "
    "following error message.\n\tWeightsUnpickler error: {}")


def _restore_location(map_location):
    """A function (storage, location) -> storage, from load's `map_location` (as torch's)."""
    def default(storage, location):
        dev = _device.device(location) if location else _device.device("cpu")
        if dev.type != "cpu":
            try:
                code = _device.to_code(dev)
            except Exception as e:  # noqa: BLE001
                code = None
                err = e
            if code is None or code == 0:
                raise RuntimeError(f"Attempting to deserialize object on a {dev.type.upper()} device but it is not "
                                   "available here. If you are running on a CPU-only machine, please use load with "
                                   "map_location='cpu' to map your storages to the CPU.") from \
                    (err if code is None else None)
        return storage.to(dev)

    if map_location is None:
        return default
    if isinstance(map_location, dict):
        return lambda storage, location: default(storage, map_location.get(location, location))
    if isinstance(map_location, (str, bytes)):
        loc = map_location.decode() if isinstance(map_location, bytes) else map_location
        return lambda storage, location: default(storage, loc)
    if isinstance(map_location, _device.device):
        return lambda storage, location: default(storage, str(map_location))
    if callable(map_location):
        def call(storage, location):
            result = map_location(storage, location)
            return default(storage, location) if result is None else result
        return call
    raise TypeError(f"map_location should be a str, a device, a dict or a callable, not {type(map_location).__name__}")


class _TorchUnpickler(pickle.Unpickler):
    """Unpickles data.pkl (or a legacy object pickle): torch's names resolve to ours; with weights_only, nothing
    outside the allow-list resolves at all (Note [weights_only])."""

    def __init__(self, file, weights_only, storage_loader):
        super().__init__(file, encoding="utf-8")
        self._weights_only = weights_only
        self._allowed = _build_allowed()
        self._storage_loader = storage_loader

    def find_class(self, module, name):
        if True:  # Python 2 names, which protocol 0-2 pickles use (__builtin__.complex, copy_reg, ...)
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        key = (module, name)
        if key in self._allowed:
            return self._allowed[key]
        if key in _safe_globals:
            return _safe_globals[key]
        if module == "torch" and name in _UNSUPPORTED_STORAGE:
            raise RuntimeError(f"this checkpoint holds {_UNSUPPORTED_STORAGE[name]} storages, which mlx_compat "
                               "cannot represent (MLX has no such dtype)")
        if self._weights_only:
            raise pickle.UnpicklingError(_WEIGHTS_ONLY_MSG.format(
                f"Unsupported global: GLOBAL {module}.{name} was not an allowed global by default. Please use "
                f"`mlx_compat.serialization.add_safe_globals([{name}])` or the "
                f"`mlx_compat.serialization.safe_globals([{name}])` context manager to allowlist this global if "
                "you trust this class/function."))
        if module == "torch" or module.startswith("torch."):
            ours = "mlx_compat" + module[len("torch"):]
            try:
                __import__(ours)
                obj = sys.modules[ours]
                for part in name.split("."):
                    obj = getattr(obj, part)
                return obj
            except (ImportError, AttributeError):
                pass
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid:
            raise pickle.UnpicklingError(f"corrupt checkpoint: unexpected persistent id {pid!r}")
        typename = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
        if typename != "storage":
            raise pickle.UnpicklingError(f"corrupt checkpoint: unknown persistent id type {typename!r}")
        return self._storage_loader(pid[1:])


def _storage_type_dtype(storage_type):
    if not isinstance(storage_type, _StorageType):
        raise pickle.UnpicklingError(f"corrupt checkpoint: {storage_type!r} is not a storage type")
    return storage_type.dtype


def _array_from_bytes(raw, d, numel):
    need = numel * d.itemsize
    if len(raw) < need:
        raise RuntimeError(f"corrupt or truncated checkpoint: a storage of {numel} {d} elements needs {need} bytes, "
                           f"found {len(raw)}")
    arr = np.frombuffer(raw, dtype=_np_dtype(d).newbyteorder("<"), count=numel)
    if sys.byteorder != "little":
        arr = arr.astype(_np_dtype(d))
    # MLX would turn a float64 numpy array into float32 without the explicit dtype
    out = mx.view(mx.array(arr, dtype=mx.uint16), mx.bfloat16, stream=mx.cpu) if d is _dtype.bfloat16 else \
        mx.array(arr, dtype=d._mx)
    return out


def _is_zip(fobj):
    start = fobj.tell()
    head = fobj.read(4)
    fobj.seek(start)
    return head == b"PK\x03\x04"


def _load_zip(fobj, restore, weights_only):
    try:
        zf = zipfile.ZipFile(fobj)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise RuntimeError(f"PytorchStreamReader failed reading zip archive: {e} (corrupt or truncated file)") from e
    names = zf.namelist()
    pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1] or \
        [n for n in names if n == "data.pkl"]
    if not pkl:
        raise RuntimeError("PytorchStreamReader failed locating file data.pkl: file not found (not a PyTorch "
                           "checkpoint, or a corrupt one)")
    prefix = pkl[0][: -len("data.pkl")]
    if prefix + "byteorder" in names:
        order = zf.read(prefix + "byteorder")
        if order not in (b"little", b"big"):
            raise ValueError("Unknown endianness type: " + order.decode(errors="replace"))
    else:
        order = b"little"
    loaded = {}

    def storage_loader(data):
        storage_type, key, location, numel = data[:4]
        d = _storage_type_dtype(storage_type)
        key = str(key)
        if key not in loaded:
            try:
                raw = zf.read(f"{prefix}data/{key}")
            except KeyError:
                raise RuntimeError(f"PytorchStreamReader failed locating file data/{key}: file not found "
                                   "(corrupt checkpoint)") from None
            if order == b"big":
                raw = np.frombuffer(raw, dtype=_np_dtype(d).newbyteorder(">")).astype(_np_dtype(d)).tobytes()
            storage = _LoadedStorage(_array_from_bytes(raw, d, numel), d, "cpu")
            loc = location.decode("ascii") if isinstance(location, bytes) else location
            loaded[key] = restore(storage, loc)
        return loaded[key]

    try:
        raw_pkl = zf.read(pkl[0])
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise RuntimeError(f"PytorchStreamReader failed reading file data.pkl: {e} (corrupt file)") from e
    return _unpickle(io.BytesIO(raw_pkl), weights_only, storage_loader, zf)


def _unpickle(stream, weights_only, storage_loader, zf=None):
    u = _TorchUnpickler(stream, weights_only, storage_loader)
    try:
        return u.load()
    except (pickle.UnpicklingError, RuntimeError, TypeError, ValueError, NotImplementedError):
        raise
    except (EOFError, zipfile.BadZipFile, struct.error, KeyError, IndexError, AttributeError) as e:
        raise RuntimeError(f"corrupt or truncated checkpoint: {type(e).__name__}: {e}") from e


def _load_legacy(fobj, restore, weights_only):
    import tarfile

    start = fobj.tell()
    try:
        with tarfile.open(fileobj=fobj, mode="r:") as _tar:
            raise RuntimeError("this checkpoint is in torch's tar format (before 0.4), which load does not read")
    except tarfile.TarError:
        fobj.seek(start)

    def header():
        try:
            return _TorchUnpickler(fobj, True, None).load()
        except EOFError as e:
            raise RuntimeError(f"Invalid magic number; corrupt file? ({e})") from e

    if header() != MAGIC_NUMBER:  # noqa: SIM300
        raise RuntimeError("Invalid magic number; corrupt file?")
    protocol = header()
    if protocol != PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {protocol}")
    sys_info = header()
    little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
    # Note [Legacy storages follow the pickle]: the storages' bytes come after the object pickle, and their
    # element sizes are only known from it; pass 1 unpickles to learn each storage's dtype (tensors are not
    # built), then the bytes are read and pass 2 unpickles again over the real storages.
    pickle_start = fobj.tell()
    roots = {}

    def learn(data):
        storage_type, root_key, location, numel, view_metadata = data
        roots.setdefault(str(root_key), (_storage_type_dtype(storage_type), location))
        return _Pending

    _unpickle(fobj, weights_only, learn)
    keys = header()
    storages = {}
    for key in keys:
        key = str(key)
        if key not in roots:
            raise RuntimeError(f"corrupt checkpoint: storage key {key!r} was never referenced")
        d, location = roots[key]
        head = fobj.read(8)
        if len(head) != 8:
            raise RuntimeError("corrupt or truncated checkpoint: storage data ends early")
        (count,) = struct.unpack("<q" if little else ">q", head)
        raw = fobj.read(count * d.itemsize)
        if not little:
            raw = np.frombuffer(raw, dtype=_np_dtype(d).newbyteorder(">")).astype(_np_dtype(d)).tobytes()
        storage = _LoadedStorage(_array_from_bytes(raw, d, count), d, "cpu")
        loc = location.decode("ascii") if isinstance(location, bytes) else location
        storages[key] = restore(storage, loc)

    def resolve(data):
        storage_type, root_key, location, numel, view_metadata = data
        try:
            root = storages[str(root_key)]
        except KeyError:
            raise RuntimeError(f"corrupt checkpoint: the data of storage {root_key!r} is missing") from None
        if view_metadata is None:
            return root
        _view_key, offset, view_size = view_metadata
        return _StorageSlice(root, int(offset), int(view_size))

    end = fobj.tell()
    fobj.seek(pickle_start)
    result = _unpickle(fobj, weights_only, resolve)
    fobj.seek(end)
    return result


class _PendingStorage:
    """Pass 1's stand-in storage (Note [Legacy storages follow the pickle]): tensors over it are not built."""


_Pending = _PendingStorage()


class _StorageSlice:
    """A legacy storage that is a window (offset, size) of a root storage; tensors over it view the root."""

    def __init__(self, root, offset, size):
        if offset < 0 or offset + size > root.size():
            raise RuntimeError("corrupt checkpoint: a storage view lies outside its root storage")
        self.root, self.offset, self._size = root, offset, size

    def size(self):
        return self._size


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """torch.load: read a checkpoint written by torch.save (zip or legacy format) or by `save`. `weights_only`
    (default True) refuses any global outside the allow-list (Note [weights_only]); `map_location` is 'cpu', a
    device, a dict {saved location: new location} or a callable(storage, location)."""
    if weights_only is None:
        weights_only = os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0") not in ("1", "true", "True")
    if pickle_module is not None and pickle_module is not pickle:
        if weights_only:
            raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    restore = _restore_location(map_location)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fobj:
            return _load_stream(fobj, restore, weights_only)
    if not hasattr(f, "read"):
        raise AttributeError(f"expected 'f' to be string, path, or a file-like object with a 'read' attribute")
    if not (hasattr(f, "seek") and hasattr(f, "tell")):
        f = io.BytesIO(f.read())
    return _load_stream(f, restore, weights_only)


def _load_stream(fobj, restore, weights_only):
    if _is_zip(fobj):
        return _load_zip(fobj, restore, weights_only)
    head = fobj.read(2)
    fobj.seek(-len(head), io.SEEK_CUR)
    if len(head) == 0:
        raise EOFError("Ran out of input")
    if head[:1] != b"\x80":
        raise pickle.UnpicklingError(f"invalid load key, '{head[:1].decode('latin1')}'. (not a PyTorch checkpoint, "
                                     "or a corrupt one)")
    return _load_legacy(fobj, restore, weights_only)
