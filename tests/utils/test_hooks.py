"""mlx_compat.utils.hooks against torch.utils.hooks: one RemovableHandle class for module and optimizer hooks,
removal (also from extra dicts and as a context manager), pickling, and the helpers beside it."""
import pickle
from collections import OrderedDict

import torch
import torch.utils.hooks as th

import mlx_compat as mc
import mlx_compat.utils.hooks as mh


def test_handle_protocol_like_torch():
    for H in (mh.RemovableHandle, th.RemovableHandle):
        d, extra = OrderedDict(), OrderedDict()
        h = H(d, extra_dict=extra)
        d[h.id], extra[h.id] = "hook", "flag"
        h2 = H(d)
        assert h2.id == h.id + 1
        h.remove()
        assert h.id not in d and h.id not in extra
        h.remove()  # twice is harmless
        with H(d) as h3:
            d[h3.id] = 1
        assert h3.id not in d
        h4 = H(d)
        d[h4.id] = "x"
        state = pickle.loads(pickle.dumps((d, h4)))
        state[1].remove()
        assert h4.id not in state[0]


def test_modules_and_optimizers_share_it():
    for lib in (mc, torch):
        m = lib.nn.Linear(2, 2)
        h = m.register_forward_hook(lambda *a: None)
        opt = lib.optim.SGD(m.parameters(), lr=0.1)
        g = opt.register_step_post_hook(lambda *a: None)
        assert type(h) is type(g) is lib.utils.hooks.RemovableHandle
        h.remove(), g.remove()
        assert not m._forward_hooks and not opt._optimizer_step_post_hooks


def test_unserializable_hook():
    for H in (mh, th):
        f = H.unserializable_hook(lambda g: g)
        assert f.__torch_unserializable__ is True
