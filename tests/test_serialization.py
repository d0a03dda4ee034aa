"""mlx_compat.save / load against torch.save / torch.load: each reads what the other writes (every dtype, views
sharing storage, nested containers, Parameters, optimizer state), the legacy format, the weights_only allow-list
against malicious pickles, corrupt and truncated files, map_location and file objects."""
import collections
import fractions
import io
import os
import pathlib
import pickle
import zipfile

import numpy as np
import pytest
import torch

import mlx_compat as mc

DTYPES = ["float32", "float64", "float16", "bfloat16", "complex64", "int8", "int16", "int32", "int64", "uint8",
          "uint16", "uint32", "uint64", "bool"]


def _values(name, shape=(2, 3)):
    """The same values as a torch tensor and an mlx_compat tensor of dtype `name` (extremes included)."""
    rng = np.random.default_rng(0)
    n = int(np.prod(shape))
    if name == "bool":
        a = rng.random(n) > 0.5
    elif name in ("float32", "float64", "float16", "bfloat16"):
        a = rng.standard_normal(n) * 100
        a[0] = -0.0
        a[-1] = np.inf
    elif name == "complex64":
        a = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
    else:
        info = np.iinfo(name)
        a = rng.integers(info.min, info.max, n, dtype=name, endpoint=True)
        a[0], a[-1] = info.min, info.max
    ref = torch.tensor(a.reshape(shape)).to(getattr(torch, name))
    return ref, mc.from_torch(ref)


def _same(ours, ref):
    assert isinstance(ours, mc.Tensor) and isinstance(ref, torch.Tensor)
    assert str(ours.dtype) == str(ref.dtype) and tuple(ours.shape) == tuple(ref.shape)
    assert tuple(ours.stride()) == tuple(ref.stride()) and ours.storage_offset() == ref.storage_offset()
    assert ours.requires_grad == ref.requires_grad
    a = ours.detach().view(mc.int16) if ours.dtype is mc.bfloat16 else ours.detach()
    b = ref.detach().view(torch.int16) if ref.dtype is torch.bfloat16 else ref.detach()
    assert np.ascontiguousarray(a.numpy()).tobytes() == np.ascontiguousarray(b.numpy()).tobytes()  # bit for bit


def _ours_to_torch(obj, **kw):
    buf = io.BytesIO()
    mc.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, **kw)


def _torch_to_ours(obj, **kw):
    buf = io.BytesIO()
    torch.save(obj, buf, **{k: v for k, v in kw.items() if k.startswith("_use")})
    buf.seek(0)
    return mc.load(buf, **{k: v for k, v in kw.items() if not k.startswith("_use")})


@pytest.mark.parametrize("name", DTYPES)
def test_every_dtype_both_ways(name):
    ref, ours = _values(name)
    back = _ours_to_torch({"t": ours, "scalar": ours[0, 0], "empty": ours[:0]})
    _same(ours, back["t"])
    _same(ours[0, 0], back["scalar"])
    _same(ours[:0], back["empty"])
    loaded = _torch_to_ours({"t": ref, "scalar": ref[0, 0].clone(), "empty": ref[:0].clone()})
    _same(loaded["t"], ref)
    _same(loaded["scalar"], ref[0, 0].clone())
    _same(loaded["empty"], ref[:0].clone())


@pytest.mark.parametrize("name", ["float32", "bfloat16", "int64", "bool", "uint16"])
def test_legacy_format_read(name):
    ref, _ = _values(name, (3, 4))
    obj = {"a": ref, "row": ref[1], "t": ref.t(), "n": 3}
    loaded = _torch_to_ours(obj, _use_new_zipfile_serialization=False)
    for k in ("a", "row", "t"):
        _same(loaded[k], obj[k])
    assert loaded["n"] == 3
    assert loaded["row"]._base is loaded["a"] and loaded["t"]._base is loaded["a"]


def test_views_share_storage_ours_to_torch():
    base = mc.arange(24.0).view(4, 6)
    obj = {"base": base, "row": base[2], "col": base[:, 1], "t": base.t(), "narrow": base[1:3, 2:5]}
    back = _ours_to_torch(obj)
    ptr = back["base"].untyped_storage().data_ptr()
    for k, v in obj.items():
        _same(v, back[k])
        assert back[k].untyped_storage().data_ptr() == ptr
    back["base"][2, 1] = -1.0
    assert back["row"][1].item() == -1.0 and back["col"][2].item() == -1.0
    names = zipfile.ZipFile(io.BytesIO(_bytes_of(obj))).namelist()
    assert sum("/data/" in n for n in names) == 1  # one storage for all five tensors


