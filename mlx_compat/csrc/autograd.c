/* autograd.c — the tape: Node objects (one per recorded op), AccumulateGrad for leaves, saved-value
 * snapshots, and `autograd_record`, which every differentiable op (C or Python) calls after its forward.
 * The engine that runs a backward pass is engine.c. */
#include "core.h"
#include "structmember.h"
#include <string.h>

/* Note [Saved values are snapshots]
 * A node saves the *values* its backward needs as snapshot tensors: new Tensor objects holding the
 * input's mx.array at record time and the input's place in the graph (grad_fn/output_nr, or the
 * leaf's AccumulateGrad). MLX arrays are immutable, so an in-place write to the input afterwards
 * rebinds the input's array and never changes a snapshot: gradients stay right. We therefore do not
 * raise torch's "modified by an inplace operation" error; code that triggers it in torch computes
 * correct gradients here. Because a snapshot keeps the graph position, backward formulas written
 * with the package's ops record a differentiable graph when create_graph=True. */

/* Note [Autograd ownership]
 * Graphs are freed by reference counting alone, as in torch: the strong references only ever point
 * from outputs towards inputs (tensor -> grad_fn -> next edges -> ... -> AccumulateGrad -> leaf), so
 * no cycle forms among tensors, nodes, hooks and saved values. Two places would close a cycle and
 * hold their back-pointer weakly instead:
 *   - a leaf caches its AccumulateGrad weakly (torch's AutogradMeta::grad_accumulator_ is a weak_ptr),
 *     while the node holds the leaf strongly (`variable`): Note [Leaf accumulator]. The node lives as
 *     long as some graph has an edge to it; the next graph built from the leaf makes a fresh one. A
 *     snapshot of a leaf holds the node strongly (it is no leaf's cache, so no cycle).
 *   - an output saved by its own node (torch's SavedVariable with is_output) holds that node through
 *     a weakref (`weak_grad_fn`); `tensor_grad_fn` resolves it. While the node runs its backward the
 *     node is alive, so the snapshot keeps its graph position for create_graph; a snapshot that
 *     escapes and outlives its node reads as a tensor without history.
 * Hooks belong to the node or tensor they were registered on and reference nothing else of ours;
 * retained gradients are found through weakrefs to their tensors. What a user's own hook closure
 * captures is the user's (torch makes the same cycle), and so is `backward(create_graph=True)`'s
 * leaf.grad whose graph reaches the leaf again (torch warns about that cycle). */

/* ---------------------------------------------------------------- Node type */

/* Note [Node edges]
 * A node's next edges, torch's next_functions, are a C array of (node, input_nr) with strong references to
 * the nodes (NULL for torch's None), kept inside the node for up to NODE_INLINE_EDGES inputs (every unary and
 * binary op) and PyMem-allocated beyond. Python tuples for the edges were four objects made and freed per
 * recorded binary op; `next_functions` builds torch's tuple when asked (a new one each time, as torch's). */

/* Releases the edges' references and their array; n->edges is NULL after. */
static void node_edges_clear(NodeObject *n)
{
    struct NodeEdge *e = n->edges;
    Py_ssize_t k = n->n_edges;
    n->edges = NULL;
    n->n_edges = 0;
    for (Py_ssize_t i = 0; i < k; i++)
        Py_XDECREF(e[i].fn);
    if (e != NULL && e != n->inline_edges)
        PyMem_Free(e);
}

/* Makes room for k edges, all None (NULL). 0 / -1. */
static int node_edges_alloc(NodeObject *n, Py_ssize_t k)
{
    if (k <= NODE_INLINE_EDGES)
        n->edges = n->inline_edges;
    else if ((n->edges = PyMem_Calloc((size_t)k, sizeof(struct NodeEdge))) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(n->edges, 0, sizeof(struct NodeEdge) * (size_t)k);
    n->n_edges = k;
    return 0;
}

static int node_traverse(NodeObject *n, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(n));
    Py_VISIT(n->backward);
    Py_VISIT(n->ctx);
    for (int k = 0; n->ctx_deferred && k < n->n_by_value; k++) /* Note [Deferred ctx] */
        Py_VISIT(n->by_value[k].value);
    for (Py_ssize_t i = 0; i < n->n_edges; i++)
        Py_VISIT(n->edges[i].fn);
    Py_VISIT(n->tensor_pre_hooks);
    Py_VISIT(n->pre_hooks);
    Py_VISIT(n->hooks);
    Py_VISIT(n->variable);
    Py_VISIT(n->dict);
    Py_VISIT(n->retained);
    return 0;
}

static int node_clear(NodeObject *n)
{
    if (n->is_accumulate && n->variable != NULL) { /* Note [Leaf accumulator]: the leaf's cache goes with the node */
        TensorObject *leaf = (TensorObject *)n->variable;
        if (leaf->accumulator_borrowed && leaf->grad_accumulator == (PyObject *)n) {
            leaf->grad_accumulator = NULL;
            leaf->accumulator_borrowed = 0;
        }
    }
    Py_CLEAR(n->backward);
    node_saved_release(n);
    node_edges_clear(n);
    Py_CLEAR(n->tensor_pre_hooks);
    Py_CLEAR(n->pre_hooks);
    Py_CLEAR(n->hooks);
    Py_CLEAR(n->variable);
    Py_CLEAR(n->dict);
    Py_CLEAR(n->retained);
    return 0;
}

/* Note [Node types and free list]
 * Every recorded op makes a node of its torch name's class (`type(grad_fn).__name__` is 'MulBackward0', and
 * `grad_fn.name()` reads it). Those classes are C heap types made once per name from a spec with Node as base
 * (node_class), not Python subclasses: a Python subclass's instances are made by PyType_GenericAlloc and
 * freed by subtype_dealloc, which walks the class layout generically on every node. A C node type's tp_dealloc
 * is node_dealloc itself, and dead nodes of these types are kept, cleared and untracked, in a per-module array
 * of NODE_FREE_LIST_MAX that node_new takes from first (as Note [Tensor free list]; a kept node holds no
 * reference). A kept node's type is set to the Node base, which the module holds until it clears the list: the
 * per-name type may go first (a registration replacing it), and PyObject_GC_Del reads the type of the memory it
 * frees. Python subclasses (custom Functions' nodes, registered by _register_node_class) keep CPython's own
 * allocation: their tp_dealloc is subtype_dealloc, which calls node_dealloc as the base's, and node_dealloc
 * keeps only nodes whose own tp_dealloc it is. Deep graphs are freed through the trashcan (a chain of a
 * 100,000 nodes frees without deep C recursion), as subtype_dealloc did. */
