"""mlx_compat.utils._pytree against torch.utils._pytree: leaves, round trips, tree_map, registered nodes,
namedtuples and the errors of mismatched structures."""
import collections

import pytest
import torch.utils._pytree as tp

import mlx_compat.utils._pytree as mp

Point = collections.namedtuple("Point", "x y")

TREES = [
    1,
    [1, 2, (3, 4)],
    {"b": [1, {"c": 2}], "a": (3,)},
    collections.OrderedDict([("z", 1), ("y", [2, 3])]),
    Point(1, [2, 3]),
    collections.defaultdict(list, {"k": [1, 2]}),
    ([], {}, ()),
    collections.deque([1, [2, 3]], maxlen=5),
]


@pytest.mark.parametrize("tree", TREES, ids=range(len(TREES)))
def test_flatten_like_torch(tree):
    lo, so = mp.tree_flatten(tree)
    lt, st = tp.tree_flatten(tree)
    assert lo == lt
    assert so.num_leaves == st.num_leaves
    back = mp.tree_unflatten(lo, so)
    assert back == tree and type(back) is type(tree)
    assert mp.tree_map(lambda v: v * 10, tree) == tp.tree_map(lambda v: v * 10, tree)
    assert mp.tree_leaves(tree) == tp.tree_leaves(tree)


def test_tree_map_multi_and_mismatch():
    assert mp.tree_map(lambda a, b: a + b, [1, (2, 3)], [10, (20, 30)]) == [11, (22, 33)]
    with pytest.raises(ValueError):
        mp.tree_map(lambda a, b: a, [1, 2], [1, 2, 3])
    with pytest.raises(ValueError):
        tp.tree_map(lambda a, b: a, [1, 2], [1, 2, 3])
    with pytest.raises(ValueError):
        mp.tree_unflatten([1, 2], mp.tree_structure([1, 2, 3]))


def test_register_and_only():
    class Box:
        def __init__(self, a, b):
            self.a, self.b = a, b

    mp.register_pytree_node(Box, lambda x: ([x.a, x.b], None), lambda vals, ctx: Box(*vals))
    leaves, spec = mp.tree_flatten([Box(1, 2), 3])
    assert leaves == [1, 2, 3]
    rebuilt = mp.tree_unflatten([4, 5, 6], spec)
    assert (rebuilt[0].a, rebuilt[0].b, rebuilt[1]) == (4, 5, 6)
    with pytest.raises(ValueError):
        mp.register_pytree_node(Box, lambda x: ([], None), lambda v, c: Box(0, 0))
    assert mp.tree_map_only(int, lambda v: -v, [1, "a", 2.5]) == tp.tree_map_only(int, lambda v: -v, [1, "a", 2.5])
    assert mp.tree_all(lambda v: v > 0, [1, (2,)]) and not mp.tree_any(lambda v: v > 5, [1, (2,)])


def test_key_paths_like_torch():
    tree = {"a": [1, Point(2, 3)], "b": (4,)}
    po = [(mp.keystr(k), v) for k, v in mp.tree_flatten_with_path(tree)[0]]
    pt = [(tp.keystr(k), v) for k, v in tp.tree_flatten_with_path(tree)[0]]
    assert po == pt
    assert [(str(k), v) for k, v in mp._dict_flatten_with_keys({"x": 1})[0]] == \
        [(str(k), v) for k, v in tp._dict_flatten_with_keys({"x": 1})[0]]
