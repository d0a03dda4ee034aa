/* engine.c — runs a backward pass over the tape recorded by autograd.c.
 *
 * Note [Backward by dependency counts]
 * The engine first walks the graph from the roots (iteratively, with an explicit stack) and counts,
 * for every node, how many edges lead into it. It then runs nodes from a ready stack: a node is ready
 * once every edge into it has delivered its gradient (count reaches zero), so each node runs once,
 * with the sum of its incoming gradients, and no recursion is involved (a 100,000-node chain is fine).
 * Gradients for a node's outputs are summed in a per-node buffer. AccumulateGrad nodes add into their
 * leaf's .grad; with `inputs`, gradients arriving at the inputs' edges are captured instead.
 * Grad mode during the pass is `create_graph`, so backward formulas (written with the package's own
 * ops) record a differentiable graph exactly when higher-order gradients are wanted.
 *
 * Note [Hook order]
 * As in torch 2, once a node's incoming gradients are summed: (1) the hooks registered on its output
 * tensors (Tensor.register_hook; a leaf's own hooks for AccumulateGrad) run in registration order, each
 * seeing the previous one's result; (2) retain_grad() stores the result, whatever the order in which
 * retain_grad and the hooks were registered; (3) autograd.grad captures it; (4) the node's own
 * pre-hooks (Node.register_prehook), its backward and its post-hooks run.
 */
#include "core.h"
#include <string.h>

static const char *SECOND_BACKWARD =
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
    "if you need to access saved tensors after calling backward.";

/* Add g (BORROWED) into slot *acc (a NEW ref or NULL). 0 / -1. */
static int accumulate_into(PyObject **acc, PyObject *g)
{
    if (g == Py_None)
        return 0;
    if (*acc == NULL || *acc == Py_None) {
        Py_XSETREF(*acc, Py_NewRef(g));
        return 0;
    }
    PyObject *sum = PyNumber_Add(*acc, g);
    if (sum == NULL)
        return -1;
    Py_SETREF(*acc, sum);
    return 0;
}

/* NEW: the buffer list of `node` in `buffers` (created with n_outputs Nones). */
static PyObject *buffer_for(PyObject *buffers, NodeObject *node)
{
    PyObject *buf = PyDict_GetItemWithError(buffers, (PyObject *)node);
    if (buf != NULL)
        return Py_NewRef(buf);
    if (PyErr_Occurred())
        return NULL;
    int n = node->n_outputs > 0 ? node->n_outputs : 1;
    buf = PyList_New(n);
    if (buf == NULL)
        return NULL;
    for (int i = 0; i < n; i++)
        PyList_SET_ITEM(buf, i, Py_NewRef(Py_None));
    if (PyDict_SetItem(buffers, (PyObject *)node, buf) < 0) {
        Py_DECREF(buf);
        return NULL;
    }
    return buf;
}

static int buffer_add(PyObject *buffers, NodeObject *node, int nr, PyObject *g)
{
    PyObject *buf = buffer_for(buffers, node);
    if (buf == NULL)
        return -1;
    if (nr < 0 || nr >= PyList_GET_SIZE(buf)) {
        Py_DECREF(buf);
        PyErr_SetString(PyExc_RuntimeError, "autograd: edge to a missing output");
        return -1;
    }
    PyObject *slot = Py_NewRef(PyList_GET_ITEM(buf, nr));
    int rc = accumulate_into(&slot, g);
    if (rc == 0)
        PyList_SetItem(buf, nr, slot); /* steals */
    else
        Py_DECREF(slot);
    Py_DECREF(buf);
    return rc;
}

