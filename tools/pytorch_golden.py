#!/usr/bin/env python3
"""Golden files from PyTorch and transformers themselves, for tests/pytorch_parity.rs.

Every op with a PyTorch or `transformers` counterpart, evaluated by PyTorch on
the CPU: the `torch.nn` activations with their default and some non-default
parameters, every key of `transformers`' ACT2FN, GLU and the gated MLP forms,
softmax / log-softmax / softmin over rows, PReLU with per-channel slopes, RReLU
in eval; forward, autograd derivative (grad_output = 1) and backward
(grad_output random), in float32 and, where PyTorch's CPU kernels take them,
float16 and bfloat16. The test never needs Python or torch: the files are
committed.

    python3 -m venv venv && venv/bin/pip install torch numpy transformers
    venv/bin/python tools/pytorch_golden.py tests/golden

File format (one case per file, `<dtype>/<case>.golden`): a text header of
`key: value` lines, starting with the line `wgpu-activations golden v1` and
the versions that made it, then one `array NAME DTYPE DIMS` line per array
(DIMS like `64x96`), a line `end`, and the arrays' little-endian bytes in
that order (f32: 4 bytes; f16 and bf16: their 16-bit patterns).
"""

import inspect
import math
import os
import platform
import sys
import warnings
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import transformers
from transformers import activations as hf

warnings.filterwarnings("ignore")
torch.set_num_threads(1)  # deterministic reductions (softmax, PReLU's slope sums)

VERSIONS = (
    f"python {platform.python_version()}, torch {torch.__version__} (CPU), "
    f"transformers {transformers.__version__}, numpy {np.__version__}"
)
F32_MAX = float(np.finfo(np.float32).max)
F32_TINY = float(np.finfo(np.float32).tiny)


def f32(values):
    return np.asarray(values, dtype=np.float64).astype(np.float32)


def neighbours(points, ulps=3):
    """Each point rounded to f32 and its `ulps` f32 neighbours either side."""
    out = []
    for p in f32(points):
        v = p
        out.append(v)
        for _ in range(ulps):
            v = np.nextafter(v, np.float32(np.inf), dtype=np.float32)
            out.append(v)
        v = p
        for _ in range(ulps):
            v = np.nextafter(v, np.float32(-np.inf), dtype=np.float32)
            out.append(v)
    return out


SPECIALS = [
    0.0, -0.0, math.inf, -math.inf, math.nan, F32_MAX, -F32_MAX, F32_TINY, -F32_TINY,
    1e-45, -1e-45, 1e-40, -1e-40, 1.1754942e-38, -1.1754942e-38,
    1e-30, -1e-30, 1e-20, -1e-20, 1e-8, -1e-8, 1.7e-8, -1.7e-8, 1e-4, -1e-4,
    0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 6.0, -6.0, 10.0, -10.0, 19.0, -19.0,
    20.0, -20.0, 36.8, -36.8, 88.0, -88.0, 88.7, -88.7, 89.0, -89.0, 100.0, -100.0,
    1e3, -1e3, 1e10, -1e10, 6e15, -6e15, 1e20, -1e20, 1e30, -1e30, 3.4e38, -3.4e38,
    -2.43, -0.752, -1.278, -1.192, -14.356069, -14.356068,
]


