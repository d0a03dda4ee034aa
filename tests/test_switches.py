"""Process-wide switches and device modules against torch (mlx_compat/_switches.py, backends/cuda.py,
backends/cudnn.py, random.py, cpu.py, mps.py, accelerator.py, cuda.py): values read back, argument errors and, on
a machine without a GPU (this CPU, as torch's CPU build), the same answers and exceptions as torch's."""
import warnings

import numpy as np
import pytest

from helpers import assert_same, mc, torch

NO_GPU = not mc.accelerator.is_available()


@pytest.fixture(autouse=True)
def _restore_switches():
    """Each test leaves both libraries' switches as it found them."""
    saved = [(L.get_float32_matmul_precision(), L.are_deterministic_algorithms_enabled(),
              L.is_deterministic_algorithms_warn_only_enabled(), L.is_warn_always_enabled()) for L in (torch, mc)]
    yield
    for L, (p, det, warn_only, always) in zip((torch, mc), saved):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            L.set_float32_matmul_precision(p)
        L.use_deterministic_algorithms(det, warn_only=warn_only)
        L.set_warn_always(always)


def _outcome(f):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            r = f()
        except Exception as e:  # noqa: BLE001
            return ("raises", type(e).__name__, str(e)), [str(x.message) for x in w]
    return ("returns", r if r is None or isinstance(r, (bool, int, float, str, tuple)) else repr(r)), \
        [str(x.message).split(" (Triggered internally at")[0] for x in w]  # torch's C++ warnings' suffix


def _same(f):
    assert _outcome(lambda: f(mc)) == _outcome(lambda: f(torch))


@pytest.mark.parametrize("call", [
    lambda L: L.get_float32_matmul_precision(),
    lambda L: (L.set_float32_matmul_precision("medium"), L.get_float32_matmul_precision()),
    lambda L: (L.set_float32_matmul_precision("bad"), L.get_float32_matmul_precision()),
    lambda L: L.are_deterministic_algorithms_enabled(),
    lambda L: (L.use_deterministic_algorithms(True), L.are_deterministic_algorithms_enabled(),
               L.is_deterministic_algorithms_warn_only_enabled(), L.get_deterministic_debug_mode()),
    lambda L: (L.use_deterministic_algorithms(True, warn_only=True), L.get_deterministic_debug_mode(),
               L.is_deterministic_algorithms_warn_only_enabled()),
    lambda L: L.use_deterministic_algorithms(1),
    lambda L: (L.set_deterministic_debug_mode("warn"), L.get_deterministic_debug_mode(),
               L.are_deterministic_algorithms_enabled()),
    lambda L: (L.set_deterministic_debug_mode(2), L.get_deterministic_debug_mode()),
    lambda L: (L.set_deterministic_debug_mode("default"), L.are_deterministic_algorithms_enabled()),
    lambda L: L.set_deterministic_debug_mode("x"),
    lambda L: L.set_deterministic_debug_mode(3),
    lambda L: L.set_deterministic_debug_mode(1.0),
    lambda L: (L.set_warn_always(True), L.is_warn_always_enabled()),
    lambda L: L.set_warn_always(1),
    lambda L: L.backends.cudnn.enabled,
    lambda L: (L.backends.cudnn.benchmark, L.backends.cudnn.deterministic, L.backends.cudnn.allow_tf32,
               L.backends.cudnn.benchmark_limit),
    lambda L: (L.backends.cuda.flash_sdp_enabled(), L.backends.cuda.math_sdp_enabled(),
               L.backends.cuda.mem_efficient_sdp_enabled(), L.backends.cuda.cudnn_sdp_enabled()),
    lambda L: (L.backends.cuda.matmul.allow_fp16_reduced_precision_reduction,
               L.backends.cuda.matmul.allow_bf16_reduced_precision_reduction),
    lambda L: L.cpu.is_available(),
    lambda L: (L.cpu.device_count(), L.cpu.current_device(), L.cpu.synchronize()),
    lambda L: L.random.initial_seed() == L.initial_seed(),
    lambda L: L.random.default_generator is L.default_generator,
])
def test_switches_as_torch(call):
    _same(call)


def test_allow_tf32_is_the_matmul_precision():
    for L in (torch, mc):
        L.set_float32_matmul_precision("highest")
    assert mc.backends.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32 is False
    mc.backends.cuda.matmul.allow_tf32 = True
    assert mc.get_float32_matmul_precision() == "high"
    mc.backends.cuda.matmul.allow_tf32 = False
    assert mc.get_float32_matmul_precision() == "highest"
    with pytest.raises(AttributeError):
        mc.backends.cuda.matmul.not_a_switch = 1


def test_cudnn_flags_and_sdp_kernel_restore():
    before = (mc.backends.cudnn.enabled, mc.backends.cudnn.benchmark)
    with mc.backends.cudnn.flags(enabled=False, benchmark=True):
        assert (mc.backends.cudnn.enabled, mc.backends.cudnn.benchmark) == (False, True)
    assert (mc.backends.cudnn.enabled, mc.backends.cudnn.benchmark) == before
    with mc.backends.cuda.sdp_kernel(enable_flash=False):
        assert not mc.backends.cuda.flash_sdp_enabled()
    assert mc.backends.cuda.flash_sdp_enabled()
    mc.backends.cuda.enable_math_sdp(False)
    assert not mc.backends.cuda.math_sdp_enabled()
    mc.backends.cuda.enable_math_sdp(True)


