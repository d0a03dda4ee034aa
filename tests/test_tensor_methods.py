"""Where Tensor methods come from (mlx_compat/_methods.py, Note [Declared Tensor methods]).

Pins: every attribute torch.Tensor has and mlx_compat.Tensor has comes from a known source (the C type, the
operator registry, or a composite declared by one module); what is declared is what the type holds; the
instance-level kind of each public attribute (callable or data) is torch's; declared methods have readable
signatures, and generated in-place forms the out-of-place one's; no module outside the installer attaches
attributes to the type itself; a name declared twice, a declaration that would replace the type's own attribute
and a late declaration raise; the generated in-place forms behave as torch's (values, write-through to the
base, returning self, version bumps, cast/shape/dtype errors).
"""
import importlib.util
import inspect
import pathlib
import re
import types

import numpy as np
import pytest

from helpers import assert_raises_same, assert_same, mc, same_outcome, torch

from mlx_compat import _methods

PKG = pathlib.Path(mc.__file__).parent



def _unwrap(obj):
    """The object under the __torch_function__ / device-scope wrapper (and a property's getter)."""
    if isinstance(obj, property):
        obj = obj.fget
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    return getattr(obj, "__wrapped__", obj)


def _source(name):
    """Where Tensor.<name> comes from: 'declared:<module>', 'C' (the C type's methods and the operator registry's
    generated forms), 'protocol', 'inherited'."""
    T = mc.Tensor
    if name in _methods.sources():
        return "declared:" + _methods.sources()[name]
    if name not in vars(T):
        return "inherited"
    u = _unwrap(vars(T)[name])
    if not isinstance(u, types.FunctionType):
        return "C"
    if name == "__torch_function__" and u.__module__ == "mlx_compat.overrides":
        return "protocol"  # the __torch_function__ protocol's default, set by overrides.py
    return None


def _common_names():
    return sorted(set(dir(torch.Tensor)) & set(dir(mc.Tensor)))


def test_every_shared_attribute_has_a_source():
    names = _common_names()
    assert len(names) > 500  # dir(torch.Tensor) and ours overlap widely
    unresolved = [n for n in names if _source(n) is None]
    assert not unresolved, f"Tensor attributes of no known source: {unresolved}"
    kinds = {_source(n).split(":")[0] for n in names}
    assert {"declared", "C"} <= kinds
    assert mc.Tensor.exp.__class__.__name__ != "function"  # a registered op's method is the registry's C form


def test_declared_sources_are_package_modules():
    src = _methods.sources()
    assert len(src) > 200
    assert all(m.startswith("mlx_compat.") for m in src.values()), src
    # the ones torch's Tensor also has come from the modules of their op family
    assert src["cov"] == "mlx_compat._ops.reduction" and src["tril_"] == "mlx_compat._ops.linalg"
    assert src["roll"] == "mlx_compat._ops.shape" and src["tolist"] == "mlx_compat._tensor"


def test_declared_objects_are_what_the_type_holds():
    T = mc.Tensor
    for name, obj in _methods._DECLARED.items():
        held = vars(T)[name]
        if isinstance(obj, (property, staticmethod, classmethod, types.FunctionType)) or callable(obj):
            assert _unwrap(held) is _unwrap(obj), name
        else:
            assert held == obj, name
    assert _methods._INSTALLED_ON == [T]


def _class_kind(cls, name):
    """'callable' or 'data', as an instance sees the attribute (a torch property may be our plain value)."""
    obj = inspect.getattr_static(cls, name)
    if isinstance(obj, (property, types.GetSetDescriptorType, types.MemberDescriptorType)):
        return "data"
    return "callable" if callable(obj) else "data"


def test_public_attribute_kinds_match_torch():
    mismatched = [(n, _class_kind(torch.Tensor, n), _class_kind(mc.Tensor, n))
                  for n in _common_names() if not n.startswith("_")
                  and _class_kind(torch.Tensor, n) != _class_kind(mc.Tensor, n)]
    assert not mismatched, mismatched


def test_declared_methods_have_signatures():
    for name, obj in _methods._DECLARED.items():
        if isinstance(obj, property) or not callable(obj):
            continue
        sig = inspect.signature(getattr(mc.Tensor, name))  # through the wrapper, as a user reads it
        first = next(iter(sig.parameters.values()))
        assert first.kind in (first.POSITIONAL_ONLY, first.POSITIONAL_OR_KEYWORD), (name, sig)


