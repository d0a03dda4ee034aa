"""torch.utils._pytree: nested containers (lists, tuples, namedtuples, dicts, OrderedDicts, defaultdicts and
registered node types) flattened to a list of leaves plus a TreeSpec that rebuilds them. torch.func's transforms
and third-party code (register_pytree_node, tree_map) use it."""
from __future__ import annotations

import collections
from typing import Any, Callable, NamedTuple

__all__ = ["TreeSpec", "LeafSpec", "MappingKey", "SequenceKey", "GetAttrKey", "tree_flatten_with_path",
           "tree_leaves_with_path", "keystr", "register_pytree_node", "tree_flatten", "tree_unflatten", "tree_leaves",
           "tree_map", "tree_map_only", "tree_structure", "tree_all", "tree_any", "SUPPORTED_NODES"]


class NodeDef(NamedTuple):
    type: type
    flatten_fn: Callable
    unflatten_fn: Callable


SUPPORTED_NODES: dict[type, NodeDef] = {}


def register_pytree_node(cls, flatten_fn, unflatten_fn, *, serialized_type_name=None, to_dumpable_context=None,
                         from_dumpable_context=None, flatten_with_keys_fn=None):
    """Make `cls` a container: flatten_fn(x) -> (children, context); unflatten_fn(children, context) -> x."""
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn)


def _is_namedtuple(t):
    return issubclass(t, tuple) and hasattr(t, "_fields")


register_pytree_node(list, lambda x: (list(x), None), lambda vals, ctx: list(vals))
register_pytree_node(tuple, lambda x: (list(x), None), lambda vals, ctx: tuple(vals))
register_pytree_node(dict, lambda x: (list(x.values()), list(x.keys())), lambda vals, ctx: dict(zip(ctx, vals)))
register_pytree_node(collections.OrderedDict, lambda x: (list(x.values()), list(x.keys())),
                     lambda vals, ctx: collections.OrderedDict(zip(ctx, vals)))
register_pytree_node(collections.defaultdict, lambda x: (list(x.values()), (x.default_factory, list(x.keys()))),
                     lambda vals, ctx: collections.defaultdict(ctx[0], zip(ctx[1], vals)))
register_pytree_node(collections.deque, lambda x: (list(x), x.maxlen),
                     lambda vals, ctx: collections.deque(vals, maxlen=ctx))


def _node_def(x):
    t = type(x)
    if t in SUPPORTED_NODES:
        return SUPPORTED_NODES[t]
    if _is_namedtuple(t):  # every namedtuple class is a node, rebuilt with its own class
        return NodeDef(t, lambda v: (list(v), t), lambda vals, ctx: ctx(*vals))
    return None


class TreeSpec:
    """The structure of a flattened tree: the node type, its context and the children's specs (a leaf's is LeafSpec)."""

    def __init__(self, type, context, children_specs):  # noqa: A002 - torch's field name
        self.type, self.context, self.children_specs = type, context, list(children_specs)
        self.num_nodes = 1 + sum(c.num_nodes for c in self.children_specs)
        self.num_leaves = sum(c.num_leaves for c in self.children_specs)
        self.num_children = len(self.children_specs)

    def is_leaf(self):
        return False

    def __eq__(self, other):
        if not isinstance(other, TreeSpec) or other.is_leaf() != self.is_leaf():
            return NotImplemented if not isinstance(other, TreeSpec) else False
        return (self.type is other.type and self.context == other.context
                and self.children_specs == other.children_specs)

    def __hash__(self):
        return hash((self.type, self.num_leaves))

    def __repr__(self):
        if self.is_leaf():
            return "*"
        name = getattr(self.type, "__name__", repr(self.type))
        return f"TreeSpec({name}, {self.context!r}, [{', '.join(map(repr, self.children_specs))}])"

    def unflatten(self, leaves):
        return tree_unflatten(leaves, self)


class LeafSpec(TreeSpec):
    def __init__(self):
        self.type, self.context, self.children_specs = None, None, []
        self.num_nodes, self.num_leaves, self.num_children = 1, 1, 0

    def is_leaf(self):
        return True


_LEAF = LeafSpec()


def tree_flatten(tree, is_leaf=None):
    """(leaves in order, TreeSpec)."""
    node = None if (is_leaf is not None and is_leaf(tree)) else _node_def(tree)
    if node is None:
        return [tree], _LEAF
    children, ctx = node.flatten_fn(tree)
    leaves, specs = [], []
    for c in children:
        lv, sp = tree_flatten(c, is_leaf)
        leaves.extend(lv)
        specs.append(sp)
    return leaves, TreeSpec(node.type, ctx, specs)