def _bytes_of(obj):
    buf = io.BytesIO()
    mc.save(obj, buf)
    return buf.getvalue()


def test_views_share_storage_torch_to_ours():
    base = torch.arange(24.0).view(4, 6)
    obj = {"row": base[2], "base": base, "col": base[:, 1], "t": base.t()}  # a view first: the owner is hidden
    loaded = _torch_to_ours(obj)
    for k, v in obj.items():
        _same(loaded[k], v)
    loaded["base"][2, 1] = -1.0  # writes through the shared storage
    assert loaded["row"][1].item() == -1.0 and loaded["col"][2].item() == -1.0
    only = _torch_to_ours({"a": base, "b": base[1]})
    assert only["b"]._base is only["a"]  # the full tensor owns the storage, the other views it


def test_different_dtypes_on_one_storage_refused_as_torch():
    x = mc.zeros(4)
    with pytest.raises(RuntimeError, match="view the same data as different types"):
        _bytes_of({"a": x, "b": x.view(mc.int32)})
    with pytest.raises(RuntimeError, match="view the same data as different types"):
        torch.save({"a": torch.zeros(4), "b": torch.zeros(4)}, io.BytesIO()) or \
            torch.save({"a": (z := torch.zeros(4)), "b": z.view(torch.int32)}, io.BytesIO())
    single = mc.tensor([1.0, 2.0]).view(mc.int32)  # alone, a reinterpreted view saves fine
    np.testing.assert_array_equal(_ours_to_torch(single).numpy(), single.numpy())


def test_nested_containers_numbers_and_strings_both_ways():
    def make(lib):
        t = lib.arange(4.0)
        return collections.OrderedDict(
            tensors=[t, (t[1:], {"deep": [t[::2], None]})], ints=(1, -2, 2 ** 40), floats=[0.5, float("inf")],
            text="héllo", raw=b"\x00\xff", flags={"on": True, "off": False}, cplx=1 + 2j, same=[t, t],
            size=lib.Size([2, 3]), dtype=lib.bfloat16, device=lib.device("cpu"), counter=collections.Counter("aab"),
            aset={1, 2}, empty=[[], {}, ()])

    def strip(x):
        if isinstance(x, (torch.Tensor, mc.Tensor)):
            return ("T", str(x.dtype), x.tolist(), x.stride(), x.storage_offset())
        if isinstance(x, dict):
            return (type(x).__name__, [(k, strip(v)) for k, v in x.items()])
        if isinstance(x, (list, tuple)) and type(x).__name__ != "Size":
            return (type(x).__name__, [strip(v) for v in x])
        if type(x).__name__ in ("Size", "device", "dtype"):
            return (type(x).__name__, str(x))
        return (type(x).__name__, x)

    ref = make(torch)
    ours = make(mc)
    assert strip(_ours_to_torch(ours)) == strip(ref)
    loaded = _torch_to_ours(ref)
    assert strip(loaded) == strip(ours)
    assert loaded["same"][0] is loaded["same"][1]  # one object saved twice comes back as one object
    assert type(loaded) is collections.OrderedDict


def test_parameters_and_requires_grad_both_ways():
    p = torch.nn.Parameter(torch.randn(3, 2))
    g = torch.randn(2, requires_grad=True)
    loaded = _torch_to_ours({"p": p, "g": g, "frozen": torch.nn.Parameter(torch.ones(1), requires_grad=False)})
    assert isinstance(loaded["p"], mc.nn.Parameter) and loaded["p"].requires_grad
    assert not loaded["frozen"].requires_grad and isinstance(loaded["frozen"], mc.nn.Parameter)
    _same(loaded["g"], g)
    np.testing.assert_array_equal(loaded["p"].detach().numpy(), p.detach().numpy())
    back = _ours_to_torch({"p": mc.nn.Parameter(mc.ones(2, 2)), "g": mc.ones(3).requires_grad_()})
    assert isinstance(back["p"], torch.nn.Parameter) and back["p"].requires_grad and back["g"].requires_grad
    assert not isinstance(back["g"], torch.nn.Parameter)


def test_optimizer_state_dict_both_ways():
    w = torch.nn.Parameter(torch.randn(3, 2))
    opt = torch.optim.Adam([w], lr=0.01, betas=(0.8, 0.9))
    w.grad = torch.randn(3, 2)
    opt.step()
    sd = opt.state_dict()
    loaded = _torch_to_ours(sd)
    assert loaded["param_groups"] == sd["param_groups"]
    for key in ("exp_avg", "exp_avg_sq", "step"):
        _same(loaded["state"][0][key], sd["state"][0][key])
    back = _ours_to_torch(loaded)
    opt2 = torch.optim.Adam([torch.nn.Parameter(torch.zeros(3, 2))])
    opt2.load_state_dict(back)  # torch accepts the state we wrote
    for key in ("exp_avg", "exp_avg_sq", "step"):
        assert torch.equal(opt2.state_dict()["state"][0][key], sd["state"][0][key])


