"""nn.Module against torch.nn.Module: the same model code run under both libraries (only the library differs)
must register, traverse, print, save, load, convert and call hooks identically."""
import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest

from helpers import assert_same, mc, run_fake_gpu, to_mc, torch


def build(lib):
    """Model classes written once against `lib` (torch or mlx_compat)."""
    nn = lib.nn

    class Lin(nn.Module):
        def __init__(self, i, o, bias=True):
            super().__init__()
            self.in_features, self.out_features = i, o
            self.weight = nn.Parameter(lib.empty(o, i))
            if bias:
                self.bias = nn.Parameter(lib.empty(o))
            else:
                self.register_parameter("bias", None)
            with lib.no_grad():
                self.weight.copy_(lib.arange(o * i, dtype=lib.float32).reshape(o, i) / (o * i) - 0.5)
                if bias:
                    self.bias.copy_(lib.arange(o, dtype=lib.float32) / o)

        def forward(self, x):
            y = x @ self.weight.t()
            return y + self.bias if self.bias is not None else y

        def extra_repr(self):
            return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    class Norm(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.weight = nn.Parameter(lib.ones(n))
            self.register_buffer("running_mean", lib.zeros(n))
            self.register_buffer("num_batches_tracked", lib.tensor(0, dtype=lib.long))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)

        def forward(self, x):
            return (x - self.running_mean) * self.weight

        def extra_repr(self):
            return "n=%d\nsecond line" % self.weight.shape[0]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = Lin(4, 3)
            self.norm = Norm(3)
            self.blocks = nn.ModuleList([Lin(3, 3), Lin(3, 3), Lin(3, 3, bias=False)])
            self.head = nn.Sequential(OrderedDict([("proj", Lin(3, 2)), ("out", Lin(2, 2))]))
            self.table = nn.ModuleDict({"b": Lin(2, 1), "a": Lin(2, 1)})
            self.scale = nn.Parameter(lib.tensor(2.0))
            self.tied = self.fc1  # the same module twice

        def forward(self, x):
            x = self.norm(self.fc1(x))
            for b in self.blocks:
                x = b(x)
            x = self.head(x) * self.scale
            return self.table["a"](x) + self.table["b"](x)

    return Lin, Norm, Net


TLin, TNorm, TNet = build(torch)
MLin, MNorm, MNet = build(mc)


def pair_net():
    return TNet(), MNet()


