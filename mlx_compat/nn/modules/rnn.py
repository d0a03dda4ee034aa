"""torch.nn's recurrent layers: RNNBase with RNN (tanh or relu), LSTM (with proj_size) and GRU, and the single-step
cells RNNCell, LSTMCell and GRUCell.

The recurrences are built from the package's differentiable ops (linear/addmm, sigmoid, tanh, chunk, cat, stack),
so every gradient (inputs, h0/c0, each weight) is the exact derivative of the forward and create_graph works.
As torch does on the CPU, each layer and direction projects its whole input sequence with one matmul
(`W_ih x_t + b_ih` for every t at once) and runs a Python loop over time only for the hidden-to-hidden part.
Packed sequences (Note [Packed recurrence]) use the same loop with the batch shrinking as sequences end.
The gate arithmetic follows ATen's (RNN.cpp), with the hidden-side bias regrouped for RNN and LSTM (Note [Hidden
bias folded into the input projection]), so float32 results agree with torch's to rounding."""
from __future__ import annotations

import math
import numbers
import warnings

import mlx_compat as torch

from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


# ---------------------------------------------------------------- one time step of each cell
# Each takes the input projection `gi` of the step, the state tuple, the transposed hidden-side weights and the
# hidden-side bias when it is not folded into gi (Note [Hidden bias folded into the input projection]), and
# returns the new state tuple ((h,) or (h, c)).

# Note [Hidden bias folded into the input projection]
# For RNN and LSTM the hidden-side bias b_hh only ever adds to W_ih x + b_ih, so it is added once to the input
# projection of all steps (bias b_ih + b_hh) and each step is one addmm(gi_t, h, W_hh^T) graph node. GRU keeps
# b_hh apart: its b_hn sits inside the reset gate's product. The float sums are regrouped relative to ATen's
# (W_hh h + b_hh) + (W_ih x + b_ih): the results differ by rounding only, and the gradients stay exact.


def _tanh_step(gi, state, w_hh_t, b_hh, w_hr_t):
    return (torch.tanh(torch.addmm(gi, state[0], w_hh_t)),)


def _relu_step(gi, state, w_hh_t, b_hh, w_hr_t):
    return (torch.relu(torch.addmm(gi, state[0], w_hh_t)),)


def _lstm_step(gi, state, w_hh_t, b_hh, w_hr_t):
    h, c = state
    i, f, g, o = torch.addmm(gi, h, w_hh_t).chunk(4, 1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)
    if w_hr_t is not None:
        h = h.matmul(w_hr_t)
    return h, c


def _gru_step(gi, state, w_hh_t, b_hh, w_hr_t):
    h = state[0]
    i_r, i_z, i_n = gi.chunk(3, 1)
    gh = h.matmul(w_hh_t) if b_hh is None else torch.addmm(b_hh, h, w_hh_t)
    h_r, h_z, h_n = gh.chunk(3, 1)
    r = torch.sigmoid(h_r + i_r)
    z = torch.sigmoid(h_z + i_z)
    n = torch.tanh(i_n + h_n * r)
    return ((h - n) * z + n,)


def _split_biases(mode, b_ih, b_hh):
    """(bias of the input projection, bias left to each step) per Note [Hidden bias folded into the input
    projection]."""
    if b_ih is None:
        return None, None
    if mode == "GRU":
        return b_ih, b_hh
    return b_ih + b_hh, None


_STEPS = {"RNN_TANH": _tanh_step, "RNN_RELU": _relu_step, "LSTM": _lstm_step, "GRU": _gru_step}


def _cell_function(mode, name):
    """torch.<name>(input, hx, w_ih, w_hh, b_ih=None, b_hh=None): one step of the cells' arithmetic (the LSTM's
    hx is the (h, c) pair, and it returns one)."""
    def cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
        b_in, b_step = _split_biases(mode, b_ih, b_hh)
        state = tuple(hx) if mode == "LSTM" else (hx,)
        out = _STEPS[mode](F.linear(input, w_ih, b_in), state, w_hh.t(), b_step, None)
        return out if mode == "LSTM" else out[0]

    cell.__name__ = cell.__qualname__ = name
    return cell