/* Count incoming edges of every node reachable from `roots` (a list of nodes). 0 / -1. */
static int count_dependencies(State *st, PyObject *roots, PyObject *deps)
{
    PyObject *stack = PySequence_List(roots), *seen = PySet_New(NULL);
    int rc = -1;
    if (stack == NULL || seen == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(stack); i++)
        if (PySet_Add(seen, PyList_GET_ITEM(stack, i)) < 0)
            goto error;
    while (PyList_GET_SIZE(stack) > 0) {
        Py_ssize_t last = PyList_GET_SIZE(stack) - 1;
        NodeObject *node = (NodeObject *)Py_NewRef(PyList_GET_ITEM(stack, last));
        if (PyList_SetSlice(stack, last, last + 1, NULL) < 0) {
            Py_DECREF(node);
            goto error;
        }
        for (Py_ssize_t i = 0; i < node->n_edges; i++) { /* Note [Node edges] (autograd.c) */
            PyObject *child = node_edge_fn(st, node, i); /* Note [Lazy leaf edges] (autograd.c) */
            if (child == NULL && PyErr_Occurred()) {
                Py_DECREF(node);
                goto error;
            }
            if (child == NULL)
                continue;
            PyObject *cnt = PyDict_GetItemWithError(deps, child);
            long c = cnt ? PyLong_AsLong(cnt) : 0;
            if (cnt == NULL && PyErr_Occurred()) {
                Py_DECREF(node);
                goto error;
            }
            PyObject *nc = PyLong_FromLong(c + 1);
            if (nc == NULL || PyDict_SetItem(deps, child, nc) < 0) {
                Py_XDECREF(nc);
                Py_DECREF(node);
                goto error;
            }
            Py_DECREF(nc);
            int has = PySet_Contains(seen, child);
            if (has < 0 || (!has && (PySet_Add(seen, child) < 0 || PyList_Append(stack, child) < 0))) {
                Py_DECREF(node);
                goto error;
            }
        }
        Py_DECREF(node);
    }
    rc = 0;
error:
    Py_XDECREF(stack);
    Py_XDECREF(seen);
    return rc;
}

/* Check what a tensor hook returned against the gradient it was given (both BORROWED), as torch's
 * check_single_result: a non-tensor is a TypeError, another dtype, device or size a RuntimeError naming
 * the hook (a later gradient of the wrong shape would otherwise be summed or broadcast silently). 0 / -1. */
static int check_hook_result(State *st, PyObject *hook, PyObject *old, PyObject *r)
{
    if (!is_tensor(st, r)) {
        PyErr_Format(PyExc_TypeError, "expected Variable, but hook returned '%.100s'", Py_TYPE(r)->tp_name);
        return -1;
    }
    if (!is_tensor(st, old))
        return 0;
    TensorObject *a = (TensorObject *)old, *b = (TensorObject *)r;
    int bad_type = a->dtype != b->dtype || a->device != b->device, bad_size = 0;
    if (!bad_type) {
        if (tensor_ensure_sizes(st, a) < 0 || tensor_ensure_sizes(st, b) < 0)
            return -1;
        bad_size = a->ndim != b->ndim || (a->ndim && memcmp(a->sizes, b->sizes, sizeof(Py_ssize_t) * a->ndim) != 0);
    }
    if (!bad_type && !bad_size)
        return 0;
    PyObject *name = PyObject_GetAttrString(hook, "__name__");
    if (name == NULL) {
        PyErr_Clear();
        name = PyUnicode_FromString(Py_TYPE(hook)->tp_name);
        if (name == NULL)
            return -1;
    }
    if (bad_type)
        PyErr_Format(PyExc_RuntimeError, "hook '%S' has changed the type of value (was torch.%s%sTensor got torch.%s%sTensor)",
                     name, a->device == DEV_CPU ? "" : "cuda.", dtype_name(a->dtype), b->device == DEV_CPU ? "" : "cuda.",
                     dtype_name(b->dtype));
    else
        PyErr_Format(PyExc_RuntimeError, "hook '%S' has changed the size of value", name);
    Py_DECREF(name);
    return -1;
}