def test_fork_rng_restores_the_state():
    mc.manual_seed(3)
    with mc.random.fork_rng():
        inside = mc.rand(4)
    after = mc.rand(4)
    assert_same(after, inside)  # the block's draws did not advance the state
    with mc.random.fork_rng(enabled=False):
        mc.rand(4)
    assert not np.array_equal(mc.rand(4).numpy(), after.numpy())


@pytest.mark.skipif(not NO_GPU, reason="compares with torch's CPU build, which has no GPU: only without a GPU here")
@pytest.mark.parametrize("call", [
    lambda L: L.backends.cudnn.is_available(),
    lambda L: L.backends.cudnn.version(),
    lambda L: L.backends.cuda.is_built(),
    lambda L: L.mps.is_available(),
    lambda L: L.mps.device_count(),
    lambda L: L.mps.synchronize(),
    lambda L: L.mps.empty_cache(),
    lambda L: L.mps.current_allocated_memory(),
    lambda L: L.mps.driver_allocated_memory(),
    lambda L: L.mps.recommended_max_memory(),
    lambda L: L.mps.seed(),
    lambda L: L.mps.get_rng_state(),
    lambda L: L.mps.manual_seed(1),
    lambda L: L.mps.set_per_process_memory_fraction(0.5),
    lambda L: L.accelerator.is_available(),
    lambda L: L.accelerator.device_count(),
    lambda L: L.accelerator.current_accelerator(),
    lambda L: L.accelerator.synchronize(),
    lambda L: L.accelerator.empty_cache(),
    lambda L: L.accelerator.memory_allocated(),
    lambda L: L.accelerator.max_memory_allocated(),
    lambda L: L.accelerator.current_device_index(),
    lambda L: L.cuda.is_available(),
    lambda L: L.cuda.is_initialized(),
    lambda L: L.cuda.device_count(),
    lambda L: L.cuda.current_device(),
    lambda L: L.cuda.get_device_name(),
    lambda L: L.cuda.get_device_capability(),
    lambda L: L.cuda.get_device_properties(0),
    lambda L: L.cuda.synchronize(),
    lambda L: L.cuda.mem_get_info(),
    lambda L: L.cuda.memory_allocated(),
    lambda L: L.cuda.max_memory_allocated(),
    lambda L: L.cuda.memory_reserved(),
    lambda L: L.cuda.max_memory_reserved(),
    lambda L: L.cuda.empty_cache(),
    lambda L: L.cuda.is_bf16_supported(),
    lambda L: L.cuda.is_tf32_supported(),
    lambda L: L.cuda.manual_seed(1),
    lambda L: L.cuda.manual_seed_all(1),
    lambda L: L.cuda.seed(),
    lambda L: L.cuda.initial_seed(),
    lambda L: L.cuda.get_rng_state(),
    lambda L: L.cuda.get_rng_state_all(),
    lambda L: L.cuda.set_per_process_memory_fraction(0.5),
])
def test_without_a_gpu_as_torchs_cpu_build(call):
    _same(call)


@pytest.mark.skipif(NO_GPU, reason="needs MLX's GPU (runs on the device machine)")
def test_gpu_memory_and_events():
    dev = mc.accelerator.current_accelerator()
    assert dev.type in ("cuda", "mps")
    mc.accelerator.reset_peak_memory_stats()
    x = mc.ones(1 << 20, device=dev.type) * 2
    mc.accelerator.synchronize()
    assert mc.accelerator.memory_allocated() >= 4 << 20
    assert mc.accelerator.max_memory_allocated() >= mc.accelerator.memory_allocated()
    free, total = mc.accelerator.get_memory_info()
    assert 0 < free < total
    del x
    if dev.type == "cuda":
        assert isinstance(mc.cuda.get_device_name(), str)
        start, end = mc.cuda.Event(enable_timing=True), mc.cuda.Event(enable_timing=True)
        start.record()
        (mc.ones(512, 512, device="cuda") @ mc.ones(512, 512, device="cuda")).sum().item()
        end.record()
        assert start.elapsed_time(end) > 0


def test_synchronize_computes_live_tensors():
    """torch's ops have run when its synchronize returns, so a timing loop or memory_allocated() after it sees them;
    ours computes every live tensor's value first (Note [Live tensors]): a lazy result, a write through a view,
    a subclass instance, a tensor made on another thread."""
    import threading
    import weakref

    import mlx.core as mx
    for sync in (mc.cpu.synchronize, mc.synchronize):
        x = mc.ones(1 << 20) * 2
        x[1:3].mul_(3)
        p = mc.nn.Parameter(mc.ones(1 << 18) + 1)
        made = []
        th = threading.Thread(target=lambda: made.append(mc.zeros(1 << 18) - 1))
        th.start()
        th.join()
        before = mx.get_active_memory()
        sync()
        # 6 MiB of results, less the graph's few scalar constants freed as it is computed
        assert mx.get_active_memory() - before >= (6 << 20) - 4096
        assert x[:4].tolist() == [2.0, 6.0, 6.0, 2.0] and p[0].item() == 2.0 and made[0][0].item() == -1.0
        # the ring holds no reference: a dropped tensor dies at once
        r = weakref.ref(x)
        del x, p, made
        assert r() is None
        sync()


def test_synchronize_inside_a_compiled_function():
    """While MLX traces, synchronize() evaluates nothing (torch.compile breaks the graph there); results stay
    right."""
    @mc.compile
    def f(a):
        b = a * 2
        mc.synchronize()
        mc.cpu.synchronize()
        return b + 1

    for _ in range(2):
        assert f(mc.ones(3)).tolist() == (torch.ones(3) * 2 + 1).tolist()