def test_archive_layout_as_torch(tmp_path):
    path = tmp_path / "model.pt"
    mc.save({"w": mc.ones(3)}, path)
    zf = zipfile.ZipFile(path)
    names = zf.namelist()
    assert names[0] == "model/data.pkl"
    assert set(names) == {"model/data.pkl", "model/.format_version", "model/.storage_alignment", "model/byteorder",
                          "model/data/0", "model/version", "model/.data/serialization_id"}
    assert zf.read("model/byteorder") == b"little" and zf.read("model/version") == b"3\n"
    for info in zf.infolist():
        assert info.compress_type == zipfile.ZIP_STORED
        if "/data/" in info.filename:  # data aligned as torch's writer aligns it (mmap loads need it)
            local_extra = len(info.extra)
            start = info.header_offset + 30 + len(info.filename) + local_extra
            assert start % 64 == 0
    t = torch.load(path, mmap=True)  # torch's mmap path checks the alignment
    assert torch.equal(t["w"], torch.ones(3))


def test_paths_pathlib_and_unseekable_file_objects(tmp_path):
    obj = {"x": mc.arange(5)}
    mc.save(obj, str(tmp_path / "a.pt"))
    mc.save(obj, tmp_path / "b.pt")

    class WriteOnly:
        def __init__(self):
            self.parts = []

        def write(self, b):
            self.parts.append(bytes(b))
            return len(b)

    w = WriteOnly()
    mc.save(obj, w)

    class ReadOnly:
        def __init__(self, data):
            self._b = io.BytesIO(data)

        def read(self, n=-1):
            return self._b.read(n)

    for src in (str(tmp_path / "a.pt"), tmp_path / "b.pt", io.BytesIO(b"".join(w.parts)), ReadOnly(b"".join(w.parts))):
        assert mc.load(src)["x"].tolist() == [0, 1, 2, 3, 4]
    assert torch.load(io.BytesIO(b"".join(w.parts)))["x"].tolist() == [0, 1, 2, 3, 4]


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_malicious_pickle_refused_naming_the_global(tmp_path):
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2), "evil": _Evil(marker)}, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match=r"(?s)Weights only load failed.*Unsupported global: GLOBAL "
                                                     r"(os|posix)\.system"):
        mc.load(buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        mc.load(buf, weights_only=True)
    assert not marker.exists()
    # a bare pickle (the legacy path) with builtins.eval: refused too, nothing runs
    raw = b"\x80\x02cbuiltins\neval\nq\x00X\x0a\x00\x00\x00open('x')q\x01\x85q\x02Rq\x03."
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL builtins\.eval"):
        mc.load(io.BytesIO(raw))
    # a REDUCE smuggled through an allowed name cannot reach anything else: getattr chains are names too
    raw = b"\x80\x04\x8c\x0bcollections\x8c\x14OrderedDict.fromkeys\x93."
    with pytest.raises(pickle.UnpicklingError, match="OrderedDict.fromkeys"):
        mc.load(io.BytesIO(raw))
    buf.seek(0)
    mc.load(buf, weights_only=False)  # the caller's explicit choice: it runs
    assert marker.exists()


def test_safe_globals_allow_more():
    buf = io.BytesIO()
    torch.save({"f": fractions.Fraction(1, 3)}, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL fractions\.Fraction"):
        mc.load(buf)
    buf.seek(0)
    with mc.serialization.safe_globals([fractions.Fraction]):
        assert mc.load(buf)["f"] == fractions.Fraction(1, 3)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        mc.load(buf)


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.99])
def test_truncated_files_raise_clearly(cut):
    data = _bytes_of({"w": mc.arange(1000.0), "b": mc.ones(10)})
    with pytest.raises((RuntimeError, pickle.UnpicklingError)) as e:
        mc.load(io.BytesIO(data[: int(len(data) * cut)]))
    assert str(e.value)


