"""safetensors files, read and written directly (no dependency), with the `safetensors.torch` API: save/load
(bytes), save_file/load_file (paths) and safe_open.

The format: an 8-byte little-endian header length N, N bytes of JSON ({name: {"dtype", "shape", "data_offsets":
[begin, end]}, optionally "__metadata__": {str: str}}, padded with spaces to a multiple of 8), then the tensors'
raw little-endian bytes, packed in the order of their offsets. Tensors are written in the safetensors package's
order (by dtype, 8-byte types first, then by name), so the bytes equal the package's and every tensor's data is
aligned to its element size.

This lives at `mlx_compat.utils.safetensors` (rather than a top-level `mlx_compat.safetensors`) so that the
top-level namespace stays torch's; code written for the package changes one import:
`from safetensors.torch import load_file` -> `from mlx_compat.utils.safetensors import load_file`.
"""
from __future__ import annotations

import json
import os
import struct
import sys

import mlx.core as mx
import numpy as np

from .. import _C, _device, _dtype
from .._tensor import Tensor, _new

__all__ = ["save", "save_file", "load", "load_file", "safe_open", "SafetensorError"]


class SafetensorError(Exception):
    """A malformed safetensors file or buffer (the safetensors package's SafetensorError)."""


_TO_CODE = {"bool": "BOOL", "uint8": "U8", "int8": "I8", "int16": "I16", "uint16": "U16", "float16": "F16",
            "bfloat16": "BF16", "int32": "I32", "uint32": "U32", "float32": "F32", "float64": "F64", "int64": "I64",
            "uint64": "U64", "complex64": "C64"}
_FROM_CODE = {v: _dtype.BY_NAME[k] for k, v in _TO_CODE.items()}
# the package's dtype order (its Rust enum's): files list tensors by dtype from the last of these, then by name,
# which keeps each tensor aligned to its element size
_RANK = {c: i for i, c in enumerate(["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0",
                                     "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"])}
_UNSUPPORTED = {"F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C128"}


def _np_dtype(d):
    return np.dtype(np.uint16) if d is _dtype.bfloat16 else np.dtype(d._np)


def _tensor_bytes(t):
    arr = t._mx
    if t.dtype is _dtype.bfloat16:
        arr = mx.view(arr, mx.uint16, stream=mx.cpu)
    _C._eval(arr)  # under the evaluation lock (Note [Threads])
    a = np.ascontiguousarray(np.asarray(arr))  # a zero-copy view of the evaluated array
    if sys.byteorder != "little":
        a = a.byteswap()
    return memoryview(a.reshape(-1)).cast("B") if a.size else b""  # joined into the file's bytes without another copy


def _check(tensors):
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, Tensor] but received {type(tensors)}")
    invalid = [k for k, v in tensors.items() if not isinstance(v, Tensor)]
    if invalid:
        raise ValueError(f"Key `{invalid[0]}` is invalid, expected Tensor but received {type(tensors[invalid[0]])}")
    for k, v in tensors.items():
        if not v.is_contiguous():
            raise ValueError(f"You are trying to save a non contiguous tensor: `{k}` which is not allowed. It either "
                             "means you are trying to save tensors which are reference of each other in which case "
                             "it's recommended to save only the full tensors, and reslice at load time, or simply "
                             "call `.contiguous()` on your tensor to pack it before saving.")
    by_storage = {}
    for k, v in tensors.items():
        if v.numel():
            by_storage.setdefault(v._storage_id(), []).append(k)
    shared = [set(names) for names in by_storage.values() if len(names) > 1]
    if shared:
        raise RuntimeError(f"Some tensors share memory, this will lead to duplicate memory on disk and potential "
                           f"differences when loading them again: {shared}.")