def x_pair(*shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return torch.tensor(a, requires_grad=True), mc.tensor(a, requires_grad=True)


def assert_raises_same(fn_t, fn_m, exc=None):
    """Both raise the same exception type with the same message."""
    with pytest.raises(Exception) as et:
        fn_t()
    with pytest.raises(Exception) as em:
        fn_m()
    assert type(em.value).__name__ == type(et.value).__name__, (em.value, et.value)
    assert str(em.value) == str(et.value)
    if exc is not None:
        assert isinstance(em.value, exc)


# ---------------------------------------------------------------- registration and traversal


def test_state_dict_keys_order_shapes_and_values():
    t, m = pair_net()
    st, sm = t.state_dict(), m.state_dict()
    assert type(sm) is OrderedDict
    assert list(sm) == list(st)
    for k in st:
        assert tuple(sm[k].shape) == tuple(st[k].shape)
        assert_same(sm[k], st[k])
        assert not sm[k].requires_grad and type(sm[k]) is mc.Tensor
    assert dict(sm._metadata) == dict(st._metadata)


def test_state_dict_prefix_keep_vars_and_destination():
    t, m = pair_net()
    assert list(m.state_dict(prefix="model.")) == list(t.state_dict(prefix="model."))
    kv = m.state_dict(keep_vars=True)
    assert kv["fc1.weight"] is m.fc1.weight and kv["norm.running_mean"] is m.norm.running_mean
    dest = OrderedDict()
    assert m.state_dict(destination=dest) is dest
    with pytest.warns(FutureWarning):
        r = m.state_dict(OrderedDict(), "p.")
    with pytest.warns(FutureWarning):
        assert list(r) == list(t.state_dict(OrderedDict(), "p."))


@pytest.mark.parametrize("method", ["named_parameters", "named_buffers", "named_modules", "named_children"])
def test_named_traversals(method):
    t, m = pair_net()
    assert [n for n, _ in getattr(m, method)()] == [n for n, _ in getattr(t, method)()]


@pytest.mark.parametrize("kwargs", [dict(prefix="p"), dict(recurse=False), dict(remove_duplicate=False)])
def test_named_parameters_and_buffers_options(kwargs):
    t, m = pair_net()
    for method in ("named_parameters", "named_buffers"):
        assert [n for n, _ in getattr(m, method)(**kwargs)] == [n for n, _ in getattr(t, method)(**kwargs)]
    if "remove_duplicate" in kwargs:
        tm = [n for n, _ in t.named_modules(remove_duplicate=False)]
        assert [n for n, _ in m.named_modules(remove_duplicate=False)] == tm
        assert [n for n, _ in m.named_modules(prefix="root")] == [n for n, _ in t.named_modules(prefix="root")]


def test_shared_parameter_counted_once():
    def run(lib):
        Lin = build(lib)[0]
        s = lib.nn.Sequential(Lin(2, 2), Lin(2, 2))
        s[1].weight = s[0].weight
        return [n for n, _ in s.named_parameters()], len(list(s.parameters())), \
            [n for n, _ in s.named_parameters(remove_duplicate=False)]

    assert run(mc) == run(torch)


def test_parameters_are_parameters_and_iterators():
    m = MNet()
    ps = m.parameters()
    assert iter(ps) is ps
    assert all(isinstance(p, mc.nn.Parameter) and p.requires_grad and p.is_leaf for p in m.parameters())
    assert [type(c).__name__ for c in m.children()] == [type(c).__name__ for c in TNet().children()]
    assert [type(c).__name__ for c in m.modules()] == [type(c).__name__ for c in TNet().modules()]


def test_setattr_routes_and_reassignment():
    def run(lib):
        nn = lib.nn
        m = nn.Module()
        m.p = nn.Parameter(lib.ones(2))
        m.register_buffer("b", lib.zeros(1))
        m.sub = nn.Module()
        m.plain = lib.ones(3)  # a plain tensor is an ordinary attribute
        out = [sorted(m._parameters), sorted(m._buffers), sorted(m._modules), "plain" in m.__dict__]
        m.b = lib.ones(1) * 5  # assigning a tensor to a buffer name keeps it a buffer
        m.p = None
        out += [float(m._buffers["b"][0]), m._parameters["p"]]
        m.sub = nn.Parameter(lib.ones(1))  # a parameter replacing a module
        out += [sorted(m._modules), sorted(m._parameters)]
        m.nb = nn.Buffer(lib.ones(2), persistent=False)
        out += [sorted(m._buffers), sorted(m._non_persistent_buffers_set), list(m.state_dict())]
        del m.b, m.sub, m.nb
        out += [sorted(m._buffers), sorted(m._parameters), sorted(m._non_persistent_buffers_set)]
        return out

    assert run(mc) == run(torch)


@pytest.mark.parametrize("case", [
    "tensor_to_param", "module_slot", "buffer_slot", "reg_param_tensor", "reg_param_dot", "reg_param_empty",
    "reg_param_exists", "reg_buffer_dot", "reg_buffer_type", "reg_buffer_exists", "add_module_type",
    "add_module_dot", "add_module_empty", "nonleaf_param", "getattr_missing", "before_init", "buffer_name_type",
])
def test_registration_errors_match_torch(case):
    def run(lib):
        nn = lib.nn
        m = nn.Module()
        m.p = nn.Parameter(lib.ones(2))
        m.sub = nn.Module()
        m.register_buffer("b", lib.ones(1))
        m.attr = 1
        if case == "tensor_to_param":
            m.p = lib.ones(2)
        elif case == "module_slot":
            m.sub = lib.ones(1)
        elif case == "buffer_slot":
            m.b = 3
        elif case == "reg_param_tensor":
            m.register_parameter("q", lib.ones(1))
        elif case == "reg_param_dot":
            m.register_parameter("a.b", None)
        elif case == "reg_param_empty":
            m.register_parameter("", None)
        elif case == "reg_param_exists":
            m.register_parameter("attr", None)
        elif case == "reg_buffer_dot":
            m.register_buffer("a.b", None)
        elif case == "reg_buffer_type":
            m.register_buffer("c", [1])
        elif case == "reg_buffer_exists":
            m.register_buffer("sub", None)
        elif case == "add_module_type":
            m.add_module("x", 3)
        elif case == "add_module_dot":
            m.add_module("x.y", nn.Module())
        elif case == "add_module_empty":
            m.add_module("", nn.Module())
        elif case == "nonleaf_param":
            p = nn.Parameter(lib.ones(2))
            q = nn.Parameter(lib.ones(2))
            q2 = p * 2
            q2.__class__ = type(q)
            m.register_parameter("z", q2)
        elif case == "getattr_missing":
            return m.missing
        elif case == "before_init":
            class Bad(nn.Module):
                def __init__(self):
                    self.w = nn.Parameter(lib.ones(1))

            Bad()
        elif case == "buffer_name_type":
            m.register_buffer(1, None)

    assert_raises_same(lambda: run(torch), lambda: run(mc))


def test_module_init_rejects_arguments():
    assert_raises_same(lambda: torch.nn.Module(1), lambda: mc.nn.Module(1), TypeError)
    assert_raises_same(lambda: torch.nn.Module(a=1), lambda: mc.nn.Module(a=1), TypeError)


def test_forward_unimplemented():
    assert_raises_same(lambda: torch.nn.Module()(1), lambda: mc.nn.Module()(1), NotImplementedError)


# ---------------------------------------------------------------- calling, printing


def test_forward_backward_values_match():
    t, m = pair_net()
    xt, xm = x_pair(5, 4)
    yt, ym = t(xt), m(xm)
    assert_same(ym, yt, rtol=1e-5, atol=1e-6)
    yt.sum().backward()
    ym.sum().backward()
    assert_same(xm.grad, xt.grad, rtol=1e-5, atol=1e-6)
    tp, mp = dict(t.named_parameters()), dict(m.named_parameters())
    assert list(tp) == list(mp)
    for k in tp:
        assert_same(mp[k].grad, tp[k].grad, rtol=1e-5, atol=1e-6)


def test_repr_matches_torch():
    t, m = pair_net()
    assert repr(m) == repr(t)
    assert str(m) == str(t)
    assert repr(mc.nn.Module()) == repr(torch.nn.Module())


def test_modulelist_repr_collapses_repeats():
    def run(lib):
        Lin = build(lib)[0]
        return repr(lib.nn.ModuleList([Lin(2, 2), Lin(2, 2), Lin(2, 3), Lin(2, 2)] + [Lin(3, 3)] * 3)) + \
            repr(lib.nn.ModuleList())

    assert run(mc) == run(torch)


def test_dir_lists_members():
    t, m = pair_net()
    dm, dt = dir(m), dir(t)
    for name in ("fc1", "norm", "scale", "blocks", "forward", "state_dict", "training"):
        assert (name in dm) == (name in dt)
    assert dm == sorted(dm)
    assert "0" not in dir(m.blocks)


def test_train_eval_requires_grad_zero_grad():
    t, m = pair_net()
    assert m.train(False) is m and m.eval() is m
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    assert_raises_same(lambda: t.train("yes"), lambda: m.train("yes"), ValueError)
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    xt, xm = x_pair(2, 4)
    m(xm).sum().backward()
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and float(p.grad.abs().sum()) == 0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


# ---------------------------------------------------------------- load_state_dict


def test_load_state_dict_roundtrip_from_torch():
    t, m = pair_net()
    with torch.no_grad():
        for p in t.parameters():
            p.add_(torch.randn_like(p))
        t.norm.running_mean.fill_(0.25)
    sd = OrderedDict((k, to_mc(v)) for k, v in t.state_dict().items())
    r = m.load_state_dict(sd)
    assert r == (([], [])) and repr(r) == "<All keys matched successfully>"
    assert type(r).__name__ == "_IncompatibleKeys"
    w = m.fc1.weight
    assert isinstance(w, mc.nn.Parameter) and w.requires_grad
    for k, v in t.state_dict().items():
        assert_same(m.state_dict()[k], v)
    xt, xm = x_pair(3, 4)
    assert_same(m(xm), t(xt), rtol=1e-5, atol=1e-6)


def _edit(sd, drop=(), add=(), reshape=()):
    sd = OrderedDict(sd)
    for k in drop:
        del sd[k]
    for k in add:
        sd[k] = sd["scale"] * 0 if hasattr(sd["scale"], "shape") else 0
    for k in reshape:
        sd[k] = sd[k].reshape(-1)[:1].clone()
    return sd


@pytest.mark.parametrize("edit", [
    dict(drop=["fc1.bias"]), dict(add=["extra", "blocks.7.weight", "norm.nope"]),
    dict(drop=["norm.running_mean"], add=["head.proj.zzz"]), dict(reshape=["fc1.weight", "blocks.0.bias"]),
])
@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_errors_and_incompatible_keys(edit, strict):
    t, m = pair_net()
    st = _edit(t.state_dict(), **edit)
    sm = _edit(m.state_dict(), **edit)
    try:
        rt = t.load_state_dict(st, strict=strict)
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as em:
            m.load_state_dict(sm, strict=strict)
        assert str(em.value) == str(e)
        return
    rm = m.load_state_dict(sm, strict=strict)
    assert rm == rt and repr(rm) == repr(rt)


def test_load_state_dict_scalar_from_one_element_and_non_tensor():
    t, m = pair_net()
    st, sm = t.state_dict(), m.state_dict()
    st["scale"], sm["scale"] = torch.tensor([3.0]), mc.tensor([3.0])
    t.load_state_dict(st)
    m.load_state_dict(sm)
    assert float(m.scale) == float(t.scale) == 3.0
    st["scale"], sm["scale"] = 3.0, 3.0
    assert_raises_same(lambda: t.load_state_dict(st), lambda: m.load_state_dict(sm), RuntimeError)
    assert_raises_same(lambda: t.load_state_dict([1]), lambda: m.load_state_dict([1]), TypeError)


def test_load_state_dict_assign():
    m = MNet()
    sd = m.state_dict()
    new_w = mc.ones(3, 4, dtype=mc.float64)
    sd["fc1.weight"] = sd["tied.weight"] = new_w  # fc1 and tied are one module
    old = m.fc1.weight
    m.load_state_dict(sd, assign=True)
    assert m.fc1.weight is not old and isinstance(m.fc1.weight, mc.nn.Parameter)
    assert m.fc1.weight.dtype is mc.float64 and m.fc1.weight.requires_grad
    # without assign the existing parameter is written in place, keeping its dtype (a fresh state_dict: as in
    # torch, assign=True leaves its flag in the loaded dict's _metadata)
    m2 = MNet()
    old = m2.fc1.weight
    sd = m2.state_dict()
    sd["fc1.weight"] = sd["tied.weight"] = new_w
    m2.load_state_dict(sd)
    assert m2.fc1.weight is old and m2.fc1.weight.dtype is mc.float32
    assert float(old.sum()) == 12.0


def test_load_from_state_dict_override_and_version():
    def run(lib):
        nn = lib.nn

        class Old(nn.Module):
            _version = 2

            def __init__(self):
                super().__init__()
                self.w = nn.Parameter(lib.zeros(2))

            def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
                version = local_metadata.get("version", None)
                if version is None or version < 2:
                    key = prefix + "old_w"
                    if key in state_dict:
                        state_dict[prefix + "w"] = state_dict.pop(key)
                super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing, unexpected, errors)

        outer = nn.Sequential(Old())
        sd = OrderedDict([("0.old_w", lib.ones(2))])
        sd._metadata = OrderedDict([("", {"version": 1}), ("0", {"version": 1})])
        r = outer.load_state_dict(sd)
        own = outer.state_dict()
        return repr(r), float(outer[0].w.sum()), dict(own._metadata)

    assert run(mc) == run(torch)


