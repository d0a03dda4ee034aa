"""mlx_compat.utils.safetensors against the safetensors package (its torch API): the same bytes written, each
reads the other's files, every dtype, metadata, safe_open, and the package's errors."""
import io
import struct

import numpy as np
import pytest
import torch

import mlx_compat as mc
from mlx_compat.utils import safetensors as ms

st = pytest.importorskip("safetensors.torch", reason="the safetensors package is the oracle (the `test` extra)")

DTYPES = ["float32", "float64", "float16", "bfloat16", "complex64", "int8", "int16", "int32", "int64", "uint8",
          "uint16", "uint32", "uint64", "bool"]


def _pair(name, shape):
    rng = np.random.default_rng(len(name))
    n = int(np.prod(shape))
    if name == "bool":
        a = rng.random(n) > 0.5
    elif name.startswith(("float", "bfloat")):
        a = rng.standard_normal(n) * 1e3
    elif name == "complex64":
        a = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
    else:
        info = np.iinfo(name)
        a = rng.integers(info.min, info.max, n, dtype=name, endpoint=True)
    ref = torch.tensor(a.reshape(shape)).to(getattr(torch, name))
    return ref, mc.from_torch(ref)


def _bits(t):
    t = t.view(torch.int16) if t.dtype == torch.bfloat16 else t
    return t.dtype, tuple(t.shape), t.numpy().tobytes()


def _bits_ours(t):
    t = t.view(mc.int16) if t.dtype is mc.bfloat16 else t
    return str(t.dtype), tuple(t.shape), np.ascontiguousarray(t.numpy()).tobytes()


def test_same_bytes_as_the_package_for_every_dtype():
    pairs = {f"t_{n}": _pair(n, (2, 3) if i % 3 else (5,)) for i, n in enumerate(DTYPES)}
    pairs["scalar"] = (torch.tensor(2.5), mc.tensor(2.5))
    pairs["empty"] = (torch.zeros(0, 3), mc.zeros(0, 3))
    ref = st.save({k: v[0] for k, v in pairs.items()}, metadata={"format": "pt"})  # one key: the package orders several by hash
    ours = ms.save({k: v[1] for k, v in pairs.items()}, metadata={"format": "pt"})  # one key: the package orders several by hash
    assert ours == ref


def test_each_reads_the_other():
    pairs = {n: _pair(n, (3, 2)) for n in DTYPES}
    ref_bytes = st.save({k: v[0] for k, v in pairs.items()})
    loaded = ms.load(ref_bytes)
    assert set(loaded) == set(pairs)
    for k, (ref, _) in pairs.items():
        dt, shape, raw = _bits_ours(loaded[k])
        rdt, rshape, rraw = _bits(ref)
        assert (dt, shape, raw) == (str(rdt), rshape, rraw)
    back = st.load(ms.save({k: v[1] for k, v in pairs.items()}))
    for k, (ref, _) in pairs.items():
        assert _bits(back[k]) == _bits(ref)


def test_files_metadata_and_safe_open(tmp_path):
    path = tmp_path / "m.safetensors"
    ms.save_file({"w": mc.arange(6.0).view(2, 3), "b": mc.ones(2, dtype=mc.float16)}, path, metadata={"k": "v"})
    with st.safe_open(str(path), framework="pt") as f:
        assert sorted(f.keys()) == ["b", "w"] and f.metadata() == {"k": "v"}
        assert f.get_tensor("w").tolist() == [[0, 1, 2], [3, 4, 5]]
    with ms.safe_open(path, framework="pt") as f:
        assert sorted(f.keys()) == ["b", "w"] and f.metadata() == {"k": "v"}
        assert f.get_tensor("b").dtype is mc.float16
        with pytest.raises(ms.SafetensorError):
            f.get_tensor("missing")
    st.save_file({"x": torch.arange(4)}, str(tmp_path / "t.safetensors"))
    assert ms.load_file(tmp_path / "t.safetensors")["x"].tolist() == [0, 1, 2, 3]
    assert ms.load_file(str(tmp_path / "t.safetensors"))["x"].dtype is mc.int64


def test_save_errors_as_the_package():
    x = mc.zeros(4)
    for bad_ours, bad_ref, exc in (({"a": mc.zeros(2, 3).t()}, {"a": torch.zeros(2, 3).t()}, ValueError),
                                   ({"a": x, "b": x[:2]}, {"a": (y := torch.zeros(4)), "b": y[:2]}, RuntimeError)):
        with pytest.raises(exc):
            st.save(bad_ref)
        with pytest.raises(exc):
            ms.save(bad_ours)
    with pytest.raises(ValueError):
        ms.save({"a": 3})


@pytest.mark.parametrize("mutate", ["too_large", "short_data", "bad_json", "gap", "wrong_size", "tiny"])
def test_corrupt_buffers_raise_as_the_package(mutate):
    good = st.save({"a": torch.arange(4.0), "b": torch.ones(2, dtype=torch.int64)})
    (n,) = struct.unpack("<Q", good[:8])
    header = good[8: 8 + n]
    if mutate == "too_large":
        bad = struct.pack("<Q", 10 ** 9) + good[8:]
    elif mutate == "short_data":
        bad = good[:-3]
    elif mutate == "bad_json":
        bad = good[:8] + b"{" + header[1:-1] + b" " + good[8 + n:]
        bad = good[:8] + header.replace(b'"dtype"', b'"dtype" ', 1)[:n].replace(b"}", b"]", 1) + good[8 + n:]
    elif mutate == "gap":
        bad = good[:8] + header.replace(b"[0,16]", b"[1,17]") + good[8 + n:]
    elif mutate == "wrong_size":
        bad = good[:8] + header.replace(b'"shape":[4]', b'"shape":[5]') + good[8 + n:]
    else:
        bad = b"1234"
    assert bad != good
    with pytest.raises(Exception) as ref:
        st.load(bad)
    assert type(ref.value).__name__ == "SafetensorError"
    with pytest.raises(ms.SafetensorError):
        ms.load(bad)