/* Note [Shallow node deallocation]
 * The trashcan costs two calls into CPython per node freed (about a hundred instructions for a recorded op's two
 * nodes, its own and a leaf's AccumulateGrad), though it matters only for long chains. node_dealloc counts its
 * own nesting per thread and engages the trashcan from NODE_DEALLOC_SHALLOW nested frees on: a chain of any
 * length is still freed within the trashcan's bounded C stack (that many frames more), and the common graph,
 * a few nodes deep, frees without it. Where CPython's trashcan has no condition form to hand the test to
 * (3.12 on), every free takes it, as before. */
#define NODE_DEALLOC_SHALLOW 16
static _Thread_local int node_dealloc_depth CORE_TLS;

static void node_dealloc(NodeObject *n)
{
    PyTypeObject *tp = Py_TYPE(n);
    PyObject_GC_UnTrack(n);
#if PY_VERSION_HEX < 0x030C0000
    Py_TRASHCAN_BEGIN_CONDITION(n, node_dealloc_depth >= NODE_DEALLOC_SHALLOW &&
                                       _PyTrash_cond((PyObject *)n, (destructor)node_dealloc))
#else
    Py_TRASHCAN_BEGIN(n, node_dealloc)
#endif
    node_dealloc_depth++;
    if (n->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)n);
    node_clear(n);
    PyObject *m = tp->tp_dealloc == (destructor)node_dealloc ? ((PyHeapTypeObject *)tp)->ht_module : NULL;
    State *st = m != NULL ? (State *)PyModule_GetState(m) : NULL;
    if (st != NULL && st->node_type != NULL && st->n_free_nodes < NODE_FREE_LIST_MAX) {
        Py_SET_TYPE(n, (PyTypeObject *)st->node_type);
        st->free_nodes[st->n_free_nodes++] = n;
    } else
        tp->tp_free((PyObject *)n);
    Py_DECREF(tp);
    node_dealloc_depth--;
    Py_TRASHCAN_END
}

void node_free_list_clear(State *st)
{
    while (st->n_free_nodes > 0)
        PyObject_GC_Del(st->free_nodes[--st->n_free_nodes]);
}

/* NEW: torch's Node.name(): the class name, with the C++ namespace torch shows for its two nodes that are
 * no generated derivative (AccumulateGrad, CopySlices). */
static PyObject *node_name(NodeObject *n, PyObject *noargs)
{
    PyObject *name = PyObject_GetAttrString((PyObject *)Py_TYPE(n), "__name__");
    if (name != NULL && PyUnicode_Check(name) && (PyUnicode_CompareWithASCIIString(name, "AccumulateGrad") == 0 ||
                                                  PyUnicode_CompareWithASCIIString(name, "CopySlices") == 0))
        Py_SETREF(name, PyUnicode_FromFormat("torch::autograd::%U", name));
    return name;
}

/* NEW: the pair (fn or None, nr). */
static PyObject *edge_pair_of(PyObject *fn, int nr)
{
    return Py_BuildValue("(Oi)", fn != NULL ? fn : Py_None, nr);
}

/* next_functions: ((node or None, input_nr), ...) as torch shows them (Note [Node edges]). */
static PyObject *node_get_next(NodeObject *n, void *c)
{
    State *st = state_of_type(Py_TYPE(n));
    if (st == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n->n_edges; i++)
        if (node_edge_fn(st, n, i) == NULL && PyErr_Occurred()) /* Note [Lazy leaf edges] */
            return NULL;
    PyObject *t = PyTuple_New(n->n_edges);
    for (Py_ssize_t i = 0; t != NULL && i < n->n_edges; i++) {
        PyObject *e = edge_pair_of(n->edges[i].fn, n->edges[i].input_nr);
        if (e == NULL)
            Py_CLEAR(t);
        else
            PyTuple_SET_ITEM(t, i, e);
    }
    return t;
}

static PyObject *node_get_ctx(NodeObject *n, void *c)
{
    if (n->n_by_value && node_saved_materialize(state_of_type(Py_TYPE(n)), n) < 0) /* Note [Saved inputs by value] */
        return NULL;
    return Py_NewRef(n->ctx ? n->ctx : Py_None);
}

static PyObject *node_get_variable(NodeObject *n, void *c)
{
    if (n->variable == NULL) {
        PyErr_SetString(PyExc_AttributeError, "'Node' object has no attribute 'variable'");
        return NULL;
    }
    return Py_NewRef(n->variable);
}

static PyObject *node_get_hooks_list(PyObject **slot)
{
    if (*slot == NULL && (*slot = PyList_New(0)) == NULL)
        return NULL;
    return Py_NewRef(*slot);
}

static PyObject *node_get_pre_hooks(NodeObject *n, void *c) { return node_get_hooks_list(&n->pre_hooks); }
static PyObject *node_get_tensor_pre_hooks(NodeObject *n, void *c) { return node_get_hooks_list(&n->tensor_pre_hooks); }
static PyObject *node_get_post_hooks(NodeObject *n, void *c) { return node_get_hooks_list(&n->hooks); }
static PyObject *node_get_retained(NodeObject *n, void *c) { return node_get_hooks_list(&n->retained); }

static PyObject *node_get_released(NodeObject *n, void *c) { return PyBool_FromLong(n->released); }

static PyObject *node_get_n_outputs(NodeObject *n, void *c) { return PyLong_FromLong(n->n_outputs); }

