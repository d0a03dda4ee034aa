"""The compiled call's plan and call program where CPython has no dict version tags (3.14 on, Note [Dict version
tags]): every test of test_compile_plan.py, test_compile_program.py, test_compile_host_scalars.py and
test_compile_derived.py again, with
`_C._compile_dict_versions` answering None as it does there, so that plans keep their identity pass and call
programs compare the dicts' snapshots (Note [Dict snapshots] in csrc/compile.c)."""
import pytest
from _pytest.fixtures import getfixturemarker

import test_compile_derived
import test_compile_host_scalars
import test_compile_plan
import test_compile_program
from mlx_compat import _C


@pytest.fixture(autouse=True)
def _no_dict_tags(monkeypatch):
    monkeypatch.setattr(_C, "_compile_dict_versions", lambda dicts: None)
    yield


def test_calls_run_the_program_without_tags():
    # the snapshot path is the one taken: a reused call's plan has none of the tags, and the program holds snapshots
    m, o, step = test_compile_program._setup(sched=False)
    cs, x, y = test_compile_program._warm(step, 3)
    plan, prog = cs._compiled._plan, cs._compiled._prog
    assert plan._versions is None and isinstance(plan._snapshot, tuple) and prog is not None
    assert any(v is plan._snapshot for v in prog)
    assert any(isinstance(v, list) and v and v[0] is plan._gsnapshot for v in prog)


for _mod, _tag in ((test_compile_plan, "plan"), (test_compile_program, "program"),
                   (test_compile_host_scalars, "host_scalars"), (test_compile_derived, "derived")):
    for _name, _obj in vars(_mod).items():
        if _name.startswith("test_"):
            globals()[f"test_{_tag}_{_name[5:]}"] = _obj
        elif getfixturemarker(_obj) is not None and _name not in globals():
            globals()[_name] = _obj  # its fixtures (the same in each module where two share a name)
del _mod, _tag, _name, _obj
