"""The numerical kernels behind Gamma, Beta, Dirichlet and Binomial sampling, which torch has in C++ and MLX lacks:

- `sample_standard_gamma(alpha)`: Gamma(alpha, 1) draws by Marsaglia and Tsang's rejection method (2000), every
  element's candidates drawn at once (no data-dependent loop, so the graph stays lazy);
- `standard_gamma_grad(alpha, x)` and `dirichlet_grad(x, alpha, total)`: the implicit reparameterisation gradients
  d x / d alpha = -(d cdf / d alpha) / pdf, by the same series / saddle-point / rational approximations as torch's
  `_standard_gamma_grad` and `_dirichlet_grad` (aten/src/ATen/native/Distributions.h), so rsample gradients equal
  torch's on the same sample values;
- `sample_binomial(count, probs)`: Binomial draws by splitting with Beta order statistics, then Bernoulli sums.

Everything here is elementwise over tensors of one shape and runs without autograd; gamma.py / dirichlet.py wire
the gradients in."""
import math

import mlx_compat as mc

# Marsaglia-Tsang accepts a candidate with probability >= 0.95 once alpha >= 1 (alpha < 1 is boosted to alpha + 1),
# so with this many candidates per element a draw fails with probability < 0.05 ** 12 ~ 2e-16.
_CANDIDATES = 12


def _work_dtype(t):
    """float64 where MLX can compute in it (the CPU), as torch's kernels accumulate in double; else t's dtype."""
    return mc.float64 if t.device.type == "cpu" else t.dtype


def sample_standard_gamma(alpha, generator=None):
    """Gamma(alpha, 1) draws of alpha's shape and dtype (0 where alpha == 0). Each element draws _CANDIDATES
    (normal, uniform) pairs and keeps the first accepted; alpha < 1 samples Gamma(alpha + 1) times U ** (1 / alpha)."""
    with mc.no_grad():
        shape, dtype = tuple(alpha.shape), alpha.dtype
        a = alpha.detach().to(_work_dtype(alpha))
        boost = a < 1
        a1 = mc.where(boost, a + 1, a)
        d = a1 - 1.0 / 3.0
        c = 1.0 / mc.sqrt(9.0 * d)
        x = mc.randn((_CANDIDATES,) + shape, dtype=a.dtype, device=a.device, generator=generator)
        u = 1 - mc.rand((_CANDIDATES,) + shape, dtype=a.dtype, device=a.device, generator=generator)  # (0, 1]
        y = 1 + c * x
        positive = y > 0
        v = mc.where(positive, y * y * y, mc.ones_like(y))
        xx = x * x
        accept = positive & ((u < 1 - 0.0331 * xx * xx) | (u.log() < 0.5 * xx + d * (1 - v + v.log())))
        first = accept & (accept.int().cumsum(0) == 1)
        value = mc.where(first, d * v, mc.zeros_like(v)).sum(0)
        value = mc.where(accept.any(0), value, d)  # all rejected (p < 2e-16): d, about the median
        lift = (1 - mc.rand(shape, dtype=a.dtype, device=a.device, generator=generator)).pow(1.0 / a)
        scale = mc.where(boost, lift, mc.ones_like(a))
        value = mc.where(a == 0, mc.zeros_like(a), scale * value)
        return value.to(dtype)


def _polyval(coefs, x):
    """coefs[0] * x ** (n - 1) + ... + coefs[-1], by Horner's rule."""
    result = mc.zeros_like(x) + coefs[0]
    for c in coefs[1:]:
        result = result * x + c
    return result


