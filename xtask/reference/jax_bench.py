#!/usr/bin/env python3
"""JAX-on-CPU reference for `cargo xtask bench` (optional; the Rust benchmark runs without it).

The same computations as stepsharp's benchmark, on the same weights and images, which
`cargo xtask bench` exports as .npy files into a folder:

    x.npy       (n, 3072) float64 images (stepsharp's preprocessing); (n, 3, 32, 32) for a CNN
    y.npy       (n,) int64 labels
    param_<i>.npy      float64 parameters, layer by layer: weight, then bias
    names.txt          stepsharp's name of each parameter, in the same order
    direction_<i>.npy  the line-search direction, same layout
    probe_<i>.npy      the Hessian-vector product's probe (and Lanczos start), same layout

`--model mlp`: y = W_L·tanh(…tanh(W_1·x + b_1)…) + b_L. `--model resnet20`: stepsharp-models'
ResNet (3×3 stem conv + BatchNorm + relu; basic blocks relu(BN(conv(relu(BN(conv(x))))) +
shortcut(x)), a strided 1×1 conv + BatchNorm shortcut where shapes change; global average pool;
linear head), BatchNorm with batch statistics (biased variance, ε = 1e-5), NCHW/OIHW layouts
as stepsharp's. `--model vgg11`: stepsharp-models' VGG-11 (eight 3×3 convs, each + BatchNorm
or bias + relu, 2×2 max-pools after the 1st, 2nd, 4th, 6th and 8th; one linear head). Loss: ½·Σ_classes (logits − onehot)² averaged over examples
(stepsharp-models' `Loss::Mse`).

Protocol: one command per line on stdin, `<op> <dtype> <reps>`, answered on stdout by
`<op> <dtype> <median seconds> <value>` (value: the loss, the sum of an HVP's entries, or λ for
lanczos, to check that both sides compute the same thing). Ops:

    value_and_grad  jit(value_and_grad(loss))
    gd_step         jit(w ↦ (loss(w), w − η∇loss(w)))
    trial           jit(t ↦ loss(w + t·d))           (one line-search trial forward)
    hvp             jit(jvp(grad(loss), (w,), (v,)))  (from scratch, as JAX users write it)
    hvp_linearized  the jitted linear map of jax.linearize(grad(loss), w), applied to v
                    (the gradient's linearisation reused, like a kept gradient graph)
    lanczos         20 Lanczos steps with full reorthogonalisation around the jitted hvp
    adam_step       jit(w ↦ loss(w), Adam's moments and update −m̂/(√v̂ + ε), w + η·u)
                    (β₁ 0.9, β₂ 0.999, ε 1e-8, η 3e-4; the moments start at zero)
    hvp_preconditioned  d ⊙ hvp_linearized(d ⊙ v) with d = 1/√(|direction| + 1e-3)

Threads: `--threads N` pins the process to N cores before JAX starts and, for N = 1, turns off
XLA's multi-threaded Eigen. Setup: `python3 -m venv .venv && .venv/bin/pip install jax`.
"""

import argparse
import os
import statistics
import sys
import time