static PyGetSetDef node_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {"next_functions", (getter)node_get_next, NULL, "((Node or None, input_nr), ...) for each input.", NULL},
    {"_ctx", (getter)node_get_ctx, NULL, NULL, NULL},
    {"variable", (getter)node_get_variable, NULL, "AccumulateGrad: the leaf it accumulates into.", NULL},
    {"_pre_hooks", (getter)node_get_pre_hooks, NULL, NULL, NULL},
    {"_tensor_pre_hooks", (getter)node_get_tensor_pre_hooks, NULL, "[(output_nr, hook)]: Tensor.register_hook on outputs.", NULL},
    {"_post_hooks", (getter)node_get_post_hooks, NULL, NULL, NULL},
    {"_retained", (getter)node_get_retained, NULL, NULL, NULL},
    {"_released", (getter)node_get_released, NULL, NULL, NULL},
    {"_n_outputs", (getter)node_get_n_outputs, NULL, NULL, NULL},
    {NULL}};

static PyMethodDef node_methods[] = {
    {"name", (PyCFunction)node_name, METH_NOARGS, "The node's class name, e.g. 'AddBackward0'."},
    {NULL}};

static PyMemberDef node_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(NodeObject, dict), READONLY},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(NodeObject, weakreflist), READONLY},
    {NULL}};

static PyObject *node_tp_new(PyTypeObject *tp, PyObject *args, PyObject *kwds)
{
    PyErr_Format(PyExc_TypeError, "cannot create '%.100s' instances", tp->tp_name);
    return NULL;
}

int node_type_init(PyObject *module, State *st)
{
    PyType_Slot slots[] = {
        {Py_tp_doc, "A recorded op in the autograd graph (torch.autograd.graph.Node)."},
        {Py_tp_new, node_tp_new},
        {Py_tp_dealloc, node_dealloc},
        {Py_tp_traverse, node_traverse},
        {Py_tp_clear, node_clear},
        {Py_tp_getset, node_getset},
        {Py_tp_methods, node_methods},
        {Py_tp_members, node_members},
        {0, NULL}};
    PyType_Spec spec = {
        .name = "mlx_compat._C.Node",
        .basicsize = sizeof(NodeObject),
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
        .slots = slots,
    };
    PyObject *tp = PyType_FromModuleAndSpec(module, &spec, NULL);
    if (tp == NULL)
        return -1;
    st->node_type = tp;
    if (PyModule_AddObjectRef(module, "Node", tp) < 0)
        return -1;
    st->node_classes = PyDict_New();
    st->backward_fns = PyDict_New();
    if (st->node_classes == NULL || st->backward_fns == NULL)
        return -1;
    return 0;
}

/* NEW: the C node type named `name` (Note [Node types and free list]): a heap type with Node as base whose
 * module is builtins, so instances read like torch's (<AddBackward0 object at ...>). */
static PyObject *node_type_new(State *st, PyObject *name)
{
    PyObject *full = NULL, *bases = NULL, *tp = NULL, *module;
    const char *utf8;
    if ((module = PyType_GetModule((PyTypeObject *)st->node_type)) == NULL)
        return NULL;
    if ((full = PyUnicode_FromFormat("builtins.%U", name)) == NULL || (utf8 = PyUnicode_AsUTF8(full)) == NULL ||
        (bases = PyTuple_Pack(1, st->node_type)) == NULL)
        goto error;
    PyType_Slot slots[] = {
        {Py_tp_dealloc, node_dealloc}, {Py_tp_traverse, node_traverse}, {Py_tp_clear, node_clear}, {0, NULL}};
    PyType_Spec spec = {
        .name = utf8, /* "builtins.X": __module__ 'builtins', __name__ and __qualname__ 'X' */
        .basicsize = sizeof(NodeObject),
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
        .slots = slots,
    };
    if ((tp = PyType_FromModuleAndSpec(module, &spec, bases)) == NULL)
        goto error;
    /* tp_name pointed into `full`, freed below: point it at the type's own __name__ (as type() does) */
    if ((utf8 = PyUnicode_AsUTF8(((PyHeapTypeObject *)tp)->ht_name)) == NULL)
        Py_CLEAR(tp);
    else
        ((PyTypeObject *)tp)->tp_name = utf8;
error:
    Py_XDECREF(full);
    Py_XDECREF(bases);
    return tp;
}

/* BORROWED: the node class named `name` (created once, so type(grad_fn).__name__ is torch's). */
PyObject *node_class(State *st, PyObject *name)
{
    PyObject *cls = PyDict_GetItemWithError(st->node_classes, name);
    if (cls != NULL || PyErr_Occurred())
        return cls;
    if ((cls = node_type_new(st, name)) == NULL)
        return NULL;
    int rc = PyDict_SetItem(st->node_classes, name, cls);
    Py_DECREF(cls);
    return rc < 0 ? NULL : cls;
}

/* NEW: a fresh node of class `cls`: from the free list for the C node types (Note [Node types and free
 * list]), else the class's tp_alloc (Python subclasses). */
static NodeObject *node_new(State *st, PyObject *cls)
{
    PyTypeObject *tp = (PyTypeObject *)cls;
    if (tp->tp_dealloc == (destructor)node_dealloc && st->n_free_nodes > 0) {
        NodeObject *n = st->free_nodes[--st->n_free_nodes];
        /* all but by_value (read only below n_by_value) and inline_edges (zeroed by node_edges_alloc when used) */
        memset(n, 0, offsetof(NodeObject, by_value));
        PyObject_Init((PyObject *)n, tp); /* the type reference and a fresh reference count, as tp_alloc */
        PyObject_GC_Track(n);
        return n;
    }
    return (NodeObject *)tp->tp_alloc(tp, 0);
}

/* ---------------------------------------------------------------- leaves */

/* Note [Leaf accumulator]
 * A leaf's AccumulateGrad is cached weakly (Note [Autograd ownership]): while some graph holds the node, every
 * op on the leaf reuses it; once the last graph goes, so does the node, and the next op makes a new one. The
 * weak reference is no weakref object (one made per node and cleared at its death, per recorded op on a leaf in
 * a loop that drops its graphs) but a BORROWED pointer in the leaf (`grad_accumulator`, with
 * `accumulator_borrowed` set) that the node itself resets when it is cleared (node_clear): the node holds the
 * leaf strongly (`variable`), so the leaf outlives the pointer, and only the node that the pointer names resets
 * it. A leaf cleared first (the cyclic GC's tp_clear) drops the pointer without a reference to release.
 * A snapshot of a leaf holds its node strongly instead (accumulator_borrowed unset). */