def test_generated_inplace_forms_carry_the_out_of_place_signature():
    generated = {n: o for n, o in _methods._DECLARED.items() if getattr(o, "__module__", None) == "mlx_compat._methods"}
    assert {"tril_", "triu_", "addmv_", "addmm_", "cumsum_", "mvlgamma_", "polygamma_"} <= set(generated)
    for name, fn in generated.items():
        assert fn.__name__ == name and fn.__qualname__ == "Tensor." + name
        base = getattr(mc.Tensor, name[:-1])
        want = [p.name for p in inspect.signature(base).parameters.values() if p.name != "out"][1:]
        got = list(inspect.signature(getattr(mc.Tensor, name)).parameters)
        assert got == ["self"] + want, (name, got, want)


# ---------------------------------------------------------------- nothing else attaches to the type

_SETATTR = re.compile(r"setattr\(\s*(?:_C\.)?(?:Tensor|TensorBase)\s*,")
_ASSIGN = re.compile(r"^\s*(?:_C\.)?(?:Tensor|TensorBase)\.[A-Za-z_]\w*\s*=(?!=)", re.M)
_ALLOWED = {"_methods.py": "the one installer"}
_ALLOWED_ASSIGN = {"overrides.py": "the __torch_function__ protocol's default classmethod"}


def test_patterns_match_what_they_are_meant_to_catch():
    assert _SETATTR.search('    setattr(Tensor, name, fn)') and _SETATTR.search("setattr(_C.TensorBase, 'x', 1)")
    assert _ASSIGN.search("Tensor.repeat = repeat") and _ASSIGN.search("    Tensor.cross = _method_cross")
    assert not _ASSIGN.search("x = Tensor.movedim") and not _ASSIGN.search("if Tensor.x == 1:")


def test_no_module_attaches_to_the_tensor_type():
    files = sorted(PKG.rglob("*.py"))
    assert len(files) > 100
    offenders = []
    for f in files:
        rel = f.relative_to(PKG).as_posix()
        text = f.read_text()
        if rel not in _ALLOWED and _SETATTR.search(text):
            offenders.append(rel + ": setattr")
        if rel not in _ALLOWED and rel not in _ALLOWED_ASSIGN:
            offenders += [f"{rel}: {m.group(0).strip()}" for m in _ASSIGN.finditer(text)]
    assert not offenders, offenders


# ---------------------------------------------------------------- the declaration rules