def test_state_dict_and_load_hooks_fire_in_order():
    def run(lib):
        nn = lib.nn
        log = []
        Lin = build(lib)[0]
        m = nn.Sequential(Lin(2, 2))
        m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: log.append(("pre", prefix, keep_vars)))
        m[0].register_state_dict_pre_hook(lambda mod, prefix, keep_vars: log.append(("pre0", prefix)))
        m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: log.append(("post", list(sd), meta)))
        m._register_state_dict_hook(lambda mod, sd, prefix, meta: OrderedDict(x=1))
        sd = m.state_dict()
        log.append(dict(sd))

        def pre(mod, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
            log.append(("load_pre", type(mod).__name__, prefix, sorted(state_dict), strict))

        m[0].register_load_state_dict_pre_hook(pre)

        def post(mod, keys):
            log.append(("load_post", type(mod).__name__, list(keys.missing_keys), list(keys.unexpected_keys)))
            keys.unexpected_keys.clear()

        m.register_load_state_dict_post_hook(post)
        full = OrderedDict([("0.weight", lib.ones(2, 2)), ("0.bias", lib.ones(2)), ("junk", lib.ones(1))])
        r = m.load_state_dict(full)
        log.append(repr(r))
        return log

    assert run(mc) == run(torch)


def test_extra_state():
    def run(lib):
        nn = lib.nn

        class E(nn.Module):
            def __init__(self):
                super().__init__()
                self.cfg = {"a": 1}

            def get_extra_state(self):
                return dict(self.cfg)

            def set_extra_state(self, state):
                self.cfg = state

        m = nn.Sequential(E())
        sd = m.state_dict()
        keys = list(sd)
        sd["0._extra_state"] = {"a": 5}
        m.load_state_dict(sd)
        r = m.load_state_dict({}, strict=False)
        return keys, m[0].cfg, repr(r)

    assert run(mc) == run(torch)


# ---------------------------------------------------------------- hooks


def _hooked(lib, log):
    nn = lib.nn
    Lin = build(lib)[0]
    m = nn.Sequential(Lin(3, 2), Lin(2, 2))

    def shape(x):
        return tuple(x.shape) if isinstance(x, lib.Tensor) else x

    def pre(name):
        def hook(mod, args):
            log.append((name, type(mod).__name__, [shape(a) for a in args]))
        return hook

    def fwd(name):
        def hook(mod, args, out):
            log.append((name, [shape(a) for a in args], shape(out)))
        return hook

    m.register_forward_pre_hook(pre("pre_a"))
    m.register_forward_pre_hook(pre("pre_b"), prepend=True)
    m[0].register_forward_pre_hook(pre("pre0"))
    m.register_forward_hook(fwd("fwd_a"))
    m.register_forward_hook(fwd("fwd_b"), prepend=True)
    m[1].register_forward_hook(lambda mod, args, kwargs, out: log.append(("kw", sorted(kwargs))), with_kwargs=True)
    return m


def test_forward_hook_order_and_arguments():
    def run(lib):
        log = []
        m = _hooked(lib, log)
        m(lib.ones(4, 3))
        return log

    assert run(mc) == run(torch)


def test_forward_hooks_modify_and_remove():
    def run(lib):
        nn = lib.nn
        m = build(lib)[0](2, 2)
        h1 = m.register_forward_pre_hook(lambda mod, args: args[0] * 2)
        h2 = m.register_forward_hook(lambda mod, args, out: out + 100)
        h3 = m.register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] + 1,), kwargs), with_kwargs=True)
        x = lib.ones(1, 2)
        a = m(x).tolist()
        h1.remove()
        b = m(x).tolist()
        with h3:
            pass
        c = m(x).tolist()
        h2.remove()
        d = m(x).tolist()
        bad = m.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
        try:
            m(x)
        except RuntimeError as e:
            err = str(e)
        bad.remove()
        return a, b, c, d, err, nn.Module

    ra, rt = run(mc), run(torch)
    assert ra[:5] == rt[:5]