/* BORROWED: the AccumulateGrad that t already has (a leaf's live one, or the one a snapshot of a leaf holds),
 * or NULL (Note [Leaf accumulator]). */
static PyObject *cached_accumulator(TensorObject *t) { return t->grad_accumulator; }

/* NEW: the leaf's AccumulateGrad node: the live one if any graph still holds it, else a fresh one that
 * the leaf caches weakly (Note [Leaf accumulator]). */
PyObject *grad_accumulator(State *st, TensorObject *t)
{
    PyObject *have = cached_accumulator(t), *name = NULL, *cls;
    NodeObject *n = NULL;
    if (have != NULL)
        return Py_NewRef(have);
    if ((cls = st->accumulate_cls) == NULL) { /* borrowed from node_classes; dropped when that changes */
        name = PyUnicode_FromString("AccumulateGrad");
        if (name == NULL || (cls = node_class(st, name)) == NULL)
            goto error;
        st->accumulate_cls = cls;
    }
    n = node_new(st, cls);
    if (n == NULL)
        goto error;
    n->variable = Py_NewRef(t);
    n->n_outputs = 1;
    n->is_accumulate = 1; /* no edges */
    t->grad_accumulator = (PyObject *)n; /* borrowed: Note [Leaf accumulator] */
    t->accumulator_borrowed = 1;
    Py_XDECREF(name);
    return (PyObject *)n;
error:
    Py_XDECREF(name);
    Py_XDECREF(n);
    return NULL;
}

static int requires_grad(TensorObject *t) { return t->requires_grad || tensor_grad_fn(t) != NULL; }

/* Where a gradient for `o` goes: *fn a NEW reference to the node (NULL for non-tensors and tensors outside
 * the graph) and *nr its input_nr. 0 / -1. */
static int edge_target(State *st, PyObject *o, PyObject **fn, int *nr)
{
    *fn = NULL;
    *nr = 0;
    if (!is_tensor(st, o) || !requires_grad((TensorObject *)o))
        return 0;
    TensorObject *t = (TensorObject *)o;
    PyObject *g = tensor_grad_fn(t);
    if (g != NULL) {
        *fn = Py_NewRef(g);
        *nr = t->output_nr;
        return 0;
    }
    return (*fn = grad_accumulator(st, t)) == NULL ? -1 : 0;
}

/* Note [Lazy leaf edges]
 * A recorded op on a leaf that requires grad (`w * b`) has an edge to the leaf's AccumulateGrad. When no graph
 * holds that node any more (Note [Leaf accumulator]: a loop that builds and drops a graph per step), recording
 * made a new one and freeing the graph freed it: a second node made, tracked, cleared and freed per recorded op
 * on a leaf, though only a backward or a look at next_functions ever uses it. So the edge then holds the leaf
 * tensor itself (strong, as the node would: the graph keeps the leaf alive either way) with `leaf` set, and
 * node_edge_fn makes (or finds: the leaf's weak cache) the AccumulateGrad when the edge is first read: the engine
 * before counting dependencies, `next_functions`, and the snapshots of Note [Saved inputs by value]. The node a
 * lazy edge gets is the one an eager edge would have: grad_accumulator returns the live node while any graph or
 * snapshot holds it, so every edge to one leaf reaches one node, whichever way it was recorded. A leaf whose
 * AccumulateGrad is alive at record time gets the node itself, as before. */

/* The edge for input `o` of a node being recorded: as edge_target, but a leaf without a live AccumulateGrad gets
 * a lazy edge to itself (Note [Lazy leaf edges]). 0 (no error possible). */
static int edge_target_lazy(State *st, PyObject *o, struct NodeEdge *e)
{
    e->fn = NULL;
    e->input_nr = 0;
    e->leaf = 0;
    if (!is_tensor(st, o) || !requires_grad((TensorObject *)o))
        return 0;
    TensorObject *t = (TensorObject *)o;
    PyObject *g = tensor_grad_fn(t);
    if (g != NULL) {
        e->fn = Py_NewRef(g);
        e->input_nr = t->output_nr;
    } else if ((g = cached_accumulator(t)) != NULL)
        e->fn = Py_NewRef(g);
    else {
        e->fn = Py_NewRef(o);
        e->leaf = 1;
    }
    return 0;
}

PyObject *node_edge_fn(State *st, NodeObject *n, Py_ssize_t i)
{
    struct NodeEdge *e = &n->edges[i];
    if (e->leaf) {
        PyObject *acc = grad_accumulator(st, (TensorObject *)e->fn);
        if (acc == NULL)
            return NULL;
        Py_SETREF(e->fn, acc);
        e->leaf = 0;
    }
    return e->fn;
}

/* NEW: (node or None, input_nr) — where a gradient for tensor `o` goes. */
static PyObject *edge_for(State *st, PyObject *o)
{
    PyObject *fn;
    int nr;
    if (edge_target(st, o, &fn, &nr) < 0)
        return NULL;
    PyObject *e = edge_pair_of(fn, nr);
    Py_XDECREF(fn);
    return e;
}

/* NEW: a snapshot of tensor `o` (Note [Saved values are snapshots]); non-tensors are returned as is.
 * `owner` (BORROWED, may be NULL) is the node that saves it: an output of that very node refers to it
 * weakly (Note [Autograd ownership]). */
PyObject *saved_snapshot(State *st, PyObject *o, PyObject *owner)
{
    if (!is_tensor(st, o))
        return Py_NewRef(o);
    TensorObject *t = (TensorObject *)o;
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        return NULL;
    TensorObject *s = (TensorObject *)tensor_wrap_existing_steal(st, Py_NewRef(v), t->dtype, t->device);
    if (s == NULL)
        return NULL;
    s->ndim = t->ndim; /* the rank carries over; sizes are re-read from the array when needed */
    s->numel_bound = t->sizes != NULL ? tensor_numel_bound(t) + 1 : t->numel_bound; /* Note [Result size check] */
    s->lazy_depth = t->lazy_depth; /* the same value: Note [Bounded lazy graphs] */
    s->mem_last = t->mem_last; /* the same array, so the same memory order (Note [Channels-last hint], layout.c) */
    if (requires_grad(t)) {
        PyObject *fn = tensor_grad_fn(t);
        s->requires_grad = fn == NULL; /* else implied by grad_fn, so a dead weak one reads as no history */
        if (fn != NULL && fn == owner) {
            s->grad_fn = PyWeakref_NewRef(fn, NULL);
            s->weak_grad_fn = 1;
            s->output_nr = t->output_nr;
            if (s->grad_fn == NULL)
                goto error;
        } else if (fn != NULL) {
            s->grad_fn = Py_NewRef(fn);
            s->output_nr = t->output_nr;
        } else if ((s->grad_accumulator = grad_accumulator(st, t)) == NULL)
            goto error;
    }
    return (PyObject *)s;
error:
    Py_DECREF(s);
    return NULL;
}

