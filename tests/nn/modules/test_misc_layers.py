"""PixelShuffle/PixelUnshuffle, Upsample/UpsamplingNearest2d/UpsamplingBilinear2d, Flatten/Unflatten,
CosineSimilarity/PairwiseDistance, ChannelShuffle and Fold/Unfold against torch: outputs, input gradients, repr and
stored attributes in train and eval; constructor and forward errors."""
import pytest

from helpers import assert_raises_same, mc, torch
from modtest import check_module, inputs, lib_path, pair

CASES = [
    ("nn.PixelShuffle", (2,), {}, [(2, 8, 3, 4)]),
    ("nn.PixelShuffle", (3,), {}, [(9, 2, 2)]),
    ("nn.PixelShuffle", (2,), {}, [(2, 1, 4, 3, 2)]),
    ("nn.PixelUnshuffle", (2,), {}, [(2, 3, 4, 6)]),
    ("nn.PixelUnshuffle", (3,), {}, [(1, 6, 3)]),
    ("nn.Upsample", (), {"scale_factor": 2}, [(2, 3, 4, 5)]),
    ("nn.Upsample", (), {"size": 7}, [(2, 3, 5)]),
    ("nn.Upsample", (), {"size": (5, 7), "mode": "nearest-exact"}, [(1, 2, 3, 4)]),
    ("nn.Upsample", (), {"scale_factor": 1.5, "mode": "linear"}, [(2, 3, 6)]),
    ("nn.Upsample", (), {"scale_factor": (2, 1.5), "mode": "bilinear"}, [(2, 3, 4, 6)]),
    ("nn.Upsample", (), {"size": (7, 5), "mode": "bilinear", "align_corners": True}, [(2, 3, 4, 6)]),
    ("nn.Upsample", (), {"scale_factor": 2, "mode": "bicubic"}, [(1, 2, 4, 5)]),
    ("nn.Upsample", (), {"size": (5, 6), "mode": "bicubic", "align_corners": True}, [(1, 2, 4, 3)]),
    ("nn.Upsample", (), {"scale_factor": 2, "mode": "trilinear"}, [(1, 2, 3, 2, 4)]),
    ("nn.Upsample", (), {"size": (3, 4), "mode": "area"}, [(2, 3, 7, 9)]),
    ("nn.Upsample", (), {"scale_factor": 1.7, "mode": "bilinear", "recompute_scale_factor": True}, [(1, 2, 5, 4)]),
    ("nn.UpsamplingNearest2d", (), {"scale_factor": 3}, [(2, 3, 2, 3)]),
    ("nn.UpsamplingNearest2d", ((4, 5),), {}, [(2, 3, 2, 3)]),
    ("nn.UpsamplingBilinear2d", (), {"scale_factor": 2}, [(2, 3, 3, 4)]),
    ("nn.UpsamplingBilinear2d", (), {"size": (5, 7)}, [(2, 3, 3, 4)]),
    ("nn.Flatten", (), {}, [(2, 3, 4, 5)]),
    ("nn.Flatten", (0, 2), {}, [(2, 3, 4, 5)]),
    ("nn.Flatten", (), {"start_dim": -2}, [(2, 3, 4)]),
    ("nn.Unflatten", (1, (3, 4)), {}, [(2, 12, 5)]),
    ("nn.Unflatten", (-1, [2, -1]), {}, [(2, 3, 8)]),
    ("nn.CosineSimilarity", (), {}, [(4, 5), (4, 5)]),
    ("nn.CosineSimilarity", (), {"dim": 0, "eps": 1e-3}, [(4, 5), (1, 5)]),
    ("nn.CosineSimilarity", (-1,), {}, [(2, 3, 6), (2, 3, 6)]),
    ("nn.PairwiseDistance", (), {}, [(4, 5), (4, 5)]),
    ("nn.PairwiseDistance", (1.0,), {"keepdim": True}, [(4, 5), (4, 5)]),
    ("nn.PairwiseDistance", (3,), {"eps": 1e-3}, [(6,), (6,)]),
    ("nn.PairwiseDistance", (0.5,), {}, [(3, 4), (1, 4)]),
    ("nn.ChannelShuffle", (2,), {}, [(2, 6, 3, 3)]),
    ("nn.ChannelShuffle", (3,), {}, [(1, 9, 4)]),
    ("nn.Unfold", (2,), {}, [(2, 3, 5, 6)]),
    ("nn.Unfold", ((2, 3),), {"dilation": (1, 2), "padding": 1, "stride": (2, 1)}, [(2, 2, 6, 7)]),
    ("nn.Unfold", (3,), {"padding": 1}, [(3, 4, 4)]),
    ("nn.Fold", ((4, 5), 2), {}, [(2, 12, 12)]),
    ("nn.Fold", ((6, 7), (2, 3)), {"dilation": (1, 2), "padding": 1, "stride": (2, 1)}, [(2, 12, 20)]),
    ("nn.Fold", (4, 2), {"stride": 2}, [(8, 4)]),
]


