"""The exception-parity ratchet: the fuzz corpus (corpus.py) runs against torch and mlx_compat, each in a
subprocess under PYTHONMALLOC=debug; mlx_compat must never crash or hang on it, every case parity_baseline.json lists must still end
as torch's does, and the match rate must not fall below the recorded one. After an improvement, record it
with `.venv/bin/python tests/fuzz/update_baseline.py`."""
import os
import sys

import pytest

pytest.importorskip("torch")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import parity  # noqa: E402


@pytest.fixture(scope="module")
def results():
    # under CPython's debug allocator, which turns a use-after-free or buffer overrun in the C core into a crash
    return parity.run_both(debug_malloc=True)


def test_corpus_never_crashes_or_hangs(results):
    assert results["crashes"] == []
    hung = [cid for cid, v in results["mlx_compat"].items() if v == ["timeout"] and results["torch"].get(cid) != ["timeout"]]
    assert hung == []


def test_corpus_is_complete(results):
    assert set(results["mlx_compat"]) == set(results["torch"])
    base = parity.load_baseline()
    assert len(results["torch"]) >= base["cases"]


# cases whose outcome depends on a GPU being there: `x.to(0)` moves to GPU 0 where MLX has one (or under the fake
# GPU, Note [Fake GPU]), while the oracle, torch's CPU build, raises
_GPU_DEPENDENT = frozenset({"658d720be5d6"})


def test_parity_does_not_regress(results):
    import mlx_compat

    base = parity.load_baseline()
    ok = set(parity.matching(results))
    regressed = sorted(set(base["matching"]) - ok - (_GPU_DEPENDENT if mlx_compat._C.GPU_AVAILABLE else set()))
    assert regressed == [], f"{len(regressed)} cases no longer end as torch's do (see update_baseline.py --show)"
    assert len(ok) / len(results["torch"]) >= base["rate"] - 1e-9