/* Whether recording is needed: grad mode on and some input requires grad. */
int autograd_needed(State *st, PyObject *const *inputs, Py_ssize_t n)
{
    if (!GRAD_ENABLED(st))
        return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (is_tensor(st, inputs[i]) && requires_grad((TensorObject *)inputs[i]))
            return 1;
    return 0;
}

/* Record an op: a node of class `cls` with `backward(ctx, grads) -> grads per input` and `ctx`
 * (BORROWED; the node keeps a reference), edges to `inputs`, set as grad_fn of the floating/complex
 * `outputs`. Returns a NEW reference to the node, Py_None (new) when nothing was recorded, NULL on error. */
static PyObject *record_node(State *st, PyObject *cls, PyObject *backward, PyObject *ctx, PyObject *const *inputs,
                             Py_ssize_t n_in, PyObject *const *outputs, Py_ssize_t n_out, int saves);

PyObject *autograd_record(State *st, PyObject *cls, PyObject *backward, PyObject *ctx, PyObject *const *inputs,
                          Py_ssize_t n_in, PyObject *const *outputs, Py_ssize_t n_out, int saves)
{
    if (!autograd_needed(st, inputs, n_in))
        Py_RETURN_NONE;
    return record_node(st, cls, backward, ctx, inputs, n_in, outputs, n_out, saves);
}

/* Note [Anomaly tracebacks]
 * Under torch.autograd.detect_anomaly every node records the traceback of the forward call that made it
 * (node.metadata["traceback_"], torch's key), and a backward that fails its check warns with it ("Error detected
 * in XBackward. Traceback of forward call that caused the error: ..."), so the user sees which line of the
 * forward made the NaN. The recording is Python (traceback.format_stack) and costs tens of microseconds a node,
 * so it runs only while anomaly mode is on: autograd/anomaly_mode.py sets st->anomaly_hook then, and
 * record_node, where every op's node is made, calls it on the new node. Outside anomaly mode the cost is one
 * NULL test per recorded op. */
PyObject *mod_set_anomaly_hook(PyObject *m, PyObject *hook)
{
    State *st = state_of_module(m);
    Py_XSETREF(st->anomaly_hook, hook == Py_None ? NULL : Py_NewRef(hook));
    Py_RETURN_NONE;
}

/* NEW: autograd_record's node, once the caller knows that recording is needed. */
static PyObject *record_node(State *st, PyObject *cls, PyObject *backward, PyObject *ctx, PyObject *const *inputs,
                             Py_ssize_t n_in, PyObject *const *outputs, Py_ssize_t n_out, int saves)
{
    NodeObject *node = node_new(st, cls);
    if (node == NULL)
        return NULL;
    if (CORE_UNLIKELY(st->anomaly_hook != NULL)) { /* Note [Anomaly tracebacks] */
        PyObject *r = PyObject_CallOneArg(st->anomaly_hook, (PyObject *)node);
        if (r == NULL)
            goto error;
        Py_DECREF(r);
    }
    if (node_edges_alloc(node, n_in) < 0) /* Note [Node edges] */
        goto error;
    for (Py_ssize_t i = 0; i < n_in; i++)
        edge_target_lazy(st, inputs[i], &node->edges[i]); /* Note [Lazy leaf edges] */
    node->backward = Py_NewRef(backward);
    node->ctx = Py_XNewRef(ctx);
    node->n_outputs = (int)n_out;
    node->saves = (char)saves;
    for (Py_ssize_t i = 0; i < n_out; i++) {
        if (!is_tensor(st, outputs[i]))
            continue;
        TensorObject *o = (TensorObject *)outputs[i];
        if (!(dt_is_float(o->dtype) || dt_is_complex(o->dtype)))
            continue; /* integer and bool outputs are not differentiable */
        Py_XSETREF(o->grad_fn, Py_NewRef((PyObject *)node));
        o->weak_grad_fn = 0;
        o->output_nr = (int)i;
        o->requires_grad = 0; /* requires_grad is implied by grad_fn */
    }
    return (PyObject *)node;
error:
    Py_DECREF(node);
    return NULL;
}

/* Note [Backward entry cache]
 * A C op records by its registered name ("mul_tt"), a C string: looking it up in the `backward_fns` dict
 * would make and hash a str per recorded op. A small open-addressed table in the module state maps the
 * name's bytes to the dict's entry instead. The entries are BORROWED from the dict, which holds them until
 * `_register_backward` replaces one: that flushes the whole table (registration happens at import, so the
 * table is filled once). Names too long for a slot are looked up in the dict each time. The operators of
 * ops.c skip even the name: their entries sit in `binary_backward`, indexed by operator and operand kinds,
 * BORROWED the same way and flushed with the table. */
#define BACKWARD_CACHE_SLOTS 256
#define BACKWARD_NAME_MAX 40
struct BackwardCacheEntry {
    char name[BACKWARD_NAME_MAX];
    PyObject *entry;              /* BORROWED from st->backward_fns, or NULL for a free slot */
};

void backward_cache_flush(State *st)
{
    memset(st->binary_backward, 0, sizeof st->binary_backward);
    if (st->backward_cache != NULL)
        memset(st->backward_cache, 0, sizeof(struct BackwardCacheEntry) * BACKWARD_CACHE_SLOTS);
}

void backward_cache_free(State *st)
{
    PyMem_Free(st->backward_cache);
    st->backward_cache = NULL;
}