/* Apply a tensor's hooks (a list, or a dict of them as torch's `_backward_hooks` idiom builds) to `value`
 * (NEW ref in/out): each hook(value) may return a replacement. A hook may add or remove hooks while it
 * runs, so a snapshot is iterated (each hook is owned while it is called). */
static PyObject *apply_hooks(State *st, PyObject *hooks, PyObject *value)
{
    if (hooks == NULL)
        return value;
    PyObject *snap = PyDict_Check(hooks) ? PyDict_Values(hooks) : PySequence_List(hooks);
    if (snap == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(snap); i++) {
        PyObject *r = PyObject_CallOneArg(PyList_GET_ITEM(snap, i), value);
        if (r == NULL)
            goto error;
        if (r == Py_None) {
            Py_DECREF(r);
            continue;
        }
        if (check_hook_result(st, PyList_GET_ITEM(snap, i), value, r) < 0) {
            Py_DECREF(r);
            goto error;
        }
        Py_SETREF(value, r);
    }
    Py_DECREF(snap);
    return value;
error:
    Py_XDECREF(snap);
    Py_DECREF(value);
    return NULL;
}

/* Run the tensor hooks of `node`'s outputs on its summed gradients in `buf` (a list, modified in place):
 * Note [Hook order]. 0 / -1. */
static int apply_tensor_hooks(State *st, NodeObject *node, PyObject *buf)
{
    if (node->is_accumulate) {
        TensorObject *leaf = (TensorObject *)node->variable;
        if (leaf == NULL || leaf->hooks == NULL || PyList_GET_ITEM(buf, 0) == Py_None)
            return 0;
        PyObject *g = apply_hooks(st, leaf->hooks, Py_NewRef(PyList_GET_ITEM(buf, 0)));
        if (g == NULL)
            return -1;
        return PyList_SetItem(buf, 0, g); /* steals */
    }
    PyObject *hooks = node->tensor_pre_hooks;
    if (hooks == NULL || PyList_GET_SIZE(hooks) == 0)
        return 0;
    hooks = PySequence_List(hooks); /* a hook may remove itself or others while we iterate */
    if (hooks == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(hooks); i++) {
        PyObject *pair = PyList_GET_ITEM(hooks, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2)
            continue;
        Py_ssize_t nr = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 0));
        if (nr == -1 && PyErr_Occurred())
            goto error;
        if (nr < 0 || nr >= PyList_GET_SIZE(buf) || PyList_GET_ITEM(buf, nr) == Py_None)
            continue;
        PyObject *r = PyObject_CallOneArg(PyTuple_GET_ITEM(pair, 1), PyList_GET_ITEM(buf, nr));
        if (r == NULL)
            goto error;
        if (r == Py_None) {
            Py_DECREF(r);
            continue;
        }
        if (check_hook_result(st, PyTuple_GET_ITEM(pair, 1), PyList_GET_ITEM(buf, nr), r) < 0) {
            Py_DECREF(r);
            goto error;
        }
        if (PyList_SetItem(buf, nr, r) < 0) /* steals */
            goto error;
    }
    Py_DECREF(hooks);
    return 0;
error:
    Py_DECREF(hooks);
    return -1;
}

/* Add gradient g (BORROWED; the leaf's hooks already ran: Note [Hook order]) into the leaf's .grad.
 * Without create_graph the stored grad is a fresh tensor over g's (immutable) value, detached, so later
 * in-place accumulation never aliases; it keeps g's channels-last hint, the memory order of that same value
 * (Note [Channels-last hint] in layout.c), which an optimizer's update reads (Note [Parameters in their
 * gradients' memory order] in optim/optimizer.py). */
