"""The GD inference loop of bench/inference.ts in PyTorch: projected momentum gradient descent over y (§3.2, the
update of src/inference/gd.ts), on the PICNN of bench/torch_models.py (the equations of src/models/picnn.ts) loaded
with the TypeScript model's weights; prints one JSON document on stdout.

Run by bench/inference.ts with Debian's interpreter, one thread:

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_inference.py --dir DIR

DIR holds `model.json` (config and tensor offsets) and `model.bin` (float32: the TypeScript parameters by name, x,
and the TypeScript energies at y = 0.5 for the equation check). The loop, from y0 = 0.5 (the box centre), as ours:

    ctx = model.context(x)                    # x-only part, once (eval mode: batch norm with moving averages)
    for t = 0 .. steps:                       # steps + 1 evaluations; the last one only scores the final iterate
        f, g = f(x, y), ∇_y f (autograd)      # batched over the rows
        keep the best iterate per row
        v_new = μ v − lr g;  y = clamp(y − μ v + (1 + μ) v_new, 0, 1);  v = v_new

Timing: --warmup runs, then the median of --reps runs of the whole loop (context included), time.perf_counter.
"""
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_common  # noqa: E402
import torch_models  # noqa: E402


def gd_solve(model, x, steps, lr, mu):
    n, y_dim = x.shape[0], model.y_dim
    with torch.no_grad():
        ctx = model.context(x, training=False)
    y = torch.full((n, y_dim), 0.5)
    v = torch.zeros_like(y)
    best = y.clone()
    best_e = torch.full((n,), float('inf'))
    for t in range(steps + 1):
        yy = y.detach().requires_grad_(True)
        e = model.energy_from_context(ctx, yy)
        (g,) = torch.autograd.grad(e.sum(), [yy])
        with torch.no_grad():
            better = e < best_e
            best_e = torch.where(better, e.detach(), best_e)
            best[better] = y[better]
            if t == steps:
                break
            v_new = mu * v - lr * g
            y = (y - mu * v + (1 + mu) * v_new).clamp_(0.0, 1.0)
            v = v_new
    return best, best_e


def main():
    ap = torch_common.argument_parser(__doc__, warmup=2, reps=5)
    ap.add_argument('--dir', required=True)
    torch_common.add_gd_arguments(ap)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    man, values = torch_common.load_bundle(args.dir, 'model')
    c = man['config']
    model = torch_models.PICNN(c['xDim'], c['yDim'], c['hidden'], c['uHidden'], batch_norm=c['batchNorm'])
    model.y_dim = c['yDim']
    model.load_tfjs(values)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)  # gradients wrt y only, as an inference loop needs
    n = man['batch']
    x = values['__x'].reshape(n, c['xDim'])

    # Equation check: the energy at y = 0.5 against the TypeScript model's.
    with torch.no_grad():
        e_half = model.energy(x, torch.full((n, c['yDim']), 0.5), training=False)
    ts_half = values['__energyHalf']
    check = float((e_half - ts_half).abs().max() / ts_half.abs().max().clamp_min(1e-12))

    times, _, results = torch_common.time_runs(lambda: gd_solve(model, x, args.steps, args.lr, args.momentum), args.warmup, args.reps)
    best_e = results[-1][1]
    median = statistics.median(times)
    torch_common.print_json({
        'steps': args.steps, 'lr': args.lr, 'momentum': args.momentum, 'batch': n,
        'timesMs': times, 'medianMs': median, 'msPerStep': median / args.steps,
        'bestEnergy': [float(v) for v in best_e],
        'energyCheckRelErr': check,
        'env': torch_common.environment(args.threads),
    })


if __name__ == '__main__':
    main()