PyObject *autograd_backward_entry(State *st, const char *name)
{
    size_t len = strlen(name), h = 2166136261u, i = 0;
    struct BackwardCacheEntry *slot = NULL;
    if (len < BACKWARD_NAME_MAX) {
        if (st->backward_cache == NULL &&
            (st->backward_cache = PyMem_Calloc(BACKWARD_CACHE_SLOTS, sizeof(struct BackwardCacheEntry))) == NULL)
            return PyErr_NoMemory();
        for (size_t k = 0; k < len; k++)
            h = (h ^ (unsigned char)name[k]) * 16777619u;
        for (i = 0; i < BACKWARD_CACHE_SLOTS; i++) {
            slot = &st->backward_cache[(h + i) & (BACKWARD_CACHE_SLOTS - 1)];
            if (slot->entry == NULL)
                break;
            if (memcmp(slot->name, name, len + 1) == 0)
                return slot->entry;
        }
        if (i == BACKWARD_CACHE_SLOTS)
            slot = NULL; /* full: no caching */
    }
    PyObject *entry = PyDict_GetItemString(st->backward_fns, name);
    if (entry == NULL) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_RuntimeError, "mlx_compat: no derivative registered for '%s'", name);
        return NULL;
    }
    if (slot != NULL) {
        memcpy(slot->name, name, len + 1);
        slot->entry = entry;
    }
    return entry;
}

/* Note [Saved inputs by value]
 * Most recorded C ops save their own inputs (`w * b` saves w and b). A snapshot tensor per saved input
 * (Note [Saved values are snapshots]) is two Tensor objects made and freed per recorded op, though a backward
 * is rare next to the forwards that build graphs. A saved value that is one of the op's inputs needs nothing a
 * snapshot would carry beyond the input's mx.array at record time: its graph position is exactly the node's
 * edge for that input (grad_fn and output_nr, or the leaf's AccumulateGrad, which the edge holds). So
 * saved_input (autograd_record_named's saves, the registry's unary_record/binary_record in dispatch.c) puts
 * the bare mx.array in the ctx slot and notes in the node (`by_value`, at most
 * NODE_BY_VALUE_MAX) the slot, the input and the snapshot's metadata (dtype, device, rank, size bound, lazy
 * depth). node_saved_materialize makes the snapshots from that, in place in ctx, before anything reads ctx:
 * the engine before the node's backward, and the `_ctx` getter. The semantics are the snapshots' exactly (the
 * value is immutable, so in-place writes to the input later change nothing; no version check is needed);
 * saved outputs and saved non-inputs still get snapshots when recorded. */


/* Note [Deferred ctx]
 * A recorded op whose saved values are all its own tensor inputs (`w * b` saves w and b; a ctx of
 * (w, b, None)) and that has no extra needs nothing in its ctx tuple but the inputs' arrays (Note [Saved inputs
 * by value]) and a None. The tuple is then not made when recording: the node keeps the arrays in its by_value
 * entries (`value`, strong) and the tuple's length in `ctx_deferred`, and node_saved_materialize makes the
 * tuple, every slot None but the by-value ones, the first time anything reads ctx (the engine before the
 * node's backward, the `_ctx` getter), when it also makes the snapshots. A tuple made and freed per recorded
 * op was about a hundred instructions and ten instruction-cache lines (tupledealloc) of a recorded op. While
 * ctx_deferred is set, ctx is NULL; node_saved_release drops the arrays where it drops ctx (node_clear, the
 * engine's release after a backward without retain_graph). */

/* Makes a deferred ctx (Note [Deferred ctx]): the tuple with its by-value slots holding the bare arrays, as
 * autograd_record_entry would have made it. 0 / -1. */
static int node_ctx_undefer(NodeObject *n)
{
    PyObject *ctx = PyTuple_New(n->ctx_deferred);
    if (ctx == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < n->ctx_deferred; i++)
        PyTuple_SET_ITEM(ctx, i, Py_NewRef(Py_None));
    for (int k = 0; k < n->n_by_value; k++) {
        struct SavedByValue *sv = &n->by_value[k];
        PyObject *none = PyTuple_GET_ITEM(ctx, sv->slot);
        PyTuple_SET_ITEM(ctx, sv->slot, sv->value); /* the reference moves to the tuple */
        sv->value = NULL;
        Py_DECREF(none);
    }
    n->ctx_deferred = 0;
    Py_XSETREF(n->ctx, ctx);
    return 0;
}

void node_saved_release(NodeObject *n)
{
    if (n->ctx_deferred) {
        for (int k = 0; k < n->n_by_value; k++)
            Py_CLEAR(n->by_value[k].value);
        n->ctx_deferred = 0;
        n->n_by_value = 0;
    }
    Py_CLEAR(n->ctx);
}

int node_saved_materialize(State *st, NodeObject *n)
{
    if (n->ctx_deferred && node_ctx_undefer(n) < 0)
        return -1;
    if (n->n_by_value == 0 || n->ctx == NULL) {
        n->n_by_value = 0;
        return 0;
    }
    for (int k = 0; k < n->n_by_value; k++) {
        struct SavedByValue *sv = &n->by_value[k];
        PyObject *arr = PyTuple_GET_ITEM(n->ctx, sv->slot);
        TensorObject *s = (TensorObject *)tensor_wrap_existing_steal(st, Py_NewRef(arr), sv->dtype, sv->device);
        if (s == NULL)
            return -1;
        s->ndim = sv->ndim;
        s->numel_bound = sv->numel_bound;
        s->lazy_depth = sv->lazy_depth;
        s->mem_last = sv->mem_last;
        s->inference = 0; /* recorded with grad mode on, so outside inference mode */
        struct NodeEdge *edge = &n->edges[sv->input];
        PyObject *fn = node_edge_fn(st, n, sv->input); /* Note [Lazy leaf edges] */
        if (fn == NULL && PyErr_Occurred()) {
            Py_DECREF(s);
            return -1;
        }
        if (fn != NULL && ((NodeObject *)fn)->is_accumulate) {
            s->requires_grad = 1; /* a leaf's snapshot holds its AccumulateGrad (saved_snapshot) */
            s->grad_accumulator = Py_NewRef(fn);
        } else if (fn != NULL) {
            s->grad_fn = Py_NewRef(fn);
            s->output_nr = edge->input_nr;
        }
        /* the ctx tuple is the node's alone (never handed out while by-value slots remain) */
        PyTuple_SET_ITEM(n->ctx, sv->slot, (PyObject *)s);
        Py_DECREF(arr);
    }
    n->n_by_value = 0;
    return 0;
}