def test_always_call_forward_hook_runs_on_error():
    def run(lib):
        nn = lib.nn
        log = []

        class Boom(nn.Module):
            def forward(self, x):
                raise ValueError("boom")

        m = Boom()
        m.register_forward_hook(lambda mod, args, out: log.append(("always", out)), always_call=True)
        m.register_forward_hook(lambda mod, args, out: log.append(("never", out)))
        with pytest.raises(ValueError):
            m(1)
        return log

    assert run(mc) == run(torch)


def test_global_forward_hooks_fire_first_and_remove():
    def run(lib):
        mm = lib.nn.modules.module
        log = []
        Lin = build(lib)[0]
        m = Lin(2, 2)
        m.register_forward_pre_hook(lambda mod, args: log.append("local_pre"))
        m.register_forward_hook(lambda mod, args, out: log.append("local_fwd"))
        h1 = mm.register_module_forward_pre_hook(lambda mod, args: log.append(("global_pre", type(mod).__name__)))
        h2 = mm.register_module_forward_hook(lambda mod, args, out: log.append("global_fwd"))
        try:
            m(lib.ones(1, 2))
        finally:
            h1.remove()
            h2.remove()
        m(lib.ones(1, 2))
        return log

    assert run(mc) == run(torch)


def test_global_registration_hooks():
    def run(lib):
        mm = lib.nn.modules.module
        log = []
        hs = [mm.register_module_parameter_registration_hook(lambda mod, n, v: log.append(("p", n))),
              mm.register_module_buffer_registration_hook(lambda mod, n, v: log.append(("b", n))),
              mm.register_module_module_registration_hook(lambda mod, n, v: log.append(("m", n)))]
        try:
            build(lib)[1](2)
            lib.nn.Sequential(lib.nn.Module())
        finally:
            for h in hs:
                h.remove()
        return log

    assert run(mc) == run(torch)


def _bw_run(lib, inputs_require_grad=True, modify=False, pre=False, with_nontensor=False):
    nn = lib.nn
    Lin = build(lib)[0]
    log = []

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = Lin(3, 2)

        def forward(self, x, k, y):
            return self.a(x) * k, (y * 3).sum(1)

    m = Two()

    def hook(mod, gin, gout):
        log.append(("full", [None if g is None else np.round(g.detach().numpy(), 5).tolist() for g in gin],
                    [None if g is None else np.round(g.detach().numpy(), 5).tolist() for g in gout]))
        if modify:
            return tuple(None if g is None else g * 10 for g in gin)

    def prehook(mod, gout):
        log.append(("pre", [None if g is None else tuple(g.shape) for g in gout]))
        if modify:
            return tuple(None if g is None else g * 2 for g in gout)

    m.register_full_backward_hook(hook)
    if pre:
        m.register_full_backward_pre_hook(prehook)
    r = np.random.default_rng(0)
    xa = r.standard_normal((4, 3)).astype(np.float32)
    ya = r.standard_normal((4, 2)).astype(np.float32)
    x = lib.tensor(xa, requires_grad=inputs_require_grad)
    y = lib.tensor(ya, requires_grad=inputs_require_grad)
    o1, o2 = m(x, 2.0, y)
    (o1.sum() + (o2 * lib.arange(4.0)).sum()).backward()
    grads = [None if t.grad is None else np.round(t.grad.numpy(), 4).tolist() for t in (x, y)]
    grads.append(np.round(m.a.weight.grad.numpy(), 4).tolist())
    return log, grads, type(o1.grad_fn).__name__


@pytest.mark.parametrize("kw", [dict(), dict(pre=True), dict(modify=True, pre=True), dict(inputs_require_grad=False)])
def test_full_backward_hooks_match_torch(kw):
    rm, rt = _bw_run(mc, **kw), _bw_run(torch, **kw)
    assert rm[0] == rt[0]
    assert rm[1] == rt[1]
    assert rm[2] == rt[2] == "BackwardHookFunctionBackward"


def test_full_and_plain_backward_hooks_exclusive():
    assert_raises_same(lambda: _mixed(torch), lambda: _mixed(mc), RuntimeError)


def _mixed(lib):
    m = lib.nn.Module()
    m.register_backward_hook(lambda *a: None)
    m.register_full_backward_hook(lambda *a: None)