def save(tensors, metadata=None):
    """The safetensors bytes of `tensors` (a dict of name -> contiguous Tensor); `metadata` a dict of str -> str."""
    _check(tensors)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                     for k, v in metadata.items()):
            raise ValueError("metadata must be a dict of str keys and str values")
    order = sorted(tensors, key=lambda k: (-_RANK[_TO_CODE[tensors[k].dtype.name]], k))
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in order:
        t = tensors[name]
        data = _tensor_bytes(t)
        header[name] = {"dtype": _TO_CODE[t.dtype.name], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def save_file(tensors, filename, metadata=None):
    data = save(tensors, metadata)
    with open(filename, "wb") as f:
        f.write(data)


def _parse_header(buf):
    if len(buf) < 8:
        raise SafetensorError("Error while deserializing header: header too small")
    (n,) = struct.unpack("<Q", bytes(buf[:8]))
    if n > len(buf) - 8:
        raise SafetensorError("Error while deserializing header: header too large")
    try:
        header = json.loads(bytes(buf[8: 8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorError(f"Error while deserializing header: invalid JSON in header: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorError("Error while deserializing header: the header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    data_len = len(buf) - 8 - n
    end = 0
    entries = {}
    for name, info in sorted(header.items(), key=lambda kv: _offsets(kv)[0]):
        try:
            code, shape = info["dtype"], [int(s) for s in info["shape"]]
            begin, stop = (int(o) for o in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise SafetensorError(f"Error while deserializing header: malformed entry for tensor {name!r}") from None
        if code in _UNSUPPORTED:
            raise SafetensorError(f"tensor {name!r} has dtype {code}, which mlx_compat cannot represent")
        if code not in _FROM_CODE:
            raise SafetensorError(f"Error while deserializing header: unknown dtype {code!r} for tensor {name!r}")
        d = _FROM_CODE[code]
        numel = 1
        for s in shape:
            if s < 0:
                raise SafetensorError(f"Error while deserializing header: negative dimension in {name!r}")
            numel *= s
        if begin != end or stop < begin:
            raise SafetensorError("Error while deserializing header: invalid offset (the data offsets are not "
                                  f"contiguous at tensor {name!r})")
        if stop - begin != numel * d.itemsize:
            raise SafetensorError(f"Error while deserializing header: tensor {name!r} has {stop - begin} bytes for "
                                  f"shape {shape} of {code}")
        end = stop
        entries[name] = (d, shape, begin, stop)
    if end != data_len:
        raise SafetensorError("Error while deserializing header: metadata incomplete buffer (the data section is "
                              f"{data_len} bytes, the header describes {end})")
    return entries, metadata, 8 + n


def _offsets(kv):
    try:
        return [int(o) for o in kv[1]["data_offsets"]]
    except (KeyError, TypeError, ValueError):
        raise SafetensorError(f"Error while deserializing header: malformed entry for tensor {kv[0]!r}") from None


def _build(buf, start, entry, device):
    d, shape, begin, stop = entry
    a = np.frombuffer(buf, dtype=_np_dtype(d).newbyteorder("<"), count=(stop - begin) // d.itemsize,
                      offset=start + begin).astype(_np_dtype(d), copy=False)
    # MLX would turn a float64 numpy array into float32 without the explicit dtype
    arr = mx.view(mx.array(a, dtype=mx.uint16), mx.bfloat16, stream=mx.cpu) if d is _dtype.bfloat16 else \
        mx.array(a, dtype=d._mx)
    code = _device.to_code(_device.device(device)) if device not in (None, "cpu") else 0
    return _new(mx.reshape(arr, shape, stream=mx.cpu), code, d)


def load(data, device="cpu"):
    """The tensors of safetensors bytes, as a dict name -> Tensor (in the file's order)."""
    entries, _meta, start = _parse_header(data)
    return {name: _build(data, start, entry, device) for name, entry in entries.items()}


def load_file(filename, device="cpu"):
    with open(filename, "rb") as f:
        data = f.read()
    return load(data, device)


class safe_open:
    """`with safe_open(path, framework="pt") as f`: keys(), metadata(), get_tensor(name)."""

    def __init__(self, filename, framework="pt", device="cpu"):
        if framework not in ("pt", "torch", "numpy", "np", "mlx"):
            raise SafetensorError(f"framework {framework!r} is not supported here")
        self._framework = framework
        self._device = device
        with open(os.fspath(filename), "rb") as f:
            self._data = f.read()
        self._entries, self._metadata, self._start = _parse_header(self._data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def keys(self):
        return list(self._entries)

    def metadata(self):
        return self._metadata

    def get_tensor(self, name):
        if name not in self._entries:
            raise SafetensorError(f"File does not contain tensor {name}")
        t = _build(self._data, self._start, self._entries[name], self._device)
        return t.numpy() if self._framework in ("numpy", "np") else t