/* NEW: what a just-recorded `node` (its ctx not yet read) keeps in ctx slot `slot` for saved value `o`, which is
 * its input `input_nr` (-1: not an input): the input's value by value while the node has room (Note [Saved inputs
 * by value]), else a snapshot (non-tensors as they are). The caller puts it in that slot of the ctx it then sets. */
PyObject *saved_input(State *st, PyObject *node, Py_ssize_t slot, Py_ssize_t input_nr, PyObject *o)
{
    NodeObject *n = (NodeObject *)node;
    if (input_nr < 0 || input_nr >= n->n_edges || n->n_by_value >= NODE_BY_VALUE_MAX || !is_tensor(st, o))
        return saved_snapshot(st, o, node);
    TensorObject *t = (TensorObject *)o;
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        return NULL;
    n->by_value[n->n_by_value++] = (struct SavedByValue){
        .slot = (int)slot, .input = (int)input_nr, .ndim = t->ndim, .lazy_depth = t->lazy_depth,
        .numel_bound = t->sizes != NULL ? tensor_numel_bound(t) + 1 : t->numel_bound, /* as saved_snapshot */
        .dtype = t->dtype, .device = t->device, .mem_last = t->mem_last};
    return Py_NewRef(v);
}

/* Record a C op by its registered name (Tensor._register_backward): ctx is a tuple of snapshots of `saved`
 * (those that are inputs saved by value, Note [Saved inputs by value]) and `extra`. 0 / -1. */
int autograd_record_named(State *st, const char *name, PyObject *const *inputs, Py_ssize_t n_in,
                          PyObject *const *saved, Py_ssize_t n_saved, PyObject *extra, PyObject *const *outputs,
                          Py_ssize_t n_out)
{
    if (!autograd_needed(st, inputs, n_in))
        return 0;
    PyObject *entry = autograd_backward_entry(st, name); /* borrowed (cls, fn, saves) */
    if (entry == NULL)
        return -1;
    return autograd_record_entry(st, entry, inputs, n_in, saved, n_saved, extra, outputs, n_out);
}

/* Note [Deferred ctx]: saves `saved` (all of them tensor inputs, at most NODE_BY_VALUE_MAX) in the just-recorded
 * node `n` by value without making its ctx. 1 when done, 0 when some saved value is no tensor input (nothing
 * changed: the caller makes the tuple), -1 on error. */
static int record_deferred(State *st, NodeObject *n, PyObject *const *inputs, Py_ssize_t n_in,
                           PyObject *const *saved, Py_ssize_t n_saved)
{
    int where[NODE_BY_VALUE_MAX];
    for (Py_ssize_t i = 0; i < n_saved; i++) {
        int j = 0;
        while (j < n_in && j < n->n_edges && inputs[j] != saved[i])
            j++;
        if (j == n_in || j == n->n_edges || !is_tensor(st, saved[i]))
            return 0;
        where[i] = j;
    }
    n->ctx_deferred = (int)n_saved + 1; /* before any value, so that node_saved_release finds them */
    for (Py_ssize_t i = 0; i < n_saved; i++) {
        TensorObject *t = (TensorObject *)saved[i];
        PyObject *v = tensor_value(st, t);
        if (v == NULL)
            return -1;
        n->by_value[n->n_by_value++] = (struct SavedByValue){
            .value = Py_NewRef(v), .slot = (int)i, .input = where[i], .ndim = t->ndim, .lazy_depth = t->lazy_depth,
            .numel_bound = t->sizes != NULL ? tensor_numel_bound(t) + 1 : t->numel_bound, /* as saved_snapshot */
            .dtype = t->dtype, .device = t->device, .mem_last = t->mem_last};
    }
    return 1;
}

int autograd_record_entry(State *st, PyObject *entry, PyObject *const *inputs, Py_ssize_t n_in,
                          PyObject *const *saved, Py_ssize_t n_saved, PyObject *extra, PyObject *const *outputs,
                          Py_ssize_t n_out)
{
    PyObject *node = record_node(st, PyTuple_GET_ITEM(entry, 0), PyTuple_GET_ITEM(entry, 1), NULL, inputs, n_in,
                                 outputs, n_out, PyTuple_GET_ITEM(entry, 2) == Py_True);
    if (node == NULL)
        return -1;
    if (n_saved > 0 && n_saved <= NODE_BY_VALUE_MAX && (extra == NULL || extra == Py_None)) {
        int rc = record_deferred(st, (NodeObject *)node, inputs, n_in, saved, n_saved);
        if (rc != 0) {
            Py_DECREF(node);
            return rc < 0 ? -1 : 0;
        }
    }
    PyObject *ctx = PyTuple_New(n_saved + 1);
    if (ctx == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < n_saved; i++) {
        Py_ssize_t j = 0;
        while (j < n_in && inputs[j] != saved[i])
            j++;
        /* a saved value that is no input (an output of this node, say) gets a snapshot (weak to this node) */
        PyObject *s = saved_input(st, node, i, j < n_in ? j : -1, saved[i]);
        if (s == NULL)
            goto error;
        PyTuple_SET_ITEM(ctx, i, s);
    }
    PyTuple_SET_ITEM(ctx, n_saved, Py_NewRef(extra ? extra : Py_None));
    Py_XSETREF(((NodeObject *)node)->ctx, ctx);
    Py_DECREF(node);
    return 0;
error:
    Py_XDECREF(ctx);
    Py_DECREF(node);
    return -1;
}

/* ---------------------------------------------------------------- module-level functions */

