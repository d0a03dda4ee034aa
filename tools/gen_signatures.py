"""Generate mlx_compat/_signatures.py, the table of torch's Python argument-parser signatures for the public
functions (torch.*) and Tensor methods, from the type stubs of the installed torch (torch/_C/_VariableFunctions.pyi
and the TensorBase class of torch/_C/__init__.pyi, which torch generates from the same declarations as its
parser). Run at development time only; the package reads the committed table and never imports torch.

    .venv/bin/python tools/gen_signatures.py

Each parameter is encoded as a tuple (name, accepted kinds, flags, default text or None): kinds are codes joined
by '|' (see mlx_compat/_argcheck.py for what each accepts), flags hold 'o' (None accepted), 'k' (keyword-only),
'v' (varargs: `*size`) and, on an overload's first parameter, 'h' (a deprecated overload the parser accepts but
never lists in its messages).
"""
import ast
import json
import os
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUBS = os.path.join(os.path.dirname(torch.__file__), "_C")

# stub annotation atoms -> parser kinds; anything not listed accepts every value (the checker stays silent)
_ATOMS = {
    "Tensor": "T",
    "_int": "i", "int": "i", "SymInt": "i", "IntLikeType": "i", "torch.SymInt": "i",
    "_float": "f", "torch.SymFloat": "f", "float": "f",
    "Number": "S", "_complex": "S",
    "_bool": "b", "bool": "b", "Literal[True]": "b", "Literal[False]": "b",
    "_size": "I", "_symsize": "I", "Sequence[_int | SymInt]": "I", "Sequence[_int]": "I", "tuple[_int, ...]": "I",
    "tuple[Tensor, ...]": "TL", "list[Tensor]": "TL",
    "tuple[Tensor | None, ...]": "TLo", "list[Tensor | None]": "TLo",
    "Sequence[Number | _complex]": "SL", "Sequence[_float]": "FL",
    "_dtype": "dt", "_layout": "ly", "DeviceLikeType": "dv", "_device": "dv",
    "memory_format": "mf", "torch.memory_format": "mf", "Generator": "g", "str": "s",
}


_PYTHON_LEVEL_FUNCTIONS = {
    "chain_matmul": ((("matrices", "T", "v", None), ("out", "T", "ko", "None")),),
    "lu": ((("A", "T", "", None), ("pivot", "b", "", "True"), ("get_infos", "*", "", "False"), ("out", "*", "ko", "None")),),
    "split": ((("tensor", "T", "", None), ("split_size_or_sections", "i|I", "", None), ("dim", "i", "", "0")),),
}
_PYTHON_LEVEL_METHODS = {
    "lu": ((("pivot", "b", "", "True"), ("get_infos", "*", "", "False")),),
    "split": ((("split_size", "i|I", "", None), ("dim", "i", "", "0")),),
}


def _split(node):
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _split(node.left) + _split(node.right)
    return [node]


def _kinds(ann):
    """(kinds string, optional) for an annotation; kinds '*' when some part is not understood."""
    if ann is None:
        return "*", False
    kinds, optional = [], False
    for part in _split(ann):
        text = ast.unparse(part)
        if text == "None":
            optional = True
            continue
        k = _ATOMS.get(text)
        if k is None:
            return "*", optional
        if k not in kinds:
            kinds.append(k)
    return "|".join(kinds) or "*", optional


def _overload(fn, method):
    a = fn.args
    params = []
    pos = a.posonlyargs + a.args
    if method:
        pos = pos[1:]  # self
    defaults = [None] * (len(pos) - len(a.defaults)) + list(a.defaults)
    for p, d in zip(pos, defaults[-len(pos):] if pos else []):
        kinds, opt = _kinds(p.annotation)
        params.append((p.arg, kinds, "o" if opt else "", None if d is None else ast.unparse(d)))
    if a.vararg is not None:
        kinds, opt = _kinds(a.vararg.annotation)
        params.append((a.vararg.arg, kinds, "v" + ("o" if opt else ""), None))
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        kinds, opt = _kinds(p.annotation)
        params.append((p.arg, kinds, "k" + ("o" if opt else ""), None if d is None else ast.unparse(d)))
    return tuple(params)