def standard_gamma_grad(alpha, x):
    """d x / d alpha for x ~ Gamma(alpha, 1) held at its quantile: -(d/d alpha P(alpha, x)) / pdf(x; alpha). A Taylor
    series for x < 0.8, Rice's saddle-point expansion for alpha > 8, else a bivariate rational fit in
    (log(x / alpha), log alpha)."""
    with mc.no_grad():
        dtype = alpha.dtype
        work = _work_dtype(alpha)
        alpha, x = mc.broadcast_tensors(alpha.detach().to(work), x.detach().to(work))
        # small x: P(alpha, x) = x^alpha * sum_k (-x)^k / (k! (alpha + k)), differentiated term by term
        numer, denom = mc.ones_like(x), alpha
        series1, series2 = numer / denom, numer / (denom * denom)
        for i in range(1, 6):
            numer = numer * (-x / i)
            denom = denom + 1
            series1 = series1 + numer / denom
            series2 = series2 + numer / (denom * denom)
        pow_x_alpha = x.pow(alpha)
        pdf = x.pow(alpha - 1) * mc.exp(-x)
        cdf_alpha = (x.log() - mc.digamma(alpha)) * pow_x_alpha * series1 - pow_x_alpha * series2
        small = -cdf_alpha / pdf
        small = mc.where(mc.isnan(small), mc.zeros_like(small), small)
        # large alpha, x within 10% of alpha: the expansion's polynomial form (avoids 0 / 0 at x = alpha)
        near = (1 + 24 * alpha * (1 + 12 * alpha)) * (
            1440 * alpha * alpha + 6 * x * (53 - 120 * x) - 65 * x * x / alpha + alpha * (107 + 3600 * x)
        ) / (1244160 * alpha ** 4)
        # large alpha elsewhere
        sqrt8a = mc.sqrt(8 * alpha)
        diff = alpha - x
        safe_diff = mc.where(diff == 0, mc.ones_like(diff), diff)
        term2 = sqrt8a / safe_diff
        term3 = (x - alpha - alpha * mc.log(x / alpha)).abs().pow(-1.5)
        term23 = mc.where(x < alpha, term2 - term3, term2 + term3)
        term1 = mc.log(x / alpha) * term23 - mc.sqrt(2 / alpha) * (alpha + x) / (safe_diff * safe_diff)
        stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
        far = -stirling * x * term1 / sqrt8a
        large = mc.where((0.9 * alpha <= x) & (x <= 1.1 * alpha), near, far)
        # otherwise: exp(p(u, v) / q(u, v)), each coefficient of the cubics in v a quadratic in u
        u, v = mc.log(x / alpha), mc.log(alpha)
        coef = [c0 + u * (c1 + u * c2) for c0, c1, c2 in zip(*_GAMMA_GRAD_UV)]
        p = coef[0] + v * (coef[1] + v * (coef[2] + v * coef[3]))
        q = coef[4] + v * (coef[5] + v * (coef[6] + v * coef[7]))
        rational = mc.exp(p / q)
        result = mc.where(x < 0.8, small, mc.where(alpha > 8.0, large, rational))
        return result.to(dtype)


# The rational fit's coefficients (torch's, so gradients agree): row k is the u**k part of the 8 coefficients
# (p's cubic in v, then q's).
_GAMMA_GRAD_UV = (
    (0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084),
    (0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113, -0.0035938915, -0.00058392623),
    (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326, 0.00085092367,
     -1.5247877e-07),
)


def _beta_grad_alpha_small(x, alpha, beta):
    """d x / d alpha for x ~ Beta(alpha, beta) near 0: a Taylor series in x (0 where it is NaN)."""
    factor = mc.digamma(alpha) - mc.digamma(alpha + beta) - x.log()
    numer = mc.ones_like(x)
    series = numer / alpha * (factor + 1 / alpha)
    for i in range(1, 11):
        numer = numer * ((i - beta) * x / i)
        denom = alpha + i
        series = series + numer / denom * (factor + 1 / denom)
    result = x * (1 - x).pow(-beta) * series
    return mc.where(mc.isnan(result), mc.zeros_like(result), result)


def _beta_grad_beta_small(x, alpha, beta):
    """d x / d beta for x ~ Beta(alpha, beta) near 0: a Taylor series in x (0 where it is NaN)."""
    factor = mc.digamma(alpha + beta) - mc.digamma(beta)
    numer, betas, dbetas = mc.ones_like(x), mc.ones_like(x), mc.zeros_like(x)
    series = factor / alpha
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    result = -(1 - x).pow(1 - beta) * series
    return mc.where(mc.isnan(result), mc.zeros_like(result), result)