def test_non_full_backward_hook_sees_grad_fn_grads():
    def run(lib):
        Lin = build(lib)[0]
        m = Lin(3, 2)
        log = []
        m.register_backward_hook(lambda mod, gin, gout: log.append(len(gout)))
        x = lib.ones(2, 3, requires_grad=True)
        m(x).sum().backward()
        return log

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert run(mc) == run(torch)


def test_global_full_backward_hook():
    def run(lib):
        mm = lib.nn.modules.module
        log = []
        h = mm.register_module_full_backward_hook(lambda mod, gin, gout: log.append(type(mod).__name__))
        h2 = mm.register_module_full_backward_pre_hook(lambda mod, gout: log.append("pre"))
        try:
            Lin = build(lib)[0]
            m = lib.nn.Sequential(Lin(2, 2), Lin(2, 1))
            m(lib.ones(1, 2, requires_grad=True)).sum().backward()
        finally:
            h.remove()
            h2.remove()
            mm._global_is_full_backward_hook = None
        return log

    assert run(mc) == run(torch)


# ---------------------------------------------------------------- conversions


def test_dtype_conversions_in_place_keep_parameter_objects():
    m = MNet()
    xt, xm = x_pair(2, 4)
    m(xm).sum().backward()
    w, g = m.fc1.weight, m.fc1.weight.grad
    assert m.double() is m
    assert m.fc1.weight is w and w.dtype is mc.float64 and w.grad.dtype is mc.float64 and w.grad is g
    assert m.norm.num_batches_tracked.dtype is mc.int64  # integer buffers are left alone
    assert m.norm.running_mean.dtype is mc.float64
    assert m.float() is m and w.dtype is mc.float32
    assert m.half() is m and w.dtype is mc.float16
    assert m.bfloat16() is m and w.dtype is mc.bfloat16
    assert m.to(mc.float32) is m and w.dtype is mc.float32
    assert m.to("cpu", mc.float64) is m and w.dtype is mc.float64
    assert m.to(dtype=mc.float32) is m and w.dtype is mc.float32 and isinstance(w, mc.nn.Parameter)
    assert m.type(mc.float64) is m and m.norm.num_batches_tracked.dtype is mc.float64  # type() casts everything
    assert m.cpu() is m
    with pytest.raises(TypeError) as e:
        m.to(mc.int32)
    with pytest.raises(TypeError) as et:
        TNet().to(torch.int32)
    assert str(e.value) == str(et.value)


def test_apply_order():
    def run(lib):
        order = []
        t = build(lib)[2]()
        assert t.apply(lambda mod: order.append(type(mod).__name__)) is t
        return order

    assert run(mc) == run(torch)


@pytest.mark.parametrize("target", ["", "fc1", "head.proj", "blocks.2", "table.a", "nope", "fc1.weight", "fc1.nope"])
def test_get_submodule(target):
    t, m = pair_net()
    try:
        r = t.get_submodule(target)
    except AttributeError as e:
        with pytest.raises(AttributeError) as em:
            m.get_submodule(target)
        assert str(em.value) == str(e)
        return
    assert repr(m.get_submodule(target)) == repr(r)


@pytest.mark.parametrize("target", ["fc1.weight", "scale", "norm.running_mean", "fc1", "blocks.0.nope", "x.weight"])
def test_get_parameter_and_buffer(target):
    t, m = pair_net()
    for name in ("get_parameter", "get_buffer"):
        try:
            r = getattr(t, name)(target)
        except AttributeError as e:
            with pytest.raises(AttributeError) as em:
                getattr(m, name)(target)
            assert str(em.value) == str(e)
            continue
        assert_same(getattr(m, name)(target), r)


def test_set_submodule():
    def run(lib):
        Lin = build(lib)[0]
        t = build(lib)[2]()
        t.set_submodule("head.proj", Lin(3, 5))
        out = [repr(t.head)]
        for args in (("", Lin(1, 1)), ("head.nope", Lin(1, 1), True), ("scale", Lin(1, 1))):
            try:
                t.set_submodule(*args)
            except Exception as e:  # noqa: BLE001
                out.append((type(e).__name__, str(e)))
        return out

    assert run(mc) == run(torch)


# ---------------------------------------------------------------- copying and pickling


def test_deepcopy_independent_and_identical():
    m = MNet()
    c = copy.deepcopy(m)
    assert repr(c) == repr(m) and list(c.state_dict()) == list(m.state_dict())
    assert c.fc1.weight is not m.fc1.weight and isinstance(c.fc1.weight, mc.nn.Parameter)
    assert c.tied is c.fc1  # sharing survives
    with mc.no_grad():
        c.fc1.weight.fill_(0)
    assert float(m.fc1.weight.abs().sum()) > 0
    xt, xm = x_pair(2, 4)
    assert_same(copy.deepcopy(m)(xm), m(xm))


def test_pickle_roundtrip():
    m = MNet()
    m.register_forward_hook(_pickleable_hook)
    r = pickle.loads(pickle.dumps(m))
    assert type(r) is MNet and repr(r) == repr(m)
    for (k, a), (k2, b) in zip(m.state_dict().items(), r.state_dict().items()):
        assert k == k2
        assert_same(b, a)
    assert isinstance(r.fc1.weight, mc.nn.Parameter) and r.fc1.weight.requires_grad
    assert len(r._forward_hooks) == 1
    assert r.tied is r.fc1


def _pickleable_hook(mod, args, out):
    return None


# MNet is defined inside build(); pickling needs module-level names
MNet.__qualname__ = "MNet"
MLin.__qualname__ = "MLin"
MNorm.__qualname__ = "MNorm"


# ---------------------------------------------------------------- speed path


def test_call_without_hooks_goes_straight_to_forward():
    m = MLin(2, 2)
    calls = []
    m.forward = lambda x: calls.append(x) or x
    assert m(5) == 5 and calls == [5]


# ---------------------------------------------------------------- lazy modules