def _collect(body, method):
    table = {}
    for node in body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            ov = _overload(node, method)
            if not method and ov and ov[0][0] == "self":
                # torch's deprecated signatures (the only ones naming the tensor `self` among the functions)
                # are hidden: the parser accepts them but leaves them out of its messages
                ov = ((ov[0][0], ov[0][1], ov[0][2] + "h", ov[0][3]),) + ov[1:]
            table.setdefault(node.name, [])
            if ov not in table[node.name]:
                table[node.name].append(ov)
    return {k: tuple(v) for k, v in sorted(table.items())}


def tables():
    """(functions, methods): torch's signatures as the table holds them."""
    with open(os.path.join(STUBS, "_VariableFunctions.pyi")) as f:
        functions = _collect(ast.parse(f.read()).body, False)
    with open(os.path.join(STUBS, "__init__.pyi")) as f:
        tree = ast.parse(f.read())
    base = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "TensorBase")
    methods = {k: v for k, v in _collect(base.body, True).items() if not k.startswith("__")}
    # names torch implements in Python (torch/functional.py, torch/_tensor.py) parse their arguments their own way
    functions = {k: v for k, v in functions.items() if type(getattr(torch, k, None)).__name__ == "builtin_function_or_method"}
    methods = {k: v for k, v in methods.items() if type(getattr(torch.Tensor, k, None)).__name__ == "method_descriptor"}
    # functions torch writes in Python whose arguments reach one native call unchanged (torch/functional.py,
    # torch/_tensor.py), so they fail as that call's parser does
    functions.update(_PYTHON_LEVEL_FUNCTIONS)
    methods.update(_PYTHON_LEVEL_METHODS)
    # the parser's deprecated signatures the stubs leave out (tools/autograd/deprecated.yaml): add/sub(alpha, other)
    for name in ("add", "add_", "sub", "sub_"):
        methods[name] += ((("alpha", "S", "h", None), ("other", "T", "", None)),)
    return functions, methods


# nn.functional functions torch writes in Python whose parameters torch's native function of the same name
# takes in the same positions and kinds (F's being a prefix of the native's)
_FUNCTIONAL_LIKE_NATIVE = ("layer_norm", "rms_norm")


def shared_names():
    """{"nn.functional": [names]}: the nn.functional functions that torch.<name> can judge: the very object
    torch.<name> in torch, or a Python function with the same parameters. (torch.linalg/fft/special functions
    are native, with the signatures of their top-level twins, so they need no list.)"""
    import torch.nn.functional as F

    same = [n for n in dir(F) if not n.startswith("_") and callable(getattr(F, n)) and
            not isinstance(getattr(F, n), type) and getattr(F, n) is getattr(torch, n, None)]
    return {"nn.functional": sorted(set(same) | set(_FUNCTIONAL_LIKE_NATIVE))}


def _json_block(table):
    """The table as JSON text, one name per line (loading JSON is much faster than compiling the literal)."""
    return "{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in table.items()) + "\n}"


def main():
    functions, methods = tables()
    out = os.path.join(ROOT, "mlx_compat", "_signatures.py")
    with open(out, "w") as f:
        f.write('"""torch\'s Python argument-parser signatures for the public functions (FUNCTIONS: torch.<name>) and the\n'
                'Tensor methods (METHODS, without self), as data: name -> overloads -> parameters [name, kinds, flags,\n'
                'default]. Generated by tools/gen_signatures.py from torch ' + torch.__version__.split("+")[0] +
                '\'s type stubs; read by _argcheck.py, and only\nwhen a public call fails."""\n')
        f.write("import json\n\n# flake8: noqa\n")
        f.write("FUNCTIONS = json.loads(r\"\"\"" + _json_block(functions) + "\"\"\")\n\n")
        f.write("METHODS = json.loads(r\"\"\"" + _json_block(methods) + "\"\"\")\n\n")
        f.write("# nn.functional functions that torch.<name>'s signatures judge too\n")
        f.write("SHARED = " + json.dumps(shared_names()) + "\n")
    print(f"{out}: {len(functions)} functions, {len(methods)} methods")


if __name__ == "__main__":
    sys.exit(main())