static int accumulate_leaf(State *st, NodeObject *acc, PyObject *g, int create_graph)
{
    TensorObject *leaf = (TensorObject *)acc->variable;
    Py_INCREF(g);
    if (!create_graph) {
        TensorObject *gt = (TensorObject *)g;
        PyObject *v = tensor_value(st, gt);
        PyObject *fresh = v ? tensor_wrap(st, v, gt->dtype, gt->device) : NULL;
        if (fresh != NULL)
            ((TensorObject *)fresh)->mem_last = gt->base == NULL && gt->mem_last;
        Py_DECREF(g);
        if (fresh == NULL)
            return -1;
        g = fresh;
    }
    int rc = 0;
    if (leaf->grad == NULL) {
        leaf->grad = g;
        return 0;
    }
    PyObject *sum = create_graph ? PyNumber_Add(leaf->grad, g) : PyNumber_InPlaceAdd(leaf->grad, g);
    Py_DECREF(g);
    if (sum == NULL)
        return -1;
    Py_SETREF(leaf->grad, sum);
    return rc;
}

/* The leaf's post-accumulate-grad hooks (Tensor.register_post_accumulate_grad_hook keeps them, in order, in the
 * tensor's __dict__ under "_post_accumulate_grad_hooks"), each called as hook(leaf) once its .grad holds this
 * backward's gradient. A tensor without an instance dict has none: nothing is looked up. 0 / -1. */
static int post_accumulate_hooks(State *st, TensorObject *leaf)
{
    if (leaf->dict == NULL)
        return 0;
    PyObject *hooks = PyDict_GetItemString(leaf->dict, "_post_accumulate_grad_hooks"); /* borrowed */
    if (hooks == NULL || !PyDict_Check(hooks) || PyDict_GET_SIZE(hooks) == 0)
        return 0;
    PyObject *fns = PyDict_Values(hooks); /* a hook may remove itself */
    if (fns == NULL)
        return -1;
    int rc = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(fns) && rc == 0; i++) {
        PyObject *r = PyObject_CallOneArg(PyList_GET_ITEM(fns, i), (PyObject *)leaf);
        if (r == NULL)
            rc = -1;
        else if (r != Py_None) { /* torch's words for a non-tensor; a tensor: ours (torch checks its size) */
            if (is_tensor(st, r))
                PyErr_SetString(PyExc_RuntimeError, "post accumulate grad hooks cannot return a value");
            else
                PyErr_Format(PyExc_TypeError, "expected Variable, but hook returned '%.100s'", Py_TYPE(r)->tp_name);
            rc = -1;
        }
        Py_XDECREF(r);
    }
    Py_DECREF(fns);
    return rc;
}

/* Retained gradients of non-leaf outputs (retain_grad). */
static int store_retained(State *st, NodeObject *node, PyObject *buf, int create_graph)
{
    for (Py_ssize_t i = 0; node->retained && i < PyList_GET_SIZE(node->retained); i++) {
        PyObject *pair = PyList_GET_ITEM(node->retained, i);
        long nr = PyLong_AsLong(PyTuple_GET_ITEM(pair, 0));
        PyObject *t = PyWeakref_GetObject(PyTuple_GET_ITEM(pair, 1));
        if (t == NULL)
            return -1;
        if (t == Py_None || nr < 0 || nr >= PyList_GET_SIZE(buf) || PyList_GET_ITEM(buf, nr) == Py_None)
            continue;
        PyObject *g = PyList_GET_ITEM(buf, nr);
        TensorObject *tt = (TensorObject *)t;
        PyObject *val = g;
        PyObject *fresh = NULL;
        if (!create_graph) {
            PyObject *v = tensor_value(st, (TensorObject *)g);
            fresh = v ? tensor_wrap(st, v, ((TensorObject *)g)->dtype, ((TensorObject *)g)->device) : NULL;
            if (fresh == NULL)
                return -1;
            val = fresh;
        }
        PyObject *slot = tt->grad ? Py_NewRef(tt->grad) : NULL;
        int rc = accumulate_into(&slot, val);
        Py_XDECREF(fresh);
        if (rc < 0) {
            Py_XDECREF(slot);
            return -1;
        }
        Py_XSETREF(tt->grad, slot);
    }
    return 0;
}