lstm_cell = _cell_function("LSTM", "lstm_cell")
gru_cell = _cell_function("GRU", "gru_cell")
rnn_tanh_cell = _cell_function("RNN_TANH", "rnn_tanh_cell")
rnn_relu_cell = _cell_function("RNN_RELU", "rnn_relu_cell")


# ---------------------------------------------------------------- a whole layer, a whole stack

# Note [Packed recurrence]
# A PackedSequence's data holds, step after step, the rows of the sequences still running (batch_sizes[t] of them,
# sorted longest first). Going forward in time the batch only shrinks: when it does, the tail rows of the state
# belong to sequences that just ended, so they are set aside as those sequences' final state, and the final state
# is the running state followed by the set-aside pieces, latest first. Going backward in time the batch only grows:
# the state starts as h0's first batch_sizes[-1] rows and takes on the h0 rows of each sequence as it begins.
# A padded batch is the special case of constant batch size.


def _run_direction(step, steps, state0, w_hh_t, b_hh, w_hr_t, reverse):
    """Run one direction of one layer over the per-step input projections `steps`; returns (per-step outputs in
    time order, final state tuple)."""
    full = state0[0].shape[0]
    outs = [None] * len(steps)
    if not reverse:
        state, done, last = state0, [], full
        for t, gi in enumerate(steps):
            bs = gi.shape[0]
            if bs < last:
                done.append(tuple(s[bs:last] for s in state))
                state = tuple(s[:bs] for s in state)
                last = bs
            state = step(gi, state, w_hh_t, b_hh, w_hr_t)
            outs[t] = state[0]
        if done:
            done.append(state)
            state = tuple(torch.cat([d[k] for d in reversed(done)]) for k in range(len(state)))
        return outs, state
    last = steps[-1].shape[0] if steps else full
    state = state0 if last == full else tuple(s[:last] for s in state0)
    for t in range(len(steps) - 1, -1, -1):
        gi = steps[t]
        bs = gi.shape[0]
        if bs > last:
            state = tuple(torch.cat([s, s0[last:bs]]) for s, s0 in zip(state, state0))
            last = bs
        state = step(gi, state, w_hh_t, b_hh, w_hr_t)
        outs[t] = state[0]
    return outs, state


def _rnn_impl(mode, input, hx, weights, has_bias, num_layers, dropout, train, bidirectional, batch_sizes=None):
    """The multi-layer recurrence. `input` is time-major (T, B, I), or a packed (N, I) with `batch_sizes` (list of
    ints); `hx` a tuple of (layers * directions, B, H) states. Returns (output, tuple of final states)."""
    if input.shape[0] == 0:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    from ...amp.autocast_mode import lower_precision_args

    input, hx, weights = lower_precision_args(input, hx, weights)  # torch's RNN kernels are autocast whole
    step = _STEPS[mode]
    num_directions = 2 if bidirectional else 1
    per_layer = len(weights) // (num_layers * num_directions)
    has_proj = per_layer == (5 if has_bias else 3)
    finals = [[] for _ in hx]
    layer_input = input
    for layer in range(num_layers):
        rows = layer_input.reshape(-1, layer_input.shape[-1])
        dir_outs = []
        for direction in range(num_directions):
            idx = layer * num_directions + direction
            w = weights[idx * per_layer:(idx + 1) * per_layer]
            b_in, b_hh = _split_biases(mode, *((w[2], w[3]) if has_bias else (None, None)))
            w_hr_t = w[-1].t() if has_proj else None
            gi = F.linear(rows, w[0], b_in)
            if batch_sizes is None:
                steps = gi.view(layer_input.shape[0], layer_input.shape[1], gi.shape[-1]).unbind(0)
            else:
                steps = gi.split(batch_sizes, 0)
            outs, state = _run_direction(step, steps, tuple(h[idx] for h in hx), w[1].t(), b_hh, w_hr_t,
                                         reverse=direction == 1)
            dir_outs.append(torch.stack(outs, 0) if batch_sizes is None else torch.cat(outs, 0))
            for k, s in enumerate(state):
                finals[k].append(s)
        layer_input = dir_outs[0] if num_directions == 1 else torch.cat(dir_outs, -1)
        if dropout != 0 and train and layer < num_layers - 1:
            layer_input = F.dropout(layer_input, dropout, True)
    return layer_input, tuple(torch.stack(f, 0) for f in finals)