/* _record(node_name, backward, ctx, inputs, outputs) -> node or None */
PyObject *mod_record(PyObject *m, PyObject *args)
{
    State *st = state_of_module(m);
    PyObject *name, *backward, *ctx, *inputs, *outputs;
    int saves = 1;
    if (!PyArg_ParseTuple(args, "UOOOO|p", &name, &backward, &ctx, &inputs, &outputs, &saves))
        return NULL;
    PyObject *cls = node_class(st, name);
    if (cls == NULL)
        return NULL;
    PyObject *in = PySequence_Fast(inputs, "inputs must be a sequence");
    if (in == NULL)
        return NULL;
    PyObject *out = PySequence_Fast(outputs, "outputs must be a sequence");
    if (out == NULL) {
        Py_DECREF(in);
        return NULL;
    }
    PyObject *r = autograd_record(st, cls, backward, ctx, PySequence_Fast_ITEMS(in), PySequence_Fast_GET_SIZE(in),
                                  PySequence_Fast_ITEMS(out), PySequence_Fast_GET_SIZE(out), saves);
    Py_DECREF(in);
    Py_DECREF(out);
    return r;
}

/* _register_backward(name, node_name, backward, saves=True): the derivative of a C op, called as
 * backward(ctx, grads); saves=False for ops whose backward needs no saved values. */
PyObject *mod_register_backward(PyObject *m, PyObject *args)
{
    State *st = state_of_module(m);
    PyObject *name, *fn, *node_name;
    int saves = 1;
    if (!PyArg_ParseTuple(args, "UUO|p", &name, &node_name, &fn, &saves))
        return NULL;
    PyObject *cls = node_class(st, node_name);
    if (cls == NULL)
        return NULL;
    PyObject *entry = Py_BuildValue("(OOO)", cls, fn, saves ? Py_True : Py_False);
    if (entry == NULL)
        return NULL;
    backward_cache_flush(st); /* Note [Backward entry cache] */
    int rc = PyDict_SetItem(st->backward_fns, name, entry);
    Py_DECREF(entry);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* _register_node_class(name, cls): use `cls` (a Node subclass) for nodes named `name`. */
PyObject *mod_register_node_class(PyObject *m, PyObject *args)
{
    State *st = state_of_module(m);
    PyObject *name, *cls;
    if (!PyArg_ParseTuple(args, "UO", &name, &cls))
        return NULL;
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, (PyTypeObject *)st->node_type)) {
        PyErr_SetString(PyExc_TypeError, "_register_node_class: cls must subclass Node");
        return NULL;
    }
    st->accumulate_cls = NULL; /* borrowed from node_classes (grad_accumulator) */
    if (PyDict_SetItem(st->node_classes, name, cls) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* _snapshot(tensor, node=None) -> a saved-value snapshot (Note [Saved values are snapshots]); `node` is
 * the node saving it, which an output of that node refers to weakly (Note [Autograd ownership]). */
PyObject *mod_snapshot(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "_snapshot(tensor, node=None)");
        return NULL;
    }
    PyObject *owner = nargs == 2 && args[1] != Py_None ? args[1] : NULL;
    return saved_snapshot(state_of_module(m), args[0], owner);
}

/* _grad_accumulator(leaf) -> its AccumulateGrad node */
PyObject *mod_grad_accumulator(PyObject *m, PyObject *o)
{
    State *st = state_of_module(m);
    if (!is_tensor(st, o)) {
        PyErr_SetString(PyExc_TypeError, "expected a Tensor");
        return NULL;
    }
    return grad_accumulator(st, (TensorObject *)o);
}

/* _edge(tensor) -> (node or None, input_nr) */
PyObject *mod_edge(PyObject *m, PyObject *o) { return edge_for(state_of_module(m), o); }

/* _set_history(tensor, node, output_nr): make `tensor` an output of `node` (or detach it for None). */
PyObject *mod_set_history(PyObject *m, PyObject *args)
{
    State *st = state_of_module(m);
    PyObject *t, *node;
    int nr;
    if (!PyArg_ParseTuple(args, "OOi", &t, &node, &nr))
        return NULL;
    if (!is_tensor(st, t)) {
        PyErr_SetString(PyExc_TypeError, "expected a Tensor");
        return NULL;
    }
    TensorObject *x = (TensorObject *)t;
    x->weak_grad_fn = 0;
    if (node == Py_None) {
        Py_CLEAR(x->grad_fn);
        x->output_nr = 0;
    } else {
        Py_XSETREF(x->grad_fn, Py_NewRef(node));
        x->output_nr = nr;
        x->requires_grad = 0;
    }
    Py_RETURN_NONE;
}

/* Note [In-place history]
 * An in-place op computes its result out of place (recording a node as usual), writes the value into
 * the target, then rebases the target's history: a tensor that owns its storage simply takes the
 * result's place in the graph (torch's "rebase_history"); a view instead gives its base a CopySlices
 * node (the base's old history with the view's region replaced by the result) and becomes a strided
 * view of the new base. `base_snapshot` is the base before the write (its old graph position). */
int autograd_commit(State *st, TensorObject *t, PyObject *src, PyObject *base_snapshot)
{
    int src_rg = is_tensor(st, src) && requires_grad((TensorObject *)src);
    TensorObject *owner = t->base ? t->base : t;
    if (!GRAD_ENABLED(st) || (!src_rg && !requires_grad(owner) && !requires_grad(t)) || t->detached)
        return 0;
    if (t->base == NULL) {
        TensorObject *s = (TensorObject *)src;
        if (!src_rg) {
            /* overwritten by a constant: the tensor stays in the graph, with a zero derivative (torch's
             * FillBackward/ZeroBackward) */
            PyObject *ins[1] = {(PyObject *)t}, *outs[1] = {(PyObject *)t};
            return autograd_record_named(st, "fill_constant", ins, 1, NULL, 0, NULL, outs, 1);
        }
        PyObject *fn = src_rg ? tensor_grad_fn(s) : NULL;
        t->weak_grad_fn = 0;
        if (src_rg && fn == NULL) { /* the result is a leaf requiring grad (copy_ of a leaf): route through */
            Py_XSETREF(t->grad_fn, NULL);
            return 0;
        }
        Py_XINCREF(fn);
        Py_XSETREF(t->grad_fn, fn);
        t->output_nr = src_rg ? s->output_nr : 0;
        return 0;
    }
    if (st->py_view_commit == NULL)
        return 0;
    PyObject *r = PyObject_CallFunctionObjArgs(st->py_view_commit, (PyObject *)t, src,
                                               base_snapshot ? base_snapshot : Py_None, NULL);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}