def lazy_net(lib):
    nn = lib.nn

    class LazyScale(nn.modules.lazy.LazyModuleMixin, nn.Module):
        """A lazy module of our own: its weight's shape comes from the first input's last dimension."""

        cls_to_become = None

        def __init__(self):
            super().__init__()
            self.weight = nn.UninitializedParameter()
            self.register_buffer("count", nn.UninitializedBuffer())

        def initialize_parameters(self, x):
            if self.has_uninitialized_params():
                with lib.no_grad():
                    self.weight.materialize((x.shape[-1],))
                    self.count.materialize((1,))
                    self.weight.fill_(2.0)
                    self.count.zero_()

        def forward(self, x):
            return x * self.weight

    return LazyScale


def test_lazy_module_materializes_on_first_call():
    def run(lib):
        m = lazy_net(lib)()
        out = [lib.nn.parameter.is_lazy(m.weight), m.has_uninitialized_params(), list(m.state_dict())]
        y = m(lib.ones(2, 3))
        out += [y.tolist(), type(m.weight).__name__, tuple(m.weight.shape), m.has_uninitialized_params(),
                len(m._forward_pre_hooks), list(m.state_dict()), type(m.count).__name__]
        return out

    assert run(mc) == run(torch)


def test_lazy_module_loads_state_dict_before_forward():
    def run(lib):
        m = lazy_net(lib)()
        m.load_state_dict({"weight": lib.arange(4.0), "count": lib.ones(1)})
        return tuple(m.weight.shape), m.weight.tolist(), m(lib.ones(1, 4)).tolist(), type(m.weight).__name__

    assert run(mc) == run(torch)


def test_lazy_layers_become_their_concrete_class():
    for name, args, shape in (("LazyLinear", (3,), (2, 5)), ("LazyConv2d", (4, 3), (1, 2, 6, 6)),
                              ("LazyBatchNorm1d", (), (4, 3))):
        if not hasattr(mc.nn, name):
            pytest.fail(f"mc.nn.{name} missing")
        torch.manual_seed(0)
        t = getattr(torch.nn, name)(*args)
        m = getattr(mc.nn, name)(*args)
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        t(torch.tensor(x))
        m(mc.tensor(x))
        assert type(m).__name__ == type(t).__name__
        assert list(m.state_dict()) == list(t.state_dict())
        assert [tuple(v.shape) for v in m.state_dict().values()] == [tuple(v.shape) for v in t.state_dict().values()]
        assert repr(m) == repr(t)


def test_data_parallel_wraps_like_torch_without_accelerator():
    def run(lib):
        torch.manual_seed(0)
        inner = build(lib)[0](3, 2)
        dp = lib.nn.DataParallel(inner)
        y = dp(lib.ones(4, 3))
        return repr(dp), list(dp.state_dict()), dp.device_ids, np.round(y.detach().numpy(), 5).tolist(), dp.module is inner

    if mc.cuda.is_available():
        pytest.skip("this checks the no-accelerator pass-through; with a GPU both libraries move the module")
    assert run(mc) == run(torch)


def test_nn_namespace_names_match_torch():
    ours = {n for n in dir(mc.nn) if not n.startswith("_")}
    theirs = {n for n in dir(torch.nn) if not n.startswith("_")}
    assert ours <= theirs, sorted(ours - theirs)  # nothing of ours that torch.nn lacks (no family submodules)
    for name in ("Module", "Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "Sequential",
                 "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "init", "utils", "functional",
                 "parameter", "modules", "parallel", "DataParallel", "factory_kwargs"):
        assert name in ours, name


def _nested_hook_log(lib):
    nn = lib.nn
    Lin = build(lib)[0]
    log = []

    def rnd(g):
        return None if g is None else np.round(g.detach().numpy(), 4).tolist()

    def full(name):
        return lambda mod, gin, gout: log.append((name, "full", [rnd(g) for g in gin], [rnd(g) for g in gout]))

    def pre(name):
        return lambda mod, gout: log.append((name, "pre", [rnd(g) for g in gout]))

    inner = Lin(2, 2)

    class Tanh(nn.Module):
        def forward(self, x):
            return x.tanh()

    class Ident(nn.Module):
        def forward(self, x):
            return x

    outer = nn.Sequential(Ident(), inner, Tanh())
    for name, m in (("outer", outer), ("id", outer[0]), ("lin", inner), ("tanh", outer[2])):
        m.register_full_backward_hook(full(name))
        m.register_full_backward_pre_hook(pre(name))
    x = lib.tensor([[0.1, 0.2]], requires_grad=True)
    y = outer(x)
    y2 = inner(x)  # a second call of the same module before backward: its own hook pairing
    (y.sum() + y2.sum() * 2).backward()
    log.append(rnd(x.grad))
    return log


def test_nested_full_backward_hooks_order_and_values():
    assert _nested_hook_log(mc) == _nested_hook_log(torch)


def test_module_attribute_names_match_torch():
    ours = set(dir(mc.nn.Module))
    # T_destination is a typing TypeVar; libraries imported by other tests add their own functions to torch's
    # Module (transformers' smart_apply), which are not torch's
    theirs = {n for n in dir(torch.nn.Module) if n != "T_destination"
              and not (getattr(getattr(torch.nn.Module, n), "__module__", None) or "").startswith("transformers")}
    assert ours == theirs, (sorted(ours - theirs), sorted(theirs - ours))


def test_global_forward_hook_with_kwargs_and_always_call():
    def run(lib):
        mm = lib.nn.modules.module
        nn = lib.nn
        log = []

        class K(nn.Module):
            def forward(self, x, *, scale=1.0, fail=False):
                if fail:
                    raise KeyError("fail")
                return x * scale

        m = K()
        h1 = mm.register_module_forward_hook(lambda mod, args, kwargs, out: log.append(("kw", sorted(kwargs))),
                                             with_kwargs=True)
        h2 = mm.register_module_forward_hook(lambda mod, args, out: log.append(("always", out is None)),
                                             always_call=True)
        try:
            m(lib.ones(1), scale=2.0)
            try:
                m(lib.ones(1), fail=True)
            except KeyError:
                log.append("raised")
        finally:
            h1.remove()
            h2.remove()
        m(lib.ones(1))
        return log

    assert run(mc) == run(torch)