def common_inputs(rng):
    """Specials, a grid over [-30, 30] every 0.05, log-uniform magnitudes
    from 1e-40 to 3e38 with either sign, and random bit patterns."""
    grid = np.linspace(-30.0, 30.0, 1201)
    magnitudes = 10.0 ** rng.uniform(-40.0, 38.5, 384)
    signs = np.where(rng.integers(0, 2, 384) == 0, 1.0, -1.0)
    bits = rng.integers(0, 2**32, 512, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return list(f32(SPECIALS)) + list(f32(grid)) + list(f32(magnitudes * signs)) + list(bits)


def grad_outputs(rng, n):
    """Mostly uniform in [-2, 2]; some +-1, +-0, magnitudes 1e-6 to 1e6, +-inf."""
    dy = rng.uniform(-2.0, 2.0, n)
    pick = rng.integers(0, 10, n)
    dy = np.where(pick == 0, np.where(rng.integers(0, 2, n) == 0, 1.0, -1.0), dy)
    dy = np.where(pick == 1, np.where(rng.integers(0, 2, n) == 0, 0.0, -0.0), dy)
    # Magnitudes up to 1e6 either way: beyond that, where f'(x) itself is
    # below f32's range, dy f'(x) underflows in both PyTorch and ours.
    wide = 10.0 ** rng.uniform(-6.0, 6.0, n) * np.where(rng.integers(0, 2, n) == 0, 1.0, -1.0)
    dy = np.where(pick == 2, wide, dy)
    # A few infinite gradients (an fp16 loss scale overflowing does this).
    rare = rng.integers(0, 100, n)
    dy = np.where(rare == 0, np.where(rng.integers(0, 2, n) == 0, math.inf, -math.inf), dy)
    return f32(dy)


def dedup(values):
    """Distinct bit patterns (one NaN), in a stable order."""
    seen, out = set(), []
    for v in values:
        v = np.float32(v)
        key = 0x7FC00000 if np.isnan(v) else int(np.array(v).view(np.uint32))
        if key not in seen:
            seen.add(key)
            out.append(v)
    return np.array(out, dtype=np.float32)


# --- the unary cases: (case, our spec, PyTorch's expression, module, kinks) ---


def softplus_switch(beta, threshold):
    return [threshold / beta]


def xielu_from_module(module):
    """The effective parameters a module computes, read from it (float32)."""
    m = module.float()
    alpha_p = F.softplus(m.alpha_p).item()
    alpha_n = (m.beta + F.softplus(m.alpha_n)).item()
    return alpha_p, alpha_n, m.beta.item(), m.eps.item()


def fmt32(v):
    return repr(float(np.float32(v)))


def unary_cases():
    """Every unary case as (name, spec, pytorch text, callable, kinks)."""
    c = []

    def add(name, spec, text, fn, kinks=()):
        c.append((name, spec, text, fn, list(kinks)))

    # torch.nn, defaults and non-defaults.
    add("sigmoid", "sigmoid", "nn.Sigmoid()", nn.Sigmoid())
    add("tanh", "tanh", "nn.Tanh()", nn.Tanh())
    add("relu", "relu", "nn.ReLU()", nn.ReLU())
    add("leaky_relu", "leaky_relu", "nn.LeakyReLU()", nn.LeakyReLU())
    add("leaky_relu_0.2", "leaky_relu(negative_slope=0.2)", "nn.LeakyReLU(0.2)", nn.LeakyReLU(0.2))
    add("elu", "elu", "nn.ELU()", nn.ELU())
    add("elu_0.5", "elu(alpha=0.5)", "nn.ELU(alpha=0.5)", nn.ELU(alpha=0.5))
    add("selu", "selu", "nn.SELU()", nn.SELU())
    add("celu", "celu", "nn.CELU()", nn.CELU())
    add("celu_2", "celu(alpha=2)", "nn.CELU(alpha=2.0)", nn.CELU(alpha=2.0))
    add("gelu", "gelu", "nn.GELU()", nn.GELU())
    add("gelu_tanh", "gelu_tanh", "nn.GELU(approximate='tanh')", nn.GELU(approximate="tanh"))
    add("silu", "silu", "nn.SiLU()", nn.SiLU())
    add("mish", "mish", "nn.Mish()", nn.Mish())
    add("softplus", "softplus", "nn.Softplus()", nn.Softplus(), softplus_switch(1.0, 20.0))
    add("softplus_2_10", "softplus(beta=2, threshold=10)", "nn.Softplus(beta=2, threshold=10)",
        nn.Softplus(beta=2.0, threshold=10.0), softplus_switch(2.0, 10.0))
    add("softplus_0.5_20", "softplus(beta=0.5, threshold=20)", "nn.Softplus(beta=0.5, threshold=20)",
        nn.Softplus(beta=0.5, threshold=20.0), softplus_switch(0.5, 20.0))
    add("softsign", "softsign", "nn.Softsign()", nn.Softsign())
    add("hardtanh", "hardtanh", "nn.Hardtanh()", nn.Hardtanh(), [-1.0, 1.0])
    add("hardtanh_-2_3", "hardtanh(min_val=-2, max_val=3)", "nn.Hardtanh(-2.0, 3.0)",
        nn.Hardtanh(-2.0, 3.0), [-2.0, 3.0])
    add("relu6", "relu6", "nn.ReLU6()", nn.ReLU6(), [6.0])
    add("hardsigmoid", "hardsigmoid", "nn.Hardsigmoid()", nn.Hardsigmoid(), [-3.0, 3.0])
    add("hardswish", "hardswish", "nn.Hardswish()", nn.Hardswish(), [-3.0, 3.0])
    add("log_sigmoid", "log_sigmoid", "nn.LogSigmoid()", nn.LogSigmoid())
    add("tanhshrink", "tanhshrink", "nn.Tanhshrink()", nn.Tanhshrink())
    add("softshrink", "softshrink", "nn.Softshrink()", nn.Softshrink(), [-0.5, 0.5])
    add("softshrink_1.5", "softshrink(lambda=1.5)", "nn.Softshrink(1.5)", nn.Softshrink(1.5), [-1.5, 1.5])
    add("hardshrink", "hardshrink", "nn.Hardshrink()", nn.Hardshrink(), [-0.5, 0.5])
    add("hardshrink_0.25", "hardshrink(lambda=0.25)", "nn.Hardshrink(0.25)", nn.Hardshrink(0.25),
        [-0.25, 0.25])
    add("threshold_0.1_20", "threshold(threshold=0.1, value=20)", "nn.Threshold(0.1, 20.0)",
        nn.Threshold(0.1, 20.0), [0.1])
    add("threshold_-1_-0.5", "threshold(threshold=-1, value=-0.5)", "nn.Threshold(-1.0, -0.5)",
        nn.Threshold(-1.0, -0.5), [-1.0])
    add("rrelu", "rrelu", "nn.RReLU().eval()", nn.RReLU().eval())
    add("rrelu_0.1_0.3", "rrelu(lower=0.1, upper=0.3)", "nn.RReLU(0.1, 0.3).eval()",
        nn.RReLU(0.1, 0.3).eval())
    add("identity", "identity", "nn.Identity()", nn.Identity())

    # transformers' ACT2FN, every key but prelu (tests/golden/f32/prelu_*),
    # each a fresh module as a model builds it.
    hf_kinks = {
        "gelu_10": [10.0, -10.0],
        "laplace": [0.707107],
        "sqrtsoftplus": [20.0],
        "relu6": [6.0],
        "hardswish": [-3.0, 3.0],
    }
    for key in sorted(hf.ACT2FN.keys()):
        if key == "prelu":
            continue
        module = hf.ACT2FN[key]
        if key == "xielu":
            # The default module run in float32 (a model loaded in float32):
            # the defaults of our "xielu".
            params = xielu_from_module(hf.ACT2FN[key])
            add("hf_xielu", "xielu", 'ACT2FN["xielu"].float()', hf.ACT2FN[key].float(),
                [params[3], 0.0])
            # The module as built, its parameters in bfloat16: its softplus
            # rounds to bfloat16 as well (alpha_p = alpha_n = 0.80078125).
            m = hf.ACT2FN[key]
            ap = F.softplus(m.alpha_p).float().item()
            an = (m.beta + F.softplus(m.alpha_n)).float().item()
            spec = (f"xielu(alpha_p={fmt32(ap)}, alpha_n={fmt32(an)}, beta={fmt32(m.beta.float().item())}, "
                    f"eps={fmt32(m.eps.float().item())})")
            add("hf_xielu_bf16_params", spec, 'ACT2FN["xielu"] (bfloat16 parameters)', m,
                [m.eps.float().item(), 0.0])
            continue
        add(f"hf_{key}", key, f'ACT2FN["{key}"]', module, hf_kinks.get(key, []))

    # Non-default parameters of transformers' parameterised activations.
    m = hf.XIELUActivation(alpha_p_init=1.25, alpha_n_init=0.9, beta=0.25, eps=-1e-3,
                           dtype=torch.float32)
    params = xielu_from_module(m)
    spec = "xielu(" + ", ".join(f"{n}={fmt32(v)}" for n, v in
                                zip(("alpha_p", "alpha_n", "beta", "eps"), params)) + ")"
    add("hf_xielu_custom", spec, "XIELUActivation(1.25, 0.9, 0.25, -1e-3, dtype=float32)", m,
        [params[3], 0.0])
    add("hf_clipped_gelu_0_6", "clipped_gelu(min_val=0, max_val=6)", "ClippedGELUActivation(0.0, 6.0)",
        hf.ClippedGELUActivation(0.0, 6.0), [6.0, -14.356069, -14.356068])
    laplace = hf.LaplaceActivation()
    add("hf_laplace_0_1", "laplace(mu=0, sigma=1)", "LaplaceActivation()(x, mu=0.0, sigma=1.0)",
        lambda t: laplace(t, mu=0.0, sigma=1.0), [0.0])
    add("hf_quick_gelu", "quick_gelu", "QuickGELUActivation()", hf.QuickGELUActivation())
    return c


def torch_dtype(name):
    return {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[name]


def np_bits(t, dtype):
    """A tensor's values as the bytes of the file: f32, or 16-bit patterns."""
    t = t.detach().contiguous()
    if dtype == "f32":
        return t.numpy().astype("<f4")
    return t.view(torch.int16).numpy().astype("<i2").view("<u2")


def evaluate(fn, x, dy):
    """Forward, autograd derivative (grad_output = 1) and backward (dy)."""
    xt = x.clone().requires_grad_(True)
    y = fn(xt)
    (d,) = torch.autograd.grad(y, xt, torch.ones_like(y), retain_graph=True)
    (b,) = torch.autograd.grad(y, xt, dy)
    return y, d, b


def write(path, header, arrays):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lines = ["wgpu-activations golden v1", "generator: tools/pytorch_golden.py", f"versions: {VERSIONS}"]
    lines += [f"{k}: {v}" for k, v in header.items()]
    blobs = []
    for name, dtype, data in arrays:
        dims = "x".join(str(d) for d in data.shape)
        lines.append(f"array {name} {dtype} {dims}")
        blobs.append(np.ascontiguousarray(data).tobytes())
    lines.append("end")
    with open(path, "wb") as f:
        f.write(("\n".join(lines) + "\n").encode())
        for b in blobs:
            f.write(b)


def write_unary(out, header, dtype, tensors):
    """One unary case's file: x, forward, derivative, grad_output, backward."""
    names = ("x", "forward", "derivative", "grad_output", "backward")
    write(os.path.join(out, dtype, f"{header['case']}.golden"), header,
          [(n, dtype, np_bits(t, dtype)) for n, t in zip(names, tensors)])


def half_inputs(dtype, rng, base):
    """The f32 inputs rounded to the 16-bit type, plus every 64th pattern."""
    td = torch_dtype(dtype)
    from_f32 = torch.from_numpy(np.asarray(base, dtype=np.float32)).to(td)
    patterns = torch.arange(0, 65536, 64, dtype=torch.int32).to(torch.int16).view(td)
    xs = torch.cat([from_f32, patterns])
    bits = xs.view(torch.int16).numpy()
    _, first = np.unique(bits, return_index=True)
    return xs[np.sort(first)]


HALF_HF_CASES = ("hf_quick_gelu", "hf_relu2", "hf_laplace", "hf_gelu_10", "hf_sqrtsoftplus",
                 "hf_xielu_bf16_params")


def unary_files(out):
    rng = np.random.default_rng(20261207)
    common = common_inputs(rng)
    skipped = []
    for name, spec, text, fn, kinks in unary_cases():
        x = dedup(common + neighbours(kinks))
        dy = grad_outputs(np.random.default_rng(zlib.crc32(name.encode())), len(x))
        xt, dyt = torch.from_numpy(x), torch.from_numpy(dy)
        y, d, b = evaluate(fn, xt, dyt)
        header = {"case": name, "kind": "unary", "spec": spec, "pytorch": text, "dtype": "f32"}
        write_unary(out, header, "f32", (xt, y, d, dyt, b))
        # 16-bit: the torch.nn cases, and the transformers ops torch.nn lacks
        # (xIELU as built: a bfloat16 model runs it with bfloat16 parameters).
        if name.startswith("hf_") and name not in HALF_HF_CASES:
            continue
        for dtype in ("f16", "bf16"):
            td = torch_dtype(dtype)
            hx = half_inputs(dtype, rng, x[: len(x) // 2])
            seed = zlib.crc32(f"{name} {dtype}".encode())
            hdy = torch.from_numpy(grad_outputs(np.random.default_rng(seed), len(hx))).to(td)
            try:
                hy, hd, hb = evaluate(fn, hx, hdy)
            except Exception as e:  # a CPU kernel without this dtype
                skipped.append(f"{name} {dtype}: {e}")
                continue
            if hy.dtype != td:
                skipped.append(f"{name} {dtype}: result is {hy.dtype}")
                continue
            half_header = dict(header, dtype=dtype, pytorch=f"{text} on {td} tensors")
            write_unary(out, half_header, dtype, (hx, hy, hd, hdy, hb))
    return skipped


def family_inputs(rng, shape, scale):
    """Random values of `scale`, with specials and kinks sprinkled in."""
    x = rng.uniform(-scale, scale, shape)
    flat = x.reshape(-1)
    sprinkle = f32([0.0, -0.0, 1e-40, -1e-40, 3.0, -3.0, 20.0, -20.0, 100.0, -100.0, 1e-8])
    idx = rng.choice(flat.size, len(sprinkle) * 4, replace=False)
    flat[idx] = np.tile(sprinkle, 4)
    return f32(x)


def gated_files(out):
    rng = np.random.default_rng(7)
    rows, d = 64, 48
    forms = [
        ("glu", "F.glu(x, dim=-1)", lambda a, b: None),
        ("swiglu", "a * F.silu(b)", lambda a, b: a * F.silu(b)),
        ("geglu", "a * F.gelu(b)", lambda a, b: a * F.gelu(b)),
        ("geglu_tanh", "a * F.gelu(b, approximate='tanh')", lambda a, b: a * F.gelu(b, approximate="tanh")),
        ("reglu", "a * F.relu(b)", lambda a, b: a * F.relu(b)),
    ]
    for name, text, form in forms:
        x = family_inputs(rng, (rows, 2 * d), 12.0)
        # Specials in whole columns of the value and the gate halves.
        x[0, :8] = f32([0.0, -0.0, math.inf, -math.inf, math.nan, 1e30, -1e30, 5.0])
        x[1, d:d + 8] = f32([0.0, -0.0, math.inf, -math.inf, math.nan, 1e30, -1e30, 5.0])
        dy = grad_outputs(rng, rows * d).reshape(rows, d)
        xt = torch.from_numpy(x).requires_grad_(True)
        if name == "glu":
            y = F.glu(xt, dim=-1)
        else:
            a, b = xt[:, :d], xt[:, d:]
            y = form(a, b)
        (dx,) = torch.autograd.grad(y, xt, torch.from_numpy(dy))
        header = {"case": name, "kind": "gated", "spec": name, "pytorch": f"{text} (a, b = x.chunk(2, -1))",
                  "dtype": "f32"}
        write(os.path.join(out, "f32", f"gated_{name}.golden"), header, [
            ("x", "f32", x), ("forward", "f32", np_bits(y, "f32")),
            ("grad_output", "f32", dy), ("backward", "f32", np_bits(dx, "f32")),
        ])


def rowwise_files(out):
    rng = np.random.default_rng(11)
    rows, cols = 48, 40
    for name, text, fn in [
        ("softmax", "F.softmax(x, dim=-1)", lambda t: F.softmax(t, dim=-1)),
        ("log_softmax", "F.log_softmax(x, dim=-1)", lambda t: F.log_softmax(t, dim=-1)),
        ("softmin", "F.softmin(x, dim=-1)", lambda t: F.softmin(t, dim=-1)),
    ]:
        scales = np.repeat(f32([1.0, 5.0, 30.0, 100.0, 1e4, 1e30]), rows // 6)[:, None]
        x = f32(rng.uniform(-1.0, 1.0, (rows, cols)) * scales)
        x[0, :] = -math.inf  # all -inf: NaN, as PyTorch
        x[1, 3] = math.inf
        x[2, 5] = math.nan
        x[3, :] = 0.0
        x[4, :4] = f32([F32_MAX, F32_MAX, -F32_MAX, 0.0])
        x[5, 7] = -math.inf
        dy = grad_outputs(rng, rows * cols).reshape(rows, cols)
        xt = torch.from_numpy(x).requires_grad_(True)
        y = fn(xt)
        (dx,) = torch.autograd.grad(y, xt, torch.from_numpy(dy))
        header = {"case": name, "kind": "rowwise", "spec": name, "pytorch": text, "dtype": "f32"}
        write(os.path.join(out, "f32", f"rowwise_{name}.golden"), header, [
            ("x", "f32", x), ("forward", "f32", np_bits(y, "f32")),
            ("grad_output", "f32", dy), ("backward", "f32", np_bits(dx, "f32")),
        ])


def prelu_files(out):
    rng = np.random.default_rng(13)
    cases = [
        ("prelu_channels", "F.prelu(x, weight), weight per channel", (4, 6, 50),
         f32(rng.uniform(-0.5, 0.8, 6))),
        ("prelu_hf", 'ACT2FN["prelu"] (nn.PReLU(): one slope, 0.25)', (3, 5, 40), None),
    ]
    for name, text, shape, weight in cases:
        x = family_inputs(rng, shape, 10.0)
        x[0, 0, :6] = f32([0.0, -0.0, math.inf, -math.inf, math.nan, -1e30])
        dy = grad_outputs(rng, int(np.prod(shape))).reshape(shape)
        xt = torch.from_numpy(x).requires_grad_(True)
        if weight is None:
            module = hf.ACT2FN["prelu"]
            wt = module.weight
            y = module(xt)
        else:
            wt = torch.from_numpy(weight).requires_grad_(True)
            y = F.prelu(xt, wt)
        dx, dw = torch.autograd.grad(y, (xt, wt), torch.from_numpy(dy))
        header = {"case": name, "kind": "prelu", "spec": "prelu", "pytorch": text, "dtype": "f32"}
        write(os.path.join(out, "f32", f"{name}.golden"), header, [
            ("x", "f32", x), ("weight", "f32", np_bits(wt, "f32")),
            ("forward", "f32", np_bits(y, "f32")), ("grad_output", "f32", dy),
            ("backward", "f32", np_bits(dx, "f32")), ("weight_grad", "f32", np_bits(dw, "f32")),
        ])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/golden"
    skipped = unary_files(out)
    gated_files(out)
    rowwise_files(out)
    prelu_files(out)
    for s in skipped:
        print("skipped:", s)
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(out) for f in fs)
    count = sum(len(fs) for _, _, fs in os.walk(out))
    print(f"{count} files, {total / 1e6:.2f} MB in {out} ({VERSIONS})")


if __name__ == "__main__":
    main()