def _apply_permutation(tensor, permutation, dim=1):
    return tensor.index_select(dim, permutation)


# ---------------------------------------------------------------- modules


class RNNBase(Module):
    """Base of RNN, LSTM and GRU: builds torch's parameters `weight_ih_l{k}{_reverse}`, `weight_hh_l{k}...`,
    `bias_ih_l{k}...`, `bias_hh_l{k}...` and (LSTM with proj_size) `weight_hr_l{k}...` in torch's order, each
    uniform(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""

    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                     "bidirectional", "proj_size"]
    __jit_unused_properties__ = ["all_weights"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1

        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                             "being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")

        gate_sizes = {"LSTM": 4 * hidden_size, "GRU": 3 * hidden_size, "RNN_TANH": hidden_size,
                      "RNN_RELU": hidden_size}
        if mode not in gate_sizes:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = gate_sizes[mode]

        self._flat_weights_names = []
        self._all_weights = []
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
                params = [Parameter(torch.empty((gate_size, layer_input_size), **factory_kwargs)),
                          Parameter(torch.empty((gate_size, real_hidden_size), **factory_kwargs))]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    params += [Parameter(torch.empty(gate_size, **factory_kwargs)),
                               Parameter(torch.empty(gate_size, **factory_kwargs))]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    params.append(Parameter(torch.empty((proj_size, hidden_size), **factory_kwargs)))
                    names.append("weight_hr_l{}{}")
                suffix = "_reverse" if direction == 1 else ""
                names = [n.format(layer, suffix) for n in names]
                for name, param in zip(names, params):
                    setattr(self, name, param)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)

        self._init_flat_weights()
        self.reset_parameters()

    def _init_flat_weights(self):
        self._flat_weights = [getattr(self, wn) if hasattr(self, wn) else None for wn in self._flat_weights_names]
        self.flatten_parameters()

    def __setattr__(self, attr, value):
        names = self.__dict__.get("_flat_weights_names")
        if names is not None and attr in names:
            self._flat_weights[names.index(attr)] = value
        super().__setattr__(attr, value)

    def flatten_parameters(self):
        """A no-op: torch compacts the weights into one cuDNN buffer here; MLX has no such buffer."""

    def _apply(self, fn, *args, **kwargs):
        ret = super()._apply(fn, *args, **kwargs)
        self._init_flat_weights()
        return ret

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def check_input(self, input, batch_sizes):
        wdt = self._flat_weights[0].dtype
        if input.dtype != wdt:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({wdt}). "
                             f"Convert input: input.to({wdt}), or convert model: model.to({input.dtype})")
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, size)

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def _weights_have_changed(self):
        for w, name in zip(self._flat_weights, self._flat_weights_names):
            if getattr(self, name, None) is not w:
                return True
        return False

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _apply_permutation(hx, permutation)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def _update_flat_weights(self):
        if self._weights_have_changed():
            self._init_flat_weights()

    def __getstate__(self):
        self._update_flat_weights()
        return self.__dict__.copy()

    def __setstate__(self, d):
        super().__setstate__(d)
        if "all_weights" in d:
            self._all_weights = d["all_weights"]
        if "proj_size" not in d:
            self.proj_size = 0
        if not isinstance(self._all_weights[0][0], str):
            # pickles of old torch versions kept the Parameters themselves here: rebuild the names
            self._flat_weights_names, self._all_weights = [], []
            for layer in range(self.num_layers):
                for direction in range(2 if self.bidirectional else 1):
                    suffix = "_reverse" if direction == 1 else ""
                    names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                    if self.bias:
                        names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                    if self.proj_size > 0:
                        names.append("weight_hr_l{}{}")
                    names = [n.format(layer, suffix) for n in names]
                    self._all_weights.append(names)
                    self._flat_weights_names.extend(names)
        self._init_flat_weights()

    @property
    def all_weights(self):
        return [[getattr(self, weight) for weight in weights] for weights in self._all_weights]

    # ------------------------------------------------------------ the forward shared by RNN, LSTM and GRU

    def _zeros(self, size, input):
        return torch.zeros(size, dtype=input.dtype, device=input.device)

    def _run(self, input, hx, batch_sizes):
        """Time-major or packed `input`, state tuple `hx` -> (output, state tuple)."""
        sizes = None if batch_sizes is None else [int(b) for b in batch_sizes.tolist()]
        x = input
        if batch_sizes is None and self.batch_first:
            x = x.transpose(0, 1)
        out, state = _rnn_impl(self.mode, x, hx, self._flat_weights, self.bias, self.num_layers, self.dropout,
                               self.training, self.bidirectional, sizes)
        if batch_sizes is None and self.batch_first:
            out = out.transpose(0, 1)
        return out, state

    def _forward_single_state(self, input, hx, name):
        """RNN's and GRU's forward: one state tensor."""
        self._update_flat_weights()
        num_directions = 2 if self.bidirectional else 1
        orig_input = input
        if isinstance(orig_input, PackedSequence):
            input, batch_sizes, sorted_indices, unsorted_indices = input
            max_batch_size = int(batch_sizes[0])
            if hx is None:
                hx = self._zeros((self.num_layers * num_directions, max_batch_size, self.hidden_size), input)
            else:
                hx = self.permute_hidden(hx, sorted_indices)
        else:
            batch_sizes = None
            if input.dim() not in (2, 3):
                if name == "RNN":
                    raise ValueError(f"RNN: Expected input to be 2D or 3D, got {input.dim()}D tensor instead")
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D instead")
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not is_batched:
                input = input.unsqueeze(batch_dim)
                if hx is not None:
                    if hx.dim() != 2:
                        raise RuntimeError(
                            f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
                    hx = hx.unsqueeze(1)
            elif hx is not None and hx.dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
            max_batch_size = input.size(0) if self.batch_first else input.size(1)
            sorted_indices = unsorted_indices = None
            if hx is None:
                hx = self._zeros((self.num_layers * num_directions, max_batch_size, self.hidden_size), input)
        self.check_forward_args(input, hx, batch_sizes)
        output, (hidden,) = self._run(input, (hx,), batch_sizes)
        if isinstance(orig_input, PackedSequence):
            return (PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices),
                    self.permute_hidden(hidden, unsorted_indices))
        if not is_batched:
            output = output.squeeze(batch_dim)
            hidden = hidden.squeeze(1)
        return output, self.permute_hidden(hidden, unsorted_indices)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        return self._forward_single_state(input, hx, "RNN")


class LSTM(RNNBase):
    """Long short-term memory; with proj_size > 0 the hidden state is projected by weight_hr (LSTMP)."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _apply_permutation(hx[0], permutation), _apply_permutation(hx[1], permutation)

    def forward(self, input, hx=None):
        self._update_flat_weights()
        orig_input = input
        batch_sizes = None
        num_directions = 2 if self.bidirectional else 1
        real_hidden_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        if isinstance(orig_input, PackedSequence):
            input, batch_sizes, sorted_indices, unsorted_indices = input
            max_batch_size = int(batch_sizes[0])
            if hx is None:
                hx = (self._zeros((self.num_layers * num_directions, max_batch_size, real_hidden_size), input),
                      self._zeros((self.num_layers * num_directions, max_batch_size, self.hidden_size), input))
            else:
                hx = self.permute_hidden(hx, sorted_indices)
            self.check_forward_args(input, hx, batch_sizes)
        else:
            if input.dim() not in (2, 3):
                raise ValueError(f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D instead")
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not is_batched:
                input = input.unsqueeze(batch_dim)
            max_batch_size = input.size(0) if self.batch_first else input.size(1)
            sorted_indices = unsorted_indices = None
            if hx is None:
                hx = (self._zeros((self.num_layers * num_directions, max_batch_size, real_hidden_size), input),
                      self._zeros((self.num_layers * num_directions, max_batch_size, self.hidden_size), input))
            else:
                if is_batched:
                    if hx[0].dim() != 3 or hx[1].dim() != 3:
                        raise RuntimeError("For batched 3-D input, hx and cx should also be 3-D but got "
                                           f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                else:
                    if hx[0].dim() != 2 or hx[1].dim() != 2:
                        raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but got "
                                           f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                    hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
            self.check_forward_args(input, hx, batch_sizes)
        output, hidden = self._run(input, tuple(hx), batch_sizes)
        if isinstance(orig_input, PackedSequence):
            return (PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices),
                    self.permute_hidden(hidden, unsorted_indices))
        if not is_batched:
            output = output.squeeze(batch_dim)
            hidden = (hidden[0].squeeze(1), hidden[1].squeeze(1))
        return output, self.permute_hidden(hidden, unsorted_indices)


class GRU(RNNBase):
    """Gated recurrent unit (torch's variant: the reset gate multiplies W_hn h + b_hn)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward_single_state(input, hx, "GRU")


# ---------------------------------------------------------------- cells


class RNNCellBase(Module):
    """Base of the cells: weight_ih (chunks*hidden, input), weight_hh (chunks*hidden, hidden), bias_ih/bias_hh
    (or None), each uniform(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""

    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(torch.empty((num_chunks * hidden_size, input_size), **factory_kwargs))
        self.weight_hh = Parameter(torch.empty((num_chunks * hidden_size, hidden_size), **factory_kwargs))
        if bias:
            self.bias_ih = Parameter(torch.empty(num_chunks * hidden_size, **factory_kwargs))
            self.bias_hh = Parameter(torch.empty(num_chunks * hidden_size, **factory_kwargs))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _check_dims(self, input, hx, name):
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")

    def _check_step(self, input, hiddens):
        """ATen's check_rnn_cell_forward_input / _hidden."""
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}")
        for i, h in enumerate(hiddens):
            if input.size(0) != h.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{i} batch size {h.size(0)}")
            if h.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.size(1)}, expected "
                                   f"{self.hidden_size}")

    def _cell(self, mode, input, state):
        b_in, b_hh = _split_biases(mode, self.bias_ih, self.bias_hh)
        return _STEPS[mode](F.linear(input, self.weight_ih, b_in), state, self.weight_hh.t(), b_hh, None)


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        self._check_dims(input, hx, "RNNCell")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            hx = torch.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
        else:
            hx = hx.unsqueeze(0) if not is_batched else hx
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        self._check_step(input, (hx,))
        (ret,) = self._cell(mode, input, (hx,))
        return ret.squeeze(0) if not is_batched else ret


class LSTMCell(RNNCellBase):
    """One LSTM step; returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if input.dim() not in (1, 2):
            raise ValueError(f"LSTMCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None:
            for idx, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{idx}] to be 1D or 2D, got {value.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = torch.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
            hx = (zeros, zeros)
        else:
            hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0)) if not is_batched else tuple(hx)
        self._check_step(input, hx)
        h, c = self._cell("LSTM", input, hx)
        if not is_batched:
            return h.squeeze(0), c.squeeze(0)
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        self._check_dims(input, hx, "GRUCell")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            hx = torch.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
        else:
            hx = hx.unsqueeze(0) if not is_batched else hx
        self._check_step(input, (hx,))
        (ret,) = self._cell("GRU", input, (hx,))
        return ret.squeeze(0) if not is_batched else ret
