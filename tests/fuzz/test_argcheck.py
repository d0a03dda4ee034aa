"""mlx_compat/_argcheck.py (Note [Argument error hook]) and its table mlx_compat/_signatures.py against torch:
the checker rejects only calls torch's parser rejects, failed calls end with torch's exception type (and
message where it is the parser's), calls torch accepts keep their own error, and the table is torch's."""
import importlib.util
import json
import os
import re
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import mlx_compat as mc  # noqa: E402
from mlx_compat import _argcheck, _signatures  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import corpus  # noqa: E402


def _outcome(lib, code, receiver):
    ns = {"torch": lib, "np": np, "x": eval(receiver, {"torch": lib})}
    try:
        eval(code, ns)
    except Exception as e:  # noqa: BLE001 - the type is the outcome
        return type(e), str(e), e
    return None, "", None


def _calls():
    """(code, receiver key, name, is_method, args, kwargs) for the corpus' calls of public functions/methods,
    with mlx_compat's arguments."""
    cap = lambda *a, **k: (a, k)  # noqa: E731
    for _, rkey, code, stmt in corpus.build(torch, mc):
        m = re.match(r"^(x|torch)\.(\w+)\((.*)\)$", code)
        if stmt or not m or m.group(2).startswith("__"):
            continue
        ns = {"torch": mc, "np": np, "cap": cap, "x": eval(corpus.RECEIVERS[rkey], {"torch": mc})}
        args, kwargs = eval(f"cap({m.group(3)})", ns)
        is_method = m.group(1) == "x"
        yield code, rkey, m.group(2), is_method, ((ns["x"],) + args if is_method else args), kwargs


def test_checker_rejects_only_what_torch_rejects():
    """Over the corpus' calls: each the checker rejects raises TypeError in torch, and each integer it calls an
    overflow raises that exception type in torch (never a call torch runs)."""
    rejected = overflows = 0
    wrong = []
    for code, rkey, name, is_method, args, kwargs in _calls():
        msg = _argcheck.check(name, is_method, args, kwargs)
        err = _argcheck.overflow(name, is_method, args, kwargs) if msg is None else None
        if msg is None and err is None:
            continue
        want = TypeError if msg is not None else type(err)
        got = _outcome(torch, code, corpus.RECEIVERS[rkey])[0]
        if got is not want:
            wrong.append((code, rkey, want.__name__, got and got.__name__))
        rejected += msg is not None
        overflows += err is not None
    assert wrong == []
    assert rejected > 10000 and overflows > 100  # the corpus exercises both rules


@pytest.mark.parametrize("code, same_message", [
    ("torch.zeros(0).argmax(None, None)", True),        # keepdim must be bool
    ("torch.addcdiv(torch.ones(2, 3), 1, 2)", True),    # one plausible overload of three
    ("torch.ones(2, 3).bincount(True)", True),
    ("torch.ones(2, 3).bernoulli(())", True),           # several overloads, none fits
    ("torch.ones(2, 3).sum(dim=0, input=1)", True),     # unknown keyword
    ("torch.logical_not(-1)", True),                    # a function reached with no tensor
    ("torch.ones(2, 3).lu(0, 0)", False),               # torch's Python-level lu: pivot reaches a native bool
    ("torch.split(torch.ones(2, 3), True)", False),
    ("torch.chain_matmul(torch.ones(2, 2), [])", False),
])
def test_type_errors_match_torch(code, same_message):
    t_type, t_msg, _ = _outcome(torch, code, "None")
    m_type, m_msg, _ = _outcome(mc, code, "None")
    assert t_type is TypeError and m_type is TypeError
    if same_message:  # up to the position, which a wrapper shared by torch.f and Tensor.f cannot know
        first = t_msg.split(",")[0].split(" - ")[0].split(" (position")[0]
        assert m_msg.startswith(first), (m_msg, t_msg)


def test_type_error_is_chained_from_ours():
    with pytest.raises(TypeError) as info:
        mc.zeros(0).argmax(None, None)
    assert isinstance(info.value.__cause__, IndexError)  # ours: an empty argmax without a dim, torch's IndexError
    assert "keepdim" in str(info.value)