def test_non_full_backward_hook_values_and_replacement():
    def run(lib):
        log = []

        class Mul(lib.nn.Module):
            def forward(self, a, b):
                return a * b

        m = Mul()

        def hook(mod, gin, gout):
            log.append(([None if g is None else g.tolist() for g in gin], [g.tolist() for g in gout]))
            return tuple(None if g is None else g * 10 for g in gin)

        m.register_backward_hook(hook)
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        m(a, b).sum().backward()
        return log, a.grad.tolist(), b.grad.tolist()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert run(mc) == run(torch)


_DEVICE_MOVE_SCRIPT = r"""
import mlx_compat as mc
m = mc.nn.Sequential(mc.nn.Linear(2, 3), mc.nn.BatchNorm1d(3))
m(mc.ones(4, 2)).sum().backward()
assert m.cuda() is m
for n, p in m.named_parameters():
    assert p.device.type == "cuda" and p.grad.device.type == "cuda" and type(p) is mc.nn.Parameter, n
for n, b in m.named_buffers():
    assert b.device.type == "cuda", n
assert m(mc.ones(4, 2, device="cuda")).device.type == "cuda"
w = m[0].weight
m.half()
assert m[0].weight is w and w.dtype is mc.float16 and w.device.type == "cuda"  # same-device casts keep the object
m.to("cpu", mc.float32)
assert m[0].weight.device.type == "cpu" and m[0].weight.dtype is mc.float32 and m[0].weight.grad.device.type == "cpu"
lazy = mc.nn.LazyLinear(3).cuda()
assert type(lazy.weight) is mc.nn.UninitializedParameter and lazy.weight.device.type == "cuda"
lazy(mc.ones(1, 4, device="cuda"))
assert type(lazy) is mc.nn.Linear and lazy.weight.device.type == "cuda" and tuple(lazy.weight.shape) == (3, 4)
dp = mc.nn.DataParallel(mc.nn.Linear(2, 2))
assert dp.device_ids == [0] and dp.module.weight.device.type == "cuda"
assert dp(mc.ones(1, 2)).device.type == "cuda"  # inputs follow the module to its device
# Note [Moves keep tied parameters]: a Parameter shared by two modules stays one Parameter (torch keeps the tie)
tied = mc.nn.Sequential(mc.nn.Embedding(5, 3), mc.nn.Linear(3, 5, bias=False))
tied[1].weight = tied[0].weight
tied[0].weight.grad = mc.ones(5, 3)
tied.cuda()
assert tied[1].weight is tied[0].weight and tied[0].weight.device.type == "cuda"
assert tied[0].weight.grad.device.type == "cuda" and len(list(tied.parameters())) == 1
tied.to("cpu")
assert tied[1].weight is tied[0].weight and tied[1].weight.device.type == "cpu"
print("ok")
"""


def test_device_moves_on_the_fake_gpu():
    """Note [Module device moves]: cuda()/to(device) move every parameter, grad and buffer (run under the package's
    fake GPU, where 'cuda' is MLX's CPU with the GPU's bookkeeping)."""
    assert run_fake_gpu(_DEVICE_MOVE_SCRIPT).strip() == "ok"


# ---------------------------------------------------------------- Note [registered-name slots]


def _slot_classes(lib):
    nn = lib.nn

    class Holder(nn.Module):
        def __init__(self, kind):
            super().__init__()
            if kind == "parameter":
                self.thing = nn.Parameter(lib.ones(2))
            elif kind == "buffer":
                self.register_buffer("thing", lib.full((2,), 3.0))
            elif kind == "module":
                self.thing = nn.Linear(2, 2)
            elif kind == "plain":
                self.thing = 7
            # "absent": nothing named thing

    return Holder


def _describe(lib, m):
    try:
        v = m.thing
    except AttributeError as e:
        return ("AttributeError", str(e))
    if isinstance(v, lib.Tensor):
        return ("tensor", type(v).__name__, v.tolist())
    return (type(v).__name__, v if isinstance(v, int) else None)


def test_registered_name_reads_across_instances_of_one_class():
    """One class whose instances hold `thing` as a parameter, a buffer, a submodule, a plain attribute or not at
    all, read in every order after the first read installed the class's slot: each answer (value, or torch's
    AttributeError message) equals torch's, and so do hasattr on the class, dir() and the answers after
    deleting and re-registering."""
    kinds = ["parameter", "buffer", "module", "plain", "absent"]
    got = []
    for lib in (torch, mc):
        Holder = _slot_classes(lib)
        ms = [Holder(k) for k in kinds]
        seen = [_describe(lib, m) for m in ms] + [_describe(lib, m) for m in reversed(ms)]
        seen.append(hasattr(Holder, "thing"))
        seen.append([("thing" in dir(m)) for m in ms])
        del ms[0].thing  # the parameter
        seen.append(_describe(lib, ms[0]))
        ms[0].thing = lib.nn.Parameter(lib.zeros(1))
        seen.append(_describe(lib, ms[0]))
        del ms[2].thing  # the submodule; then a plain attribute of that name
        ms[2].thing = "text"
        seen.append(_describe(lib, ms[2]))
        got.append(seen)
    assert got[1] == got[0]


def test_registered_name_slot_yields_to_a_parametrization_and_weight_norm():
    """After the slot of `weight` exists on Linear, a parametrized Linear (a property on its own subclass) and a
    weight_norm Linear (a plain attribute recomputed by a pre-hook) still read their own weight, as in torch."""
    outs = []
    for lib in (torch, mc):
        lib.manual_seed(0)
        plain = lib.nn.Linear(3, 2)
        plain.weight  # the slot now exists (ours)

        class Double(lib.nn.Module):
            def forward(self, w):
                return w * 2

        par = lib.nn.Linear(3, 2)
        with lib.no_grad():
            par.weight.copy_(lib.ones(2, 3))
            par.bias.zero_()
        lib.nn.utils.parametrize.register_parametrization(par, "weight", Double())
        wn = lib.nn.Linear(3, 2)
        with lib.no_grad():
            wn.weight.copy_(lib.full((2, 3), 0.5))
            wn.bias.zero_()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            lib.nn.utils.weight_norm(wn)
        x = lib.ones(1, 3)
        outs.append([par.weight.tolist(), par(x).tolist(), wn(x).tolist(), sorted(k for k, _ in wn.named_parameters())])
    assert outs[1] == outs[0]