/* Run one node: hooks, its backward, release, and delivery to its children. 0 / -1. */
static int run_node(State *st, NodeObject *node, PyObject *buf, PyObject *buffers, PyObject *deps, PyObject *ready,
                    int retain_graph, int create_graph, PyObject *anomaly)
{
    PyObject *grads = PyList_AsTuple(buf), *grad_inputs = NULL;
    int rc = -1;
    if (grads == NULL)
        return -1;
    for (Py_ssize_t i = 0; node->pre_hooks && i < PyList_GET_SIZE(node->pre_hooks); i++) {
        PyObject *r = PyObject_CallOneArg(PyList_GET_ITEM(node->pre_hooks, i), grads);
        if (r == NULL)
            goto error;
        if (r == Py_None) {
            Py_DECREF(r);
            continue;
        }
        PyObject *t = PySequence_Tuple(r);
        Py_DECREF(r);
        if (t == NULL)
            goto error;
        Py_SETREF(grads, t);
    }
    Py_ssize_t n_in = node->n_edges;
    int any = 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(grads); i++)
        any |= PyTuple_GET_ITEM(grads, i) != Py_None;
    if (!any) {
        grad_inputs = PyTuple_New(n_in);
        if (grad_inputs == NULL)
            goto error;
        for (Py_ssize_t i = 0; i < n_in; i++)
            PyTuple_SET_ITEM(grad_inputs, i, Py_NewRef(Py_None));
    } else {
        if (node->released) {
            PyErr_SetString(PyExc_RuntimeError, SECOND_BACKWARD);
            goto error;
        }
        if (node->n_by_value && node_saved_materialize(st, node) < 0) /* Note [Saved inputs by value] (autograd.c) */
            goto error;
        PyObject *r = PyObject_CallFunctionObjArgs(node->backward, node->ctx ? node->ctx : Py_None, grads, NULL);
        if (r == NULL)
            goto error;
        grad_inputs = PySequence_Tuple(r);
        Py_DECREF(r);
        if (grad_inputs == NULL)
            goto error;
        if (PyTuple_GET_SIZE(grad_inputs) != n_in) {
            PyErr_Format(PyExc_RuntimeError, "function %s returned an incorrect number of gradients (expected %zd, got %zd)",
                         Py_TYPE(node)->tp_name, n_in, PyTuple_GET_SIZE(grad_inputs));
            goto error;
        }
        for (Py_ssize_t i = 0; node->hooks && i < PyList_GET_SIZE(node->hooks); i++) {
            PyObject *h = PyObject_CallFunctionObjArgs(PyList_GET_ITEM(node->hooks, i), grad_inputs, grads, NULL);
            if (h == NULL)
                goto error;
            if (h != Py_None) {
                PyObject *t = PySequence_Tuple(h);
                Py_DECREF(h);
                if (t == NULL)
                    goto error;
                Py_SETREF(grad_inputs, t);
            } else
                Py_DECREF(h);
        }
        if (anomaly != Py_None) { /* anomaly mode: anomaly(node, grad_inputs) raises on NaN gradients */
            PyObject *r = PyObject_CallFunctionObjArgs(anomaly, (PyObject *)node, grad_inputs, NULL);
            if (r == NULL)
                goto error;
            Py_DECREF(r);
        }
    }
    if (!retain_graph && node->backward != NULL && node->saves) {
        node_saved_release(node); /* ctx, or the arrays of a deferred one (Note [Deferred ctx] in autograd.c) */
        node->released = 1;
    }
    for (Py_ssize_t i = 0; i < n_in && i < node->n_edges; i++) { /* Note [Node edges] (autograd.c) */
        PyObject *child = node_edge_fn(st, node, i); /* made by count_dependencies (Note [Lazy leaf edges]) */
        if (child == NULL && PyErr_Occurred())
            goto error;
        if (child == NULL)
            continue;
        PyObject *g = PyTuple_GET_ITEM(grad_inputs, i);
        if (g != Py_None && buffer_add(buffers, (NodeObject *)child, node->edges[i].input_nr, g) < 0)
            goto error;
        PyObject *cnt = PyDict_GetItemWithError(deps, child);
        if (cnt == NULL)
            goto error;
        long c = PyLong_AsLong(cnt) - 1;
        PyObject *nc = PyLong_FromLong(c);
        if (nc == NULL || PyDict_SetItem(deps, child, nc) < 0) {
            Py_XDECREF(nc);
            goto error;
        }
        Py_DECREF(nc);
        if (c == 0 && PyList_Append(ready, child) < 0)
            goto error;
    }
    rc = 0;