@pytest.fixture
def fresh():
    """A private copy of mlx_compat._methods with empty declarations (the package's own is installed)."""
    spec = importlib.util.spec_from_file_location("_methods_copy", PKG / "_methods.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_duplicate_declaration_raises(fresh):
    fresh.declare("frobnicate", lambda self: 1, module="pkg.a")
    with pytest.raises(RuntimeError, match=r"frobnicate is declared twice: by pkg\.a and by pkg\.b"):
        fresh.declare("frobnicate", lambda self: 2, module="pkg.b")
    with pytest.raises(RuntimeError, match="declared twice"):
        fresh.declare_methods({"frobnicate": lambda self: 3})

    @fresh.tensor_method(inplace=True)
    def twiddle(input):
        return input

    with pytest.raises(RuntimeError, match="twiddle_ is declared twice"):
        fresh.declare("twiddle_", twiddle)


def test_install_refuses_replacing_the_types_own(fresh):
    class Base:
        def own(self):
            return "C"

    fresh.declare("own", lambda self: "python")
    with pytest.raises(RuntimeError, match=r"own \(declared by"):
        fresh.install(Base)
    assert Base().own() == "C"  # nothing installed


def test_replaces_must_name_an_existing_attribute(fresh):
    class Base:
        pass

    fresh.declare("__new__", staticmethod(lambda cls: object.__new__(cls)), replaces=True)
    with pytest.raises(RuntimeError, match="replaces=True with nothing to replace"):
        fresh.install(Base)

    class Base2:
        def __new__(cls):
            raise AssertionError

    fresh.install(Base2)
    assert isinstance(Base2(), Base2)


def test_install_once_and_no_late_declaration(fresh):
    class Base:
        pass

    fresh.declare("answer", property(lambda self: 42))
    fresh.declare("is_thing", False)
    fresh.install(Base)
    assert Base().answer == 42 and Base().is_thing is False
    assert fresh.sources() == {"answer": __name__, "is_thing": __name__}
    with pytest.raises(RuntimeError, match="already installed"):
        fresh.install(Base)
    with pytest.raises(RuntimeError, match="after the Tensor methods were installed"):
        fresh.declare("late", lambda self: 0)
    # the package's own registry is installed: a module imported afterwards cannot add methods silently
    with pytest.raises(RuntimeError, match="after the Tensor methods were installed"):
        _methods.declare("late", lambda self: 0)
    assert not hasattr(mc.Tensor, "late")


def test_declaration_names_must_be_identifiers(fresh):
    with pytest.raises(TypeError):
        fresh.declare("not a name", lambda self: 0)


# ---------------------------------------------------------------- generated in-place forms against torch


def _pair(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 3.0, size=shape)
    t = torch.from_numpy(a).to(getattr(torch, dtype))
    return t, mc.from_torch(t)


@pytest.mark.parametrize("op,args", [
    ("tril_", ()), ("triu_", (1,)), ("tril_", (-1,)), ("digamma_", ()), ("lgamma_", ()), ("polygamma_", (1,)),
    ("mvlgamma_", (1,)), ("cumsum_", (0,)), ("cumprod_", (1,)),
])
def test_inplace_through_a_view_writes_the_base(op, args):
    bt, bm = _pair((4, 5), "float32")
    vt, vm = bt[1:, 1:], bm[1:, 1:]
    v0 = vm._version
    rt, rm = getattr(vt, op)(*args), getattr(vm, op)(*args)
    assert rm is vm and rt is vt
    assert_same(bm, bt)
    assert vm._version > v0


@pytest.mark.parametrize("op,dtype,kw", [
    ("cumsum_", "bool", {}), ("cumprod_", "bool", {}), ("cumsum_", "int64", {"dtype": "float32"}),
    ("cumsum_", "float32", {"dtype": "float64"}), ("cumsum_", "int32", {}), ("cumprod_", "uint8", {}),
    ("cumsum_", "bool", {"dtype": "int64"}), ("cumsum_", "float32", {"dtype": "float32"}),
])
def test_scan_inplace_dtypes(op, dtype, kw):
    a = np.array([[1, 0, 2], [3, 1, 1]])

    def run(L):
        x = L.tensor(a).to(getattr(L, dtype))
        k = {n: getattr(L, v) for n, v in kw.items()}
        r = getattr(x, op)(1, **k)
        assert r is x
        return x

    same_outcome(lambda: run(torch), lambda: run(mc))


@pytest.mark.parametrize("case", ["addmv_int_self", "addr_int_self", "addmm_int_self", "tril_int", "igamma_broadcast",
                                  "addmm_broadcast_self", "nextafter_float64_into_float32"])
def test_inplace_cast_and_shape_rules(case):
    def run(L):
        f = L.ones(2, 2)
        if case == "addmv_int_self":
            return L.ones(2, dtype=L.int64).addmv_(f, L.ones(2))
        if case == "addr_int_self":
            return L.ones(2, 2, dtype=L.int64).addr_(L.ones(2), L.ones(2))
        if case == "addmm_int_self":
            return L.ones(2, 2, dtype=L.int64).addmm_(f, f)
        if case == "tril_int":
            return L.arange(9).reshape(3, 3).tril_()
        if case == "igamma_broadcast":  # self would have to grow: torch's shape error
            return L.ones(1, 3).igamma_(L.ones(2, 3))
        if case == "addmm_broadcast_self":
            return L.ones(1, 2).addmm_(f, f)
        return L.ones(3).nextafter_(L.zeros(3, dtype=L.float64))

    same_outcome(lambda: run(torch), lambda: run(mc))


def test_inplace_refuses_a_leaf_requiring_grad():
    assert_raises_same(lambda: torch.ones(2, 2, requires_grad=True).tril_(),
                       lambda: mc.ones(2, 2, requires_grad=True).tril_())


def test_inplace_gradient_flows_as_torch():
    def run(L):
        x = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = (x * 2).tril_().cumsum_(0)
        y.sum().backward()
        return x.grad

    same_outcome(lambda: run(torch), lambda: run(mc))


# ---------------------------------------------------------------- names


def test_private_helpers_take_the_method_name():
    """A helper declared as one method (`_unique_method` as "unique") is named as the method; a public function
    declared under an alias (moveaxis is movedim, also torch.movedim) keeps its own name."""
    for name, obj in _methods._DECLARED.items():
        if not isinstance(obj, types.FunctionType) or name.startswith("_"):
            continue
        fn = _unwrap(getattr(mc.Tensor, name))
        assert fn.__name__ == name or not fn.__name__.startswith("_"), (name, fn.__name__)
        assert getattr(mc.Tensor, name).__name__ == fn.__name__  # the wrapper shows the same name
    assert mc.Tensor.unique.__name__ == "unique" and mc.Tensor.moveaxis.__name__ == "movedim"


@pytest.mark.parametrize("method", ["unique", "unique_consecutive", "norm"])
def test_argument_errors_name_the_method_as_torch(method):
    """torch's own Python-level methods (torch/_tensor.py) report `Tensor.<name>()` in argument errors."""
    msgs = []
    for L in (torch, mc):
        with pytest.raises(TypeError) as e:
            getattr(L.ones(3), method)(foo=1)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
    assert repr(mc.ones(1).unique).startswith("<bound method Tensor.unique of ")