@pytest.mark.parametrize("code", [
    "torch.ones(2, 3).diag(2**63)",               # int: ValueError
    "torch.ones(2, 3).select(0, -2**63 - 1)",
    "torch.ones(2, 3).flip([2**63])",             # int list: TypeError
    "torch.ones(2, 3).permute(0, 2**63)",
    "torch.ones(2, 3).clamp_max(-2**63 - 1)",     # Scalar: OverflowError
    "torch.atan2(torch.ones(2, 3), torch.zeros(2))",    # MLX's broadcast ValueError: torch's RuntimeError
    "torch.ones(2, 3).atan2_(torch.zeros(0, 3))",
])
def test_unpacking_and_broadcast_errors_match_torch(code):
    t_type, t_msg, _ = _outcome(torch, code, "None")
    m_type, m_msg, _ = _outcome(mc, code, "None")
    assert m_type is t_type, (m_msg, t_msg)
    assert m_msg.split("\n")[0][:40] == t_msg.split("\n")[0][:40]


@pytest.mark.parametrize("code", [
    "torch.ones(2, 3).reshape(4)",                 # accepted by the parser: the op's own RuntimeError
    "torch.ones(2, 3).view(4, 2)",
    "torch.ones(2, 3).sum(5)",
    "torch.ones(2, 3).add(2**70)",                 # Scalar overflow in both
])
def test_accepted_calls_keep_their_error(code):
    t_type, _, _ = _outcome(torch, code, "None")
    m_type, _, m_exc = _outcome(mc, code, "None")
    assert t_type is not None and m_type is t_type
    assert m_type is not TypeError or m_exc.__cause__ is None


def test_calls_from_inside_the_package_keep_their_error():
    """A public function the package calls with arguments it derived keeps its own error: the outermost call
    decides (code compiled under a file name inside the package stands for the package's own code)."""
    code = compile("mc.zeros(0).argmax(None, None)", os.path.join(os.path.dirname(mc.__file__), "_x.py"), "eval")
    with pytest.raises(Exception) as inside:
        eval(code, {"mc": mc})
    with pytest.raises(Exception) as outside:
        mc.zeros(0).argmax(None, None)
    assert outside.type is TypeError and inside.type is not TypeError


def test_without_the_hook_the_original_error_stays():
    mc._C._set_arg_error_hook(None)
    try:
        with pytest.raises(IndexError):  # the empty argmax's own error (torch's type)
            mc.zeros(0).argmax(None, None)
    finally:
        mc._C._set_arg_error_hook(_argcheck.arg_error_hook)
    with pytest.raises(TypeError):
        mc.zeros(0).argmax(None, None)


def test_a_failing_check_keeps_the_original_error():
    old = _argcheck._replacement
    _argcheck._replacement = lambda *a: 1 / 0
    try:
        with pytest.raises(IndexError):  # the empty argmax's own error (torch's type)
            mc.zeros(0).argmax(None, None)
    finally:
        _argcheck._replacement = old