error:
    Py_XDECREF(grads);
    Py_XDECREF(grad_inputs);
    return rc;
}

/* _run_backward(root_edges, root_grads, retain_graph, create_graph, capture_edges, accumulate, anomaly=None)
 *   root_edges: tuple of (node, output_nr); root_grads: tuple of tensors;
 *   capture_edges: tuple of (node or None, nr) to capture (autograd.grad), or None;
 *   accumulate: whether AccumulateGrad nodes write leaves' .grad;
 *   anomaly: None, or anomaly(node, grad_inputs) called after each node's backward (detect_anomaly's check).
 * Returns a tuple of captured gradients (None where nothing arrived), or None when capture_edges is None. */
PyObject *mod_run_backward(PyObject *m, PyObject *args)
{
    State *st = state_of_module(m);
    PyObject *roots, *root_grads, *capture, *anomaly = Py_None;
    int retain_graph, create_graph, accumulate;
    if (!PyArg_ParseTuple(args, "O!O!ppOp|O", &PyTuple_Type, &roots, &PyTuple_Type, &root_grads, &retain_graph,
                          &create_graph, &capture, &accumulate, &anomaly))
        return NULL;
    PyObject *deps = PyDict_New(), *buffers = PyDict_New(), *ready = PyList_New(0), *root_nodes = PyList_New(0);
    PyObject *results = NULL, *capture_map = NULL, *out = NULL;
    int saved_mode = !grad_mode_disabled;
    if (!deps || !buffers || !ready || !root_nodes)
        goto error;
    Py_ssize_t n_roots = PyTuple_GET_SIZE(roots);
    for (Py_ssize_t i = 0; i < n_roots; i++) {
        PyObject *edge = PyTuple_GET_ITEM(roots, i);
        NodeObject *node = (NodeObject *)PyTuple_GET_ITEM(edge, 0);
        if (buffer_add(buffers, node, (int)PyLong_AsLong(PyTuple_GET_ITEM(edge, 1)), PyTuple_GET_ITEM(root_grads, i)) < 0)
            goto error;
        if (PySequence_Contains(root_nodes, (PyObject *)node) == 0 && PyList_Append(root_nodes, (PyObject *)node) < 0)
            goto error;
    }
    if (count_dependencies(st, root_nodes, deps) < 0)
        goto error;
    if (capture != Py_None) {
        Py_ssize_t nc = PyTuple_GET_SIZE(capture);
        results = PyList_New(nc);
        capture_map = PyDict_New();
        if (results == NULL || capture_map == NULL)
            goto error;
        for (Py_ssize_t i = 0; i < nc; i++) {
            PyList_SET_ITEM(results, i, Py_NewRef(Py_None));
            PyObject *edge = PyTuple_GET_ITEM(capture, i);
            if (PyTuple_GET_ITEM(edge, 0) == Py_None)
                continue;
            PyObject *lst = PyDict_GetItemWithError(capture_map, edge);
            if (lst == NULL) {
                if (PyErr_Occurred() || (lst = PyList_New(0)) == NULL)
                    goto error;
                int r = PyDict_SetItem(capture_map, edge, lst);
                Py_DECREF(lst);
                if (r < 0)
                    goto error;
            }
            PyObject *idx = PyLong_FromSsize_t(i);
            if (idx == NULL || PyList_Append(lst, idx) < 0) {
                Py_XDECREF(idx);
                goto error;
            }
            Py_DECREF(idx);
        }
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(root_nodes); i++) {
        PyObject *n = PyList_GET_ITEM(root_nodes, i);
        PyObject *cnt = PyDict_GetItemWithError(deps, n);
        if (cnt == NULL && PyErr_Occurred())
            goto error;
        if ((cnt == NULL || PyLong_AsLong(cnt) == 0) && PyList_Append(ready, n) < 0)
            goto error;
    }
    grad_mode_disabled = !create_graph;
    while (PyList_GET_SIZE(ready) > 0) {
        Py_ssize_t last = PyList_GET_SIZE(ready) - 1;
        NodeObject *node = (NodeObject *)Py_NewRef(PyList_GET_ITEM(ready, last));
        PyObject *buf = NULL;
        int rc = -1;
        if (PyList_SetSlice(ready, last, last + 1, NULL) < 0)
            goto node_done;
        buf = buffer_for(buffers, node);
        if (buf == NULL || PyDict_DelItem(buffers, (PyObject *)node) < 0)
            goto node_done;
        /* a leaf's hooks run when its gradient is used: accumulated, or captured (torch does not run an
         * AccumulateGrad that autograd.grad / backward(inputs=) does not need) */
        int leaf_used = 1;
        if (node->is_accumulate && !accumulate) {
            PyObject *key = Py_BuildValue("(Oi)", node, 0);
            leaf_used = key && capture_map ? PyDict_Contains(capture_map, key) : 0;
            Py_XDECREF(key);
            if (key == NULL || leaf_used < 0)
                goto node_done;
        }
        if ((leaf_used && apply_tensor_hooks(st, node, buf) < 0) || store_retained(st, node, buf, create_graph) < 0)
            goto node_done;
        if (capture_map != NULL) {
            for (Py_ssize_t nr = 0; nr < PyList_GET_SIZE(buf); nr++) {
                PyObject *key = Py_BuildValue("(On)", node, nr);
                if (key == NULL)
                    goto node_done;
                PyObject *lst = PyDict_GetItemWithError(capture_map, key);
                Py_DECREF(key);
                if (lst == NULL && PyErr_Occurred())
                    goto node_done;
                for (Py_ssize_t k = 0; lst && k < PyList_GET_SIZE(lst); k++) {
                    Py_ssize_t idx = PyLong_AsSsize_t(PyList_GET_ITEM(lst, k));
                    PyList_SetItem(results, idx, Py_NewRef(PyList_GET_ITEM(buf, nr)));
                }
            }
        }
        if (node->is_accumulate) {
            PyObject *g = PyList_GET_ITEM(buf, 0);
            rc = (accumulate && g != Py_None) ? accumulate_leaf(st, node, g, create_graph) : 0;
            if (rc == 0 && accumulate && g != Py_None)
                rc = post_accumulate_hooks(st, (TensorObject *)node->variable);
            goto node_done;
        }
        rc = run_node(st, node, buf, buffers, deps, ready, retain_graph, create_graph, anomaly);
    node_done:
        Py_XDECREF(buf);
        Py_DECREF(node);
        if (rc < 0)
            goto error;
    }
    grad_mode_disabled = !saved_mode;
    out = results ? PyList_AsTuple(results) : Py_NewRef(Py_None);
error:
    grad_mode_disabled = !saved_mode;
    Py_XDECREF(deps);
    Py_XDECREF(buffers);
    Py_XDECREF(ready);
    Py_XDECREF(root_nodes);
    Py_XDECREF(results);
    Py_XDECREF(capture_map);
    return out;
}