def tree_unflatten(leaves, treespec):
    """The tree of `treespec`'s structure holding `leaves`."""
    if not isinstance(treespec, TreeSpec):
        raise TypeError(f"tree_unflatten(leaves, treespec): Expected `treespec` to be instance of TreeSpec but got "
                        f"item of type {type(treespec)}.")
    leaves = list(leaves)
    if len(leaves) != treespec.num_leaves:
        raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers to a "
                         f"pytree that holds {treespec.num_leaves} items ({treespec}).")
    it = iter(leaves)

    def build(spec):
        if spec.is_leaf():
            return next(it)
        children = [build(c) for c in spec.children_specs]
        t = spec.type
        if t in SUPPORTED_NODES:
            return SUPPORTED_NODES[t].unflatten_fn(children, spec.context)
        return spec.context(*children)  # a namedtuple
    return build(treespec)


def tree_leaves(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func, tree, *rests, is_leaf=None):
    """`tree`'s structure with func applied leafwise (over the matching leaves of `rests` too)."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = []
    for r in rests:
        lv, sp = tree_flatten(r, is_leaf)
        if sp != spec:
            raise ValueError(f"Tuple length mismatch or tree structure mismatch: {spec} vs {sp}")
        others.append(lv)
    return tree_unflatten([func(*xs) for xs in zip(leaves, *others)], spec)


def _type_pred(types_or_pred):
    if isinstance(types_or_pred, (type, tuple)):
        return lambda x: isinstance(x, types_or_pred)
    return types_or_pred


def tree_map_only(type_or_types, func, tree, is_leaf=None):
    pred = _type_pred(type_or_types)
    return tree_map(lambda x: func(x) if pred(x) else x, tree, is_leaf=is_leaf)


def tree_all(pred, tree, is_leaf=None):
    return all(map(pred, tree_leaves(tree, is_leaf)))


def tree_any(pred, tree, is_leaf=None):
    return any(map(pred, tree_leaves(tree, is_leaf)))


def _broadcast_to_and_flatten(tree: Any, treespec: TreeSpec, is_leaf=None):
    """`tree`'s leaves repeated to `treespec`'s structure (a leaf of `tree` covers a whole subtree), or None when
    `tree` is not a prefix of `treespec` (vmap's in_dims/out_dims rule)."""
    if treespec.is_leaf():
        return [tree]
    node = None if (is_leaf is not None and is_leaf(tree)) else _node_def(tree)
    if node is None:
        return [tree] * treespec.num_leaves
    if node.type is not treespec.type:
        return None
    children, ctx = node.flatten_fn(tree)
    if len(children) != treespec.num_children or ctx != treespec.context:
        return None
    out = []
    for c, sp in zip(children, treespec.children_specs):
        sub = _broadcast_to_and_flatten(c, sp, is_leaf)
        if sub is None:
            return None
        out.extend(sub)
    return out


# ---------------------------------------------------------------- key paths
class MappingKey(NamedTuple):
    key: Any

    def __str__(self):
        return f"[{self.key!r}]"


class SequenceKey(NamedTuple):
    idx: int

    def __str__(self):
        return f"[{self.idx!r}]"


class GetAttrKey(NamedTuple):
    name: str

    def __str__(self):
        return f".{self.name}"


def _dict_flatten_with_keys(d):
    """A dict's (key, value) children and context, as register_pytree_node's flatten_with_keys_fn gives them."""
    values, context = list(d.values()), list(d.keys())
    return [(MappingKey(k), v) for k, v in zip(context, values)], context


def _children_with_keys(tree, node):
    children, ctx = node.flatten_fn(tree)
    if isinstance(tree, dict):
        return [(MappingKey(k), c) for k, c in zip(tree.keys(), children)]
    if _is_namedtuple(type(tree)):
        return [(GetAttrKey(f), c) for f, c in zip(tree._fields, children)]
    return [(SequenceKey(i), c) for i, c in enumerate(children)]


def tree_flatten_with_path(tree, is_leaf=None):
    """([(key path, leaf)], TreeSpec): each leaf with the tuple of keys that reaches it."""
    def walk(t, path):
        node = None if (is_leaf is not None and is_leaf(t)) else _node_def(t)
        if node is None:
            return [(path, t)]
        out = []
        for k, c in _children_with_keys(t, node):
            out.extend(walk(c, path + (k,)))
        return out
    return walk(tree, ()), tree_structure(tree, is_leaf)


def tree_leaves_with_path(tree, is_leaf=None):
    return tree_flatten_with_path(tree, is_leaf)[0]


def keystr(kp):
    """A key path as the string torch prints, e.g. "['a'][0].x"."""
    return "".join(str(k) for k in kp)