def test_corrupt_files_raise_clearly():
    data = bytearray(_bytes_of({"w": mc.arange(1000.0)}))
    zf = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = zf.getinfo("archive/data/0")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 100] ^= 0xFF  # flip bits inside the storage: the CRC check catches it
    with pytest.raises(RuntimeError, match="corrupt"):
        mc.load(io.BytesIO(bytes(data)))
    with pytest.raises((RuntimeError, pickle.UnpicklingError)):
        mc.load(io.BytesIO(b"this is not a checkpoint at all"))
    with pytest.raises(EOFError):
        mc.load(io.BytesIO(b""))
    # a zip without data.pkl, and a storage that is too short for the tensor claiming it
    empty_zip = io.BytesIO()
    with zipfile.ZipFile(empty_zip, "w") as z:
        z.writestr("x/other", b"1")
    with pytest.raises(RuntimeError, match="data.pkl"):
        mc.load(io.BytesIO(empty_zip.getvalue()))
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_bytes_of({"w": mc.arange(10.0)}))) as src, zipfile.ZipFile(buf, "w") as dst:
        for n in src.namelist():
            dst.writestr(n, src.read(n)[:8] if n.endswith("data/0") else src.read(n))
    with pytest.raises(RuntimeError, match="truncated"):
        mc.load(io.BytesIO(buf.getvalue()))


def test_map_location_forms():
    data = _bytes_of({"w": mc.arange(3.0)})
    seen = []

    def fn(storage, location):
        seen.append(location)
        return storage

    for ml in (None, "cpu", mc.device("cpu"), {"cpu": "cpu"}, fn, lambda s, loc: None):
        out = mc.load(io.BytesIO(data), map_location=ml)
        assert out["w"].tolist() == [0.0, 1.0, 2.0] and out["w"].device.type == "cpu"
    assert seen == ["cpu"]
    with pytest.raises(TypeError):
        mc.load(io.BytesIO(data), map_location=3)
    if not mc.cuda.is_available():
        with pytest.raises(RuntimeError, match="map_location"):
            mc.load(io.BytesIO(data), map_location="cuda")
        with pytest.raises(RuntimeError, match="map_location"):
            mc.load(io.BytesIO(data), map_location={"cpu": "cuda:0"})


def test_missing_parent_directory_as_torch(tmp_path):
    target = tmp_path / "no" / "such" / "x.pt"
    with pytest.raises(RuntimeError) as ref:
        torch.save(torch.ones(1), target)
    with pytest.raises(RuntimeError) as ours:
        mc.save(mc.ones(1), target)
    assert str(ours.value) == str(ref.value)


def test_gpu_locations_and_map_location(tmp_path):
    """A checkpoint of GPU tensors (written under MLX_COMPAT_FAKE_GPU, Note [Fake GPU]) records 'cuda:0' as torch
    does; without a GPU, loading needs map_location, in every form torch accepts."""
    import subprocess
    import sys
    path = tmp_path / "gpu.pt"
    code = ("import mlx_compat as mc; t = mc.arange(4.0, device='cuda'); "
            f"mc.save({{'w': t, 'v': t[1:]}}, {str(path)!r}); print(t.device)")
    env = dict(os.environ, MLX_COMPAT_FAKE_GPU="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("cuda")
    with zipfile.ZipFile(path) as z:
        assert b"cuda:0" in z.read("gpu/data.pkl")
    ref = torch.load(path, map_location="cpu")
    assert ref["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    if mc.cuda.is_available():
        pytest.skip("this machine has a GPU: the no-GPU refusal below cannot be observed")  # reason: CPU-only check
    with pytest.raises(RuntimeError, match="map_location"):
        mc.load(path)
    for ml in ("cpu", mc.device("cpu"), {"cuda:0": "cpu"}, lambda storage, loc: storage.cpu()):
        got = mc.load(path, map_location=ml)
        assert got["w"].device.type == "cpu" and got["v"].tolist() == [1.0, 2.0, 3.0]
        assert got["v"]._base is got["w"]


def test_module_state_dicts_both_ways():
    """A torch model's state_dict (with its `_metadata` versions) loads into the same mlx_compat model and back."""
    ref = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(),
                              torch.nn.Linear(8, 3))
    ref(torch.randn(4, 1, 4, 4))  # running statistics move
    ours = mc.nn.Sequential(mc.nn.Conv2d(1, 2, 3), mc.nn.BatchNorm2d(2), mc.nn.Flatten(), mc.nn.Linear(8, 3))
    sd = _torch_to_ours(ref.state_dict())
    assert sd._metadata == ref.state_dict()._metadata
    ours.load_state_dict(sd)
    ref.eval()
    ours.eval()
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(mc.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    back = _ours_to_torch(ours.state_dict())
    assert back._metadata == ref.state_dict()._metadata
    fresh = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(),
                                torch.nn.Linear(8, 3))
    fresh.load_state_dict(back)
    for k, v in ref.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v), k