def _id(c):
    return f"{c[0][3:]}{c[1]}" + ",".join(f"{k}={v}" for k, v in c[2].items())


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("path,args,kwargs,shapes", CASES, ids=[_id(c) for c in CASES])
def test_matches_torch(path, args, kwargs, shapes, train):
    theirs, ours = pair(path, *args, **kwargs)
    check_module(theirs, ours, *inputs(*shapes), train=train)


def test_upsample_attributes():
    for kwargs in [{"scale_factor": 2}, {"scale_factor": (2, 3)}, {"size": 4}, {"scale_factor": 0},
                   {"size": (2, 3), "mode": "bilinear", "align_corners": False}]:
        t, m = torch.nn.Upsample(**kwargs), mc.nn.Upsample(**kwargs)
        for name in ("name", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"):
            assert getattr(m, name) == getattr(t, name), (kwargs, name)
            assert type(getattr(m, name)) is type(getattr(t, name)), (kwargs, name)
        assert repr(m) == repr(t)
    assert mc.nn.UpsamplingBilinear2d(scale_factor=2).name == "UpsamplingBilinear2d"


def test_pairwise_distance_stores_p_as_norm():
    t, m = torch.nn.PairwiseDistance(p=3.0, eps=0.1, keepdim=True), mc.nn.PairwiseDistance(p=3.0, eps=0.1,
                                                                                          keepdim=True)
    assert (m.norm, m.eps, m.keepdim) == (t.norm, t.eps, t.keepdim)
    assert repr(m) == repr(t)


@pytest.mark.parametrize("path,args", [
    ("nn.Unflatten", (1, 12)),
    ("nn.Unflatten", (1, (3, 4.0))),
    ("nn.Unflatten", (1, "34")),
])
def test_constructor_errors(path, args):
    assert_raises_same(lambda: lib_path(torch, path)(*args), lambda: lib_path(mc, path)(*args))


@pytest.mark.parametrize("path,args,kwargs,shapes", [
    ("nn.PixelShuffle", (2,), {}, [(2, 6, 3, 3)]),
    ("nn.PixelUnshuffle", (2,), {}, [(2, 3, 5, 4)]),
    ("nn.ChannelShuffle", (4,), {}, [(2, 6, 3, 3)]),
    ("nn.Unflatten", (1, (3, 5)), {}, [(2, 12, 5)]),
    ("nn.Flatten", (3,), {}, [(2, 3)]),
    ("nn.Fold", ((4, 5), 2), {}, [(2, 11, 12)]),
    ("nn.Upsample", (), {"scale_factor": 2, "mode": "bilinear"}, [(2, 3, 4)]),
    ("nn.CosineSimilarity", (), {}, [(4, 5), (4, 6)]),
    ("nn.Upsample", (), {"size": 4, "scale_factor": 2}, [(1, 2, 3, 3)]),
    ("nn.Upsample", (), {"scale_factor": 2, "mode": "trilinear"}, [(1, 2, 3, 3)]),
    ("nn.Upsample", (), {"scale_factor": 2, "mode": "nearest", "align_corners": True}, [(1, 2, 3, 3)]),
    ("nn.PairwiseDistance", (), {}, [(3, 4), (3, 5)]),
    ("nn.Unfold", (4,), {}, [(1, 2, 3, 3)]),
    ("nn.Fold", (3, 2), {}, [(1, 5, 4)]),
])
def test_forward_errors(path, args, kwargs, shapes):
    theirs, ours = pair(path, *args, **kwargs)
    t_in, m_in = inputs(*shapes)
    assert_raises_same(lambda: theirs(*t_in), lambda: ours(*m_in))


def test_upsample_setstate_defaults_recompute_scale_factor():
    """Pickles from before recompute_scale_factor existed load with it set to True, as in torch."""
    t, m = torch.nn.Upsample(scale_factor=2), mc.nn.Upsample(scale_factor=2)
    ts, ms = dict(t.__dict__), dict(m.__dict__)
    del ts["recompute_scale_factor"], ms["recompute_scale_factor"]
    t2, m2 = torch.nn.Upsample.__new__(torch.nn.Upsample), mc.nn.Upsample.__new__(mc.nn.Upsample)
    t2.__setstate__(ts)
    m2.__setstate__(ms)
    assert m2.recompute_scale_factor is t2.recompute_scale_factor is True
    assert repr(m2) == repr(t2)


@pytest.mark.parametrize("path,args,kwargs,shapes", [c for c in CASES if c[0] in ("nn.Upsample", "nn.Fold")][:3],
                         ids=str)
def test_deepcopy_and_pickle(path, args, kwargs, shapes):
    import copy
    import pickle
    theirs, ours = pair(path, *args, **kwargs)
    for clone in (copy.deepcopy(ours), pickle.loads(pickle.dumps(ours))):
        check_module(theirs, clone, *inputs(*shapes))