def test_table_is_torchs():
    """mlx_compat/_signatures.py is what tools/gen_signatures.py makes from the installed torch."""
    spec = importlib.util.spec_from_file_location("gen_signatures", os.path.join(ROOT, "tools", "gen_signatures.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    functions, methods = json.loads(json.dumps(gen.tables()))  # as the module stores them: lists
    assert functions == _signatures.FUNCTIONS and methods == _signatures.METHODS
    assert len(functions) > 500 and len(methods) > 500


@pytest.mark.parametrize("code", [
    "torch.tensor(1.5).cummax([0])",      # 0-dim input: dim still has to be an int in [-1, 0]
    "torch.tensor(1.5).cummin(None)",
    "torch.tensor(1.5).cummin(1)",
    "torch.tensor(1.5).cummax(torch.tensor(0))",
    "torch.tensor(1.5).cummax(-1)",
    "torch.ones(2, 3).svd(1)",            # bool flags take only bools
    "torch.ones(2, 3).svd(True, np.bool_(True))",
    "torch.svd(torch.ones(2, 3), some=None)",
    "torch.ones(2, 3).qr(0)",
    "torch.ones(2, 3).svd(False)",
])
def test_strict_arguments_of_python_level_ops(code):
    t_type = _outcome(torch, code, "None")[0]
    m_type = _outcome(mc, code, "None")[0]
    assert m_type is t_type


@pytest.mark.parametrize("code", [
    "torch.dropout(torch.ones(2, 3), 1.5, True)",          # the native op's RuntimeError, not F.dropout's ValueError
    "torch.alpha_dropout(torch.ones(2, 3), 1.5, False)",
    "torch.feature_alpha_dropout(torch.ones(2, 3), 0.5, 1)",    # train must be a bool
    "torch.alpha_dropout_(torch.ones(2, 3), 0.5, 1)",
    "torch.dropout(torch.ones(2, 3), 0.5)",                # train is required
    "torch.alpha_dropout(torch.ones(2, 3))",
    "torch.dropout(torch.ones(2, 3), torch.ones(2, 3), True)",
    "torch.dropout(torch.ones(2, 3), 0.5, train=False)",
    "torch.selu(torch.ones(2, 3), True)",                  # no inplace flag at top level
    "torch.celu(torch.ones(2, 3), 2.0)",
    "torch.nn.functional.dropout(torch.ones(2, 3), 1.5)",  # nn.functional keeps its own signature
])
def test_top_level_dropout_family_has_the_native_signatures(code):
    t_type = _outcome(torch, code, "None")[0]
    m_type = _outcome(mc, code, "None")[0]
    assert m_type is t_type or (t_type is ValueError and issubclass(m_type, ValueError))


def test_functions_shared_with_nn_functional_keep_their_errors():
    """One function serving torch.<name> and nn.functional.<name> is called with either signature, so it is
    judged by torch.<name>'s only where torch's two are one object too."""
    for code in ["torch.nn.functional.dropout(torch.zeros(2, 3, 4), -0.1)",
                 "torch.nn.functional.softmax(torch.zeros(2, 3), 5, 3)",
                 "torch.nn.functional.embedding(torch.tensor([5]), torch.zeros(2, 3), None)"]:
        t_type = _outcome(torch, code, "None")[0]
        m_type = _outcome(mc, code, "None")[0]
        assert t_type is not None and (m_type is t_type or issubclass(m_type, t_type)), code
    assert _argcheck._names().get(id(mc.nn.functional.softmax)) is None
    assert _argcheck._names().get(id(mc.conv1d)) == [("conv1d", False)]  # torch.conv1d is F.conv1d in torch


def test_top_level_embedding_takes_weight_first():
    w = np.random.default_rng(0).random((4, 3), dtype=np.float32)
    grads = []
    for L in (torch, mc):
        W = L.tensor(w, requires_grad=True)
        out = L.embedding(W, L.tensor([0, 2, 2, 1]), 2)
        out.sum().backward()
        grads.append((tuple(out.shape), np.asarray(W.grad.tolist())))
    assert grads[0][0] == grads[1][0] and np.array_equal(grads[0][1], grads[1][1])
    for code in ["torch.embedding(torch.ones(4, 3), torch.tensor([0]), True)",
                 "torch.embedding(torch.ones(4, 3), torch.tensor([5]))"]:
        assert _outcome(mc, code, "None")[0] is _outcome(torch, code, "None")[0]


def test_reversed_flips_dim_0_as_torch():
    for L in (torch, mc):
        x = L.arange(6.).reshape(2, 3)
        assert reversed(x).tolist() == [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]]
        assert reversed(L.tensor(1.5)).tolist() == 1.5
        with pytest.raises(TypeError):
            x.__reversed__(1)


@pytest.mark.parametrize("code", [
    "torch.max_pool1d(torch.arange(24.).reshape(1, 2, 12), 3, 2, 1, 1, True)",
    "torch.max_pool1d_with_indices(torch.arange(24.).reshape(1, 2, 12), 2)",
    "torch.max_pool2d(torch.arange(24.).reshape(1, 2, 3, 4), 2)",
    "torch.rrelu(torch.arange(24.).reshape(1, 2, 12), 0.1, 0.2, False, None)",
])
def test_top_level_pools_and_rrelu_have_the_native_signatures(code):
    # by path: tests/conformance has a `runner` module too, and one xdist worker may have imported that one first
    spec = importlib.util.spec_from_file_location("fuzz_runner", os.path.join(HERE, "runner.py"))
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    summary = runner.summary

    assert summary(eval(code, {"torch": mc}), mc) == summary(eval(code, {"torch": torch}), torch)
    bad = code[:-1] + ", True)"  # one positional more than the native op takes (nn.functional's return_indices/inplace)
    assert _outcome(mc, bad, "None")[0] is _outcome(torch, bad, "None")[0] is TypeError
