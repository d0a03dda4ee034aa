"""Inputs that once ran for minutes where torch answers at once: loops bounded by an argument (polygamma's
order n, tensor_split's number of sections). Each runs in a subprocess with a timeout (a hang fails instead of
stalling the suite) and must end as torch ends: the same result or the same exception type."""
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_WRAPPER = """
import {mod} as torch
def case():
{body}
try:
    print("RESULT", repr(case()))
except Exception as e:
    print("EXC", type(e).__name__)
"""


def outcome(mod, body, timeout=60):
    code = _WRAPPER.format(mod=mod, body=textwrap.indent(textwrap.dedent(body), "    "))
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{mod}: still running after {timeout}s")
    assert r.returncode == 0, r.stderr[-2000:]
    return [ln for ln in r.stdout.splitlines() if ln.startswith(("RESULT", "EXC"))][-1]


@pytest.mark.parametrize("body", [
    "return torch.special.polygamma(2**63 - 1, torch.zeros(0, 3)).shape",
    "return torch.zeros(0, 3).polygamma(2**31).shape",
    "return [float(f'{v:.6g}') for v in torch.tensor([0.5, 2.0, 3.0], dtype=torch.float64).polygamma(200).tolist()]",
    "return [float(f'{v:.6g}') for v in torch.tensor([0.5, 1.0, 4.0]).polygamma(200).tolist()]",
    "return [float(f'{v:.6g}') for v in torch.tensor([0.5, 2.0], dtype=torch.float64).polygamma(170).tolist()]",
    "return len(torch.tensor_split(torch.zeros(0, 3), 2**63 - 1))",
    "return len(torch.tensor_split(torch.zeros(0, 3), 2**40))",
    "return [t.shape for t in torch.tensor_split(torch.zeros(5, 3), 7)]",
])
def test_argument_bounded_loops_answer_at_once(body):
    assert outcome("mlx_compat", body) == outcome("torch", body)


def test_polygamma_order_beyond_int32_answers_at_once():
    # torch's kernel takes n as a C int, so its values for n >= 2**31 come from a wrapped n; only the time is compared
    r = outcome("mlx_compat", "return len(torch.tensor([0.5, 2.0, 3.0]).polygamma(2**31).tolist())")
    assert r == "RESULT 3"


@pytest.mark.parametrize("body", [
    "return torch.special.hermite_polynomial_h(torch.tensor([0.5, 2.0]), 10**9).tolist()",
    "return torch.special.hermite_polynomial_he(torch.tensor([0.5, 2.0], dtype=torch.float64), 600).tolist()",
    "return torch.special.chebyshev_polynomial_t(torch.tensor([0.3, 1.0, 2.0]), 10**12).tolist()",
    "return torch.special.chebyshev_polynomial_u(torch.tensor([0.3, -1.0, 2.0]), 10**12).tolist()",
    "return torch.special.legendre_polynomial_p(torch.tensor([1.0, -1.0, 2.0]), 10**12).tolist()",
    "return torch.special.laguerre_polynomial_l(torch.tensor([0.0, -3.0]), 10**12).tolist()",
])
def test_orthogonal_polynomials_of_huge_order(body):
    # the recurrence stops once every element it still serves has left the finite range (or torch's limit)
    r = outcome("mlx_compat", body)
    assert [float(v) for v in r[len("RESULT ["):-1].split(", ")] == pytest.approx(
        [float(v) for v in outcome("torch", body)[len("RESULT ["):-1].split(", ")], rel=1e-5, nan_ok=True)