def _beta_grad_alpha_mid(x, alpha, beta):
    """d x / d alpha for x ~ Beta(alpha, beta), both large: Rice's saddle-point expansion (a polynomial form
    within a tenth of a standard deviation of the mean, where the expansion is 0 / 0)."""
    total = alpha + beta
    mean = alpha / total
    std = mc.sqrt(alpha * beta / (total + 1)) / total
    b2 = beta * beta
    poly = 47 * x * b2 * b2 + alpha * (
        (43 + 20 * (16 + 27 * beta) * x) * b2 * beta + alpha * (
            3 * (59 + 180 * beta - 90 * x) * b2 + alpha * (
                (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (8 * (1 - x) * (135 * beta - 11)))))
    prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
    prefactor_den = 12960 * alpha ** 3 * b2 * (1 + 12 * total)
    near = prefactor_num / (1 - x) * poly / prefactor_den

    def stirling_series(z):
        return 1 + 1 / (12 * z) + 1 / (288 * z * z)

    prefactor = -x / mc.sqrt(2 * alpha * beta / total)
    stirling = stirling_series(alpha) * stirling_series(beta) / stirling_series(total)
    axbx = alpha * (x - 1) + beta * x
    safe_axbx = mc.where(axbx == 0, mc.ones_like(axbx), axbx)
    term1 = (2 * alpha * alpha * (x - 1) + alpha * beta * (x - 1) - x * b2) / (
        mc.sqrt(2 * alpha / beta) * total.pow(1.5) * safe_axbx * safe_axbx)
    term2 = 0.5 * mc.log(alpha / (total * x))
    term3 = mc.sqrt(8 * alpha * beta / total) / safe_axbx
    term4 = (beta * mc.log(beta / (total * (1 - x))) + alpha * mc.log(alpha / (total * x))).abs().pow(-1.5)
    far = stirling * prefactor * (term1 + term2 * (term3 + mc.where(x < mean, term4, -term4)))
    return mc.where((mean - 0.1 * std <= x) & (x <= mean + 0.1 * std), near, far)


# The rational correction's coefficients (torch's): [numerator, denominator][power of u][power of a][power of b].
_DIRICHLET_GRAD_C = (
    (((1.003668233, -0.01061107488, -0.0657888334, 0.01201642863),
      (0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033),
      (-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013)),
     ((0.221950385, -0.3187676331, 0.01799915743, 0.01074823814),
      (-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057),
      (0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05)),
     ((-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565),
      (0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181),
      (0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05))),
    (((1, -0.02924021934, -0.04438342661, 0.007285809825),
      (0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521),
      (-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149)),
     ((0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273),
      (0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956),
      (-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05)),
     ((0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05),
      (0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05),
      (-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06))),
)


def dirichlet_grad(x, alpha, total):
    """The scaled reparameterisation gradient -(d/d alpha cdf(x; alpha, beta)) / pdf(x; alpha, beta) / (1 - x) of
    x ~ Beta(alpha, total - alpha), the marginal of a Dirichlet component; torch's `_dirichlet_grad`."""
    with mc.no_grad():
        dtype = x.dtype
        work = _work_dtype(x)
        x, alpha, total = mc.broadcast_tensors(x.detach().to(work), alpha.detach().to(work), total.detach().to(work))
        beta = total - alpha
        boundary = total * x * (1 - x)
        small_alpha = _beta_grad_alpha_small(x, alpha, beta)
        small_beta = -_beta_grad_beta_small(1 - x, beta, alpha)
        mid = _beta_grad_alpha_mid(x, alpha, beta)
        u = x.log()
        a = alpha.log() - u
        b = total.log() - a
        pq = []
        for c in _DIRICHLET_GRAD_C:
            acc = mc.zeros_like(x)
            for i, ui in enumerate((1, u, u * u)):
                for j, aj in enumerate((1, a, a * a)):
                    k = c[i][j]
                    acc = acc + ui * aj * (k[0] + b * (k[1] + b * (k[2] + b * k[3])))
            pq.append(acc)
        rational = pq[0] / pq[1] * x * (mc.digamma(total) - mc.digamma(alpha)) / beta
        result = mc.where((x <= 0.5) & (boundary < 2.5), small_alpha,
                          mc.where((x >= 0.5) & (boundary < 0.75), small_beta,
                                   mc.where((alpha > 6) & (beta > 6), mid, rational)))
        return result.to(dtype)


_BERNOULLI_SUM_MAX = 16  # counts up to this are finished by summing that many Bernoulli draws


def sample_binomial(count, probs, generator=None):
    """Binomial(count, probs) draws of their (common) shape, in probs' dtype. Counts above _BERNOULLI_SUM_MAX are
    split (Knuth, TAOCP 3.4.1 F) by the a-th order statistic Y ~ Beta(a, n + 1 - a) of n uniforms, a = n // 2 + 1:
    if Y >= p, all successes lie below it (n <- a - 1, p <- p / Y), else a successes lie at or below it
    (n <- n - a, p <- (p - Y) / (1 - Y)); each split halves n, and the rest is a sum of Bernoulli draws."""
    with mc.no_grad():
        dtype = probs.dtype
        work = _work_dtype(probs)
        n, p = mc.broadcast_tensors(count.detach().to(work), probs.detach().to(work))
        p_orig, n_orig = p, n
        result = mc.zeros_like(p)
        n_max = float(n.max()) if n.numel() else 0.0
        splits = 0 if n_max <= _BERNOULLI_SUM_MAX else math.ceil(math.log2(n_max / _BERNOULLI_SUM_MAX)) + 1
        for _ in range(splits):
            active = n > _BERNOULLI_SUM_MAX
            a = mc.floor(n / 2) + 1
            b = n + 1 - a
            ga = sample_standard_gamma(mc.where(active, a, mc.ones_like(a)), generator)
            gb = sample_standard_gamma(mc.where(active, b, mc.ones_like(b)), generator)
            y = ga / (ga + gb)
            above = y >= p
            result = mc.where(active & ~above, result + a, result)
            p = mc.where(active, mc.where(above, p / y, (p - y) / (1 - y)), p).clamp(0, 1)
            n = mc.where(active, mc.where(above, a - 1, n - a), n)
        draws = mc.rand((_BERNOULLI_SUM_MAX,) + tuple(p.shape), dtype=work, device=p.device, generator=generator)
        index = mc.arange(_BERNOULLI_SUM_MAX, device=p.device).to(work).view((-1,) + (1,) * p.dim())
        result = result + ((draws < p) & (index < n)).to(work).sum(0)
        result = mc.where(p_orig == 0, mc.zeros_like(result), mc.where(p_orig == 1, n_orig, result))
        return result.to(dtype)