@pytest.mark.parametrize("kind", ["module", "global"])
def test_hooks_registered_after_calls_fire_and_stop(kind):
    """Module.__call__'s hook-free path: a forward pre-hook and hook registered after a first call fire on the
    next call and stop after removal, module-local and global, as in torch."""
    logs = []
    for lib in (torch, mc):
        log = []
        m = lib.nn.Linear(2, 2)
        x = lib.ones(1, 2)
        m(x)
        if kind == "module":
            h1 = m.register_forward_pre_hook(lambda mod, a: log.append("pre"))
            h2 = m.register_forward_hook(lambda mod, a, o: log.append("post"))
        else:
            h1 = lib.nn.modules.module.register_module_forward_pre_hook(lambda mod, a: log.append("pre"))
            h2 = lib.nn.modules.module.register_module_forward_hook(lambda mod, a, o: log.append("post"))
        try:
            m(x)
            log.append("|")
        finally:
            h1.remove(), h2.remove()
        m(x)
        logs.append(log)
    assert logs[1] == logs[0] == ["pre", "post", "|"]


def test_registered_name_slot_keeps_a_custom_getattr_called():
    """A subclass whose __getattr__ transforms what Module's returns keeps transforming on every read, as in
    torch (no slot bypasses it)."""
    got = []
    for lib in (torch, mc):
        class Scaled(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.w = lib.nn.Parameter(lib.ones(2))

            def __getattr__(self, name):
                v = super().__getattr__(name)
                return v * 3 if name == "w" else v

        m = Scaled()
        got.append([m.w.tolist(), m.w.tolist(), hasattr(Scaled, "w")])
    assert got[1] == got[0] == [[3.0, 3.0], [3.0, 3.0], False]


def test_registered_name_slot_asks_a_replaced_mapping():
    """Note [Registered slots in C]: an exact dict is read directly, any other mapping in _buffers (here a dict
    subclass that counts and rewrites reads) through its own `in` and `[]`, as torch's __getattr__ reads it."""
    got = []
    for lib in (torch, mc):
        class Counting(dict):
            reads = 0

            def __contains__(self, k):
                return k == "ghost" or dict.__contains__(self, k)

            def __getitem__(self, k):
                Counting.reads += 1
                return "ghost value" if k == "ghost" else dict.__getitem__(self, k)

        class Holder(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("b", lib.full((2,), 5.0))

        m = Holder()
        first = m.b.tolist()  # installs the slot of `b` on Holder
        m.__dict__["_buffers"] = Counting(m.__dict__["_buffers"])
        seen = [first, m.b.tolist(), m.b.tolist(), m.ghost, Counting.reads]
        del m.__dict__["_buffers"]["b"]
        try:
            m.b
        except AttributeError as e:
            seen.append(str(e))
        got.append(seen)
    assert got[1] == got[0]
    assert got[0][:5] == [[5.0, 5.0], [5.0, 5.0], [5.0, 5.0], "ghost value", 3]


# ---------------------------------------------------------------- Note [Module call in C]


def test_module_call_paths_match_torch():
    """Module.__call__ (a C method descriptor, Note [Module call in C]): positional and keyword arguments reach
    forward; an instance or global forward hook, a forward pre-hook, a full backward hook and a module whose
    __init__ never ran take the hook path, each as in torch; read through an instance, __call__ is a bound
    method that calls the module."""
    got = []
    for lib in (torch, mc):
        nn = lib.nn

        class Add(nn.Module):
            def forward(self, a, b=2, *, c=3):
                return a + b + c

        class NoInit(nn.Module):
            def __init__(self):
                pass

            def forward(self, x):
                return x

        m = Add()
        seen = [m(1), m(1, 5), m(1, b=5, c=1), m.__call__(1, c=0)]
        h = m.register_forward_hook(lambda mod, args, out: out * 10)
        seen.append(m(1))
        h.remove()
        h = m.register_forward_pre_hook(lambda mod, args: (args[0] + 100,))
        seen.append(m(1))
        h.remove()
        h = nn.modules.module.register_module_forward_hook(lambda mod, args, out: out - 1)
        seen.append(m(1))
        h.remove()
        seen.append(m(1))
        lin = nn.Linear(2, 1)
        calls = []
        lin.register_full_backward_hook(lambda mod, gi, go: calls.append(len(gi)))
        lin(lib.ones(1, 2, requires_grad=True)).sum().backward()
        seen.append(calls)
        try:
            NoInit()(1)
        except AttributeError as e:
            seen.append(str(e))
        got.append(seen)
    assert got[1] == got[0]
    assert got[0][:8] == [6, 9, 7, 3, 60, 106, 5, 6]


def test_module_call_compiled_module_uses_its_compiled_call():
    """Module.compile() sets _compiled_call_impl on the instance; the C call then takes it (here a wrapper that
    counts its calls), as the Python __call__ did."""
    m = mc.nn.Linear(2, 2)
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return m._call_impl(*args, **kwargs)

    m._compiled_call_impl = counting
    x = mc.ones(1, 2)
    out = m(x)
    assert calls == [1] and mc.equal(out, m.forward(x))
    m._compiled_call_impl = None
    m(x)
    assert calls == [1]


def test_module_call_introspection_matches_torch():
    """inspect.signature of a module, of its bound __call__ and of Module.__call__, and __call__'s name, as in torch
    (Note [Module call in C]: the C descriptor reports torch's (self, *args, **kwargs))."""
    import inspect
    got = []
    for lib in (torch, mc):
        m = lib.nn.Linear(2, 2)
        got.append([str(inspect.signature(m)), str(inspect.signature(m.__call__)),
                    str(inspect.signature(lib.nn.Module.__call__)), lib.nn.Module.__call__.__name__, callable(m)])
    assert got[1] == got[0]