LANCZOS_STEPS = 20


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", help="folder written by `cargo xtask bench`")
    parser.add_argument("--threads", type=int, default=0, help="cores to use (0: all)")
    parser.add_argument("--model", choices=["mlp", "resnet20", "vgg11"], default="mlp")
    args = parser.parse_args()
    if args.threads > 0:
        os.sched_setaffinity(0, range(args.threads))
        if args.threads == 1:
            os.environ["XLA_FLAGS"] = (
                os.environ.get("XLA_FLAGS", "")
                + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
            )

    import jax
    import jax.numpy as jnp
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")

    folder = args.folder
    count = len([f for f in os.listdir(folder) if f.startswith("param_")])
    params64 = [np.load(os.path.join(folder, f"param_{i}.npy")) for i in range(count)]
    d64 = [np.load(os.path.join(folder, f"direction_{i}.npy")) for i in range(count)]
    v64 = [np.load(os.path.join(folder, f"probe_{i}.npy")) for i in range(count)]
    x64 = np.load(os.path.join(folder, "x.npy"))
    labels = np.load(os.path.join(folder, "y.npy")).astype(np.int32)
    classes = params64[-1].shape[0]
    eta = 0.04

    def flat(tree):
        return jnp.concatenate([t.reshape(-1) for t in tree])

    def unflatten(flat_vector, like):
        out, offset = [], 0
        for p in like:
            out.append(flat_vector[offset : offset + p.size].reshape(p.shape))
            offset += p.size
        return out

    with open(os.path.join(folder, "names.txt")) as f:
        # stepsharp's names without the layer counter: "layer003.stem.bn.weight" -> "stem.bn.weight"
        names = [line.strip().split(".", 1)[1] for line in f if line.strip()]

    def mlp(params, x):
        h = x
        layers = len(params) // 2
        for i in range(layers):
            h = h @ params[2 * i].T + params[2 * i + 1]
            if i < layers - 1:
                h = jnp.tanh(h)
        return h

    def conv_bn(p, x, path, stride):
        w = p[path + ".conv.weight"]
        pad = w.shape[2] // 2
        y = jax.lax.conv_general_dilated(
            x, w, (stride, stride), [(pad, pad), (pad, pad)],
            dimension_numbers=("NCHW", "OIHW", "NCHW"))
        if path + ".conv.bias" in p:
            y = y + p[path + ".conv.bias"].reshape(1, -1, 1, 1)
        if path + ".bn.weight" in p:
            mean = y.mean(axis=(0, 2, 3), keepdims=True)
            var = ((y - mean) ** 2).mean(axis=(0, 2, 3), keepdims=True)
            scale = p[path + ".bn.weight"].reshape(1, -1, 1, 1) / jnp.sqrt(var + 1e-5)
            y = (y - mean) * scale + p[path + ".bn.bias"].reshape(1, -1, 1, 1)
        return y

    def resnet(params, x):
        p = dict(zip(names, params))
        h = jax.nn.relu(conv_bn(p, x, "stem", 1))
        stage = 1
        while f"stage{stage}.block0.first.conv.weight" in p:
            block = 0
            while f"stage{stage}.block{block}.first.conv.weight" in p:
                path = f"stage{stage}.block{block}"
                stride = 2 if stage > 1 and block == 0 else 1
                y = jax.nn.relu(conv_bn(p, h, path + ".first", stride))
                y = conv_bn(p, y, path + ".second", 1)
                shortcut = path + ".shortcut"
                s = conv_bn(p, h, shortcut, stride) if shortcut + ".conv.weight" in p else h
                h = jax.nn.relu(y + s)
                block += 1
            stage += 1
        return h.mean(axis=(2, 3)) @ p["head.weight"].T + p["head.bias"]

    def vgg(params, x):
        # The conv layers in order ("layer007.conv.weight" -> "conv.weight" repeats, so go by
        # position); a 2x2 max-pool after the layers of stepsharp's VGG11_PLAN marked below.
        p = list(zip(names, params))
        pool_after = {0, 1, 3, 5, 7}
        h, conv, i = x, 0, 0
        while p[i][0] == "conv.weight":
            w = p[i][1]
            i += 1
            y = jax.lax.conv_general_dilated(
                h, w, (1, 1), [(1, 1), (1, 1)], dimension_numbers=("NCHW", "OIHW", "NCHW"))
            if p[i][0] == "conv.bias":
                y = y + p[i][1].reshape(1, -1, 1, 1)
                i += 1
            if p[i][0] == "bn.weight":
                mean = y.mean(axis=(0, 2, 3), keepdims=True)
                var = ((y - mean) ** 2).mean(axis=(0, 2, 3), keepdims=True)
                scale = p[i][1].reshape(1, -1, 1, 1) / jnp.sqrt(var + 1e-5)
                y = (y - mean) * scale + p[i + 1][1].reshape(1, -1, 1, 1)
                i += 2
            h = jax.nn.relu(y)
            if conv in pool_after:
                h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
            conv += 1
        return h.reshape(h.shape[0], -1) @ p[i][1].T + p[i + 1][1]

    network = {"mlp": mlp, "resnet20": resnet, "vgg11": vgg}[args.model]

    def loss(params, x, onehot):
        return 0.5 * jnp.sum((network(params, x) - onehot) ** 2) / x.shape[0]

    value_and_grad = jax.jit(jax.value_and_grad(loss))

    @jax.jit
    def gd_step(params, x, onehot):
        value, grads = jax.value_and_grad(loss)(params, x, onehot)
        return value, [p - eta * g for p, g in zip(params, grads)]

    @jax.jit
    def adam_step(params, m, v, x, onehot):
        value, grads = jax.value_and_grad(loss)(params, x, onehot)
        b1, b2, eps, lr, count = 0.9, 0.999, 1e-8, 3e-4, 1
        m = [b1 * a + (1 - b1) * g for a, g in zip(m, grads)]
        v = [b2 * a + (1 - b2) * g * g for a, g in zip(v, grads)]
        c1, c2 = 1 - b1**count, 1 - b2**count
        updates = [-(a / c1) / (jnp.sqrt(b / c2) + eps) for a, b in zip(m, v)]
        return value, [p + lr * u for p, u in zip(params, updates)], m, v

    @jax.jit
    def trial(params, d, t, x, onehot):
        return loss([p + t * q for p, q in zip(params, d)], x, onehot)

    @jax.jit
    def hvp(params, v, x, onehot):
        return jax.jvp(lambda w: jax.grad(loss)(w, x, onehot), (params,), (v,))[1]

    def hvp_flat(params, q, x, onehot):
        tangent = unflatten(q, params)
        return flat(jax.jvp(lambda w: jax.grad(loss)(w, x, onehot), (params,), (tangent,))[1])

    @jax.jit
    def lanczos_recurrence(params, v, x, onehot):
        q0 = flat(v)
        basis = jnp.zeros((LANCZOS_STEPS + 1, q0.size), q0.dtype).at[0].set(q0 / jnp.linalg.norm(q0))
        coefficients = jnp.zeros((2, LANCZOS_STEPS), q0.dtype)

        def body(i, state):
            basis, coefficients = state
            q = basis[i]
            w = hvp_flat(params, q, x, onehot)
            alpha = jnp.dot(w, q)
            w = w - basis.T @ (basis @ w)  # full reorthogonalisation (unfilled rows are 0)
            beta = jnp.linalg.norm(w)
            basis = basis.at[i + 1].set(w / beta)
            return basis, coefficients.at[0, i].set(alpha).at[1, i].set(beta)

        return jax.lax.fori_loop(0, LANCZOS_STEPS, body, (basis, coefficients))[1]

    def lanczos(params, v, x, onehot):
        alphas, betas = np.asarray(lanczos_recurrence(params, v, x, onehot), np.float64)
        tridiagonal = np.diag(alphas) + np.diag(betas[:-1], 1) + np.diag(betas[:-1], -1)
        return float(np.linalg.eigvalsh(tridiagonal)[-1])

    cases = {}
    for name, dtype in (("f32", jnp.float32), ("f64", jnp.float64)):
        params = [jnp.asarray(p, dtype) for p in params64]
        x = jnp.asarray(x64, dtype)
        onehot = jax.nn.one_hot(labels, classes, dtype=dtype)
        d = [jnp.asarray(q, dtype) for q in d64]
        v = [jnp.asarray(q, dtype) for q in v64]
        linearized = jax.jit(jax.linearize(lambda w, x=x, o=onehot: jax.grad(loss)(w, x, o), params)[1])
        t = jnp.asarray(0.01, dtype)
        zeros = [jnp.zeros_like(p) for p in params]
        scaling = [1.0 / jnp.sqrt(jnp.abs(q) + 1e-3) for q in d]
        preconditioned = jax.jit(
            lambda v, f=linearized, s=scaling: [a * b for a, b in zip(s, f([a * b for a, b in zip(s, v)]))]
        )
        cases[name] = {
            "value_and_grad": lambda p=params, x=x, o=onehot: value_and_grad(p, x, o)[0],
            "gd_step": lambda p=params, x=x, o=onehot: gd_step(p, x, o)[0],
            "trial": lambda p=params, d=d, t=t, x=x, o=onehot: trial(p, d, t, x, o),
            "hvp": lambda p=params, v=v, x=x, o=onehot: flat(hvp(p, v, x, o)).sum(),
            "hvp_linearized": lambda v=v, f=linearized: flat(f(v)).sum(),
            "lanczos": lambda p=params, v=v, x=x, o=onehot: lanczos(p, v, x, o),
            "adam_step": lambda p=params, z=zeros, x=x, o=onehot: adam_step(p, z, z, x, o)[0],
            "hvp_preconditioned": lambda v=v, f=preconditioned: flat(f(v)).sum(),
        }

    def run(op, dtype, reps):
        f = cases[dtype][op]
        value = jax.block_until_ready(f())  # compile / warm up
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            value = jax.block_until_ready(f())
            times.append(time.perf_counter() - start)
        return statistics.median(times), float(value)

    print("ready", jax.__version__, flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        op, dtype, reps = parts[0], parts[1], int(parts[2])
        seconds, value = run(op, dtype, reps)
        print(op, dtype, f"{seconds:.6e}", f"{value:.17e}", flush=True)


if __name__ == "__main__":
    main()
