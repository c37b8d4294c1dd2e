"""Time the PyTorch versions of the benchmarked models; print one JSON document on stdout.

Run by bench/run.ts with Debian's interpreter (/usr/bin/python3, python3-torch, libopenblas0-pthread):

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_bench.py --threads 1

The thread count of OpenBLAS (matmuls) is fixed by OPENBLAS_NUM_THREADS before the library loads; --threads sets
torch's intra-op pool (convolutions via oneDNN, element-wise ops). Each case: warm-up runs, then the median of
--reps timed runs (time.perf_counter; CPU tensors are computed synchronously).

Cases (per model), the same as bench/run.ts:
  forward    eval mode, no autograd: f(x, y) for the batch
  fwdBwd     training mode (batch statistics): ∇_θ and ∇_y of sum f in one backward pass
  gradY      eval mode: ∇_y of sum f (what an inner optimizer over y needs)
  secondOrder training mode: ∇_θ (∇_y f · v), via autograd.grad(create_graph=True)

--gemm "m,k,n;...": instead, print {"gflops": [...]}: torch.mm on uniform [m,k]·[k,n] float32, 2mkn / median
time (OpenBLAS through PyTorch, for bench/gemm.ts).

--serve: answer timing requests on stdin (used by bench/run.ts to interleave PyTorch and tfjs runs).
--check DIR: instead of timing, load weights and inputs exported by bench/run.ts from DIR and compare energies,
∇_y and gradient norms with the TypeScript results stored there (a check that both sides compute the same
function).
--smoke: the toy-size models of `npm run bench -- --smoke` (a plumbing check).
"""
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_common  # noqa: E402
import torch_models  # noqa: E402

MODELS = {
    'picnn': {'build': torch_models.bibtex_picnn, 'batch': 128, 'xDim': 1836, 'yDim': 159},
    'convPicnn': {'build': torch_models.olivetti_conv_picnn, 'batch': 70, 'xDim': 2048, 'yDim': 2048},
}
# The SMOKE_SPECS of bench/run.ts.
SMOKE_MODELS = {
    'picnn': {'build': lambda: torch_models.PICNN(12, 5, [8, 5], [8, 5], batch_norm=True), 'batch': 4, 'xDim': 12, 'yDim': 5},
    'convPicnn': {
        'build': lambda: torch_models.ConvPICNN([16, 8, 1], [16, 8, 1], conv=[(4, 3, 2), (4, 3, 1)], fc_hidden=(16,), abs_scale=0.5),
        'batch': 3, 'xDim': 128, 'yDim': 128,
    },
}


def time_case(fn, warmup, reps):
    times, _, _ = torch_common.time_runs(fn, warmup, reps)
    return {'medianMs': statistics.median(times), 'minMs': min(times), 'maxMs': max(times), 'reps': reps}


def cases(model, x, y, v):
    params = list(model.parameters())

    def forward():
        with torch.no_grad():
            model.energy(x, y, training=False)

    def fwd_bwd():
        yy = y.detach().requires_grad_(True)
        e = model.energy(x, yy, training=True).sum()
        torch.autograd.grad(e, params + [yy])

    def grad_y():
        yy = y.detach().requires_grad_(True)
        e = model.energy(x, yy, training=False).sum()
        torch.autograd.grad(e, [yy])

    def second_order():
        yy = y.detach().requires_grad_(True)
        ctx = model.context(x, training=True)
        e = model.energy_from_context(ctx, yy).sum()
        (gy,) = torch.autograd.grad(e, [yy], create_graph=True)
        torch.autograd.grad((gy * v).sum(), params, allow_unused=True)

    return {'forward': forward, 'fwdBwd': fwd_bwd, 'gradY': grad_y, 'secondOrder': second_order}


def run_timing(args, models):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = {**torch_common.environment(args.threads), 'models': {}}
    only = set(args.models.split(',')) if args.models else set(models)
    for name, spec in models.items():
        if name not in only:
            continue
        model = spec['build']()
        b = spec['batch']
        x = torch.rand(b, spec['xDim'])
        y = torch.rand(b, spec['yDim'])
        v = torch.randn(b, spec['yDim'])
        res = {'parameters': model.num_parameters(), 'batch': b, 'cases': {}}
        for case, fn in cases(model, x, y, v).items():
            res['cases'][case] = time_case(fn, args.warmup, args.reps)
        out['models'][name] = res
    out['blasLibraries'] = torch_common.loaded_blas()  # after the first matmul, the BLAS is surely loaded
    return out


def serve(args, models):
    """Line protocol used by bench/run.ts (torch_common.serve), so that it can interleave its own runs with ours
    case by case. Requests {"model", "case", "warmup", "warmMs", "reps"} are answered {"times": [ms, ...], "cpuTimes": [ms, ...],
    "parameters": n} (wall-clock and process CPU time per run). The environment is reported after a BLAS warm-up.
    """
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    torch_common.load_blas()
    built = {}

    def handle(req):
        name = req['model']
        if name not in built:
            spec = models[name]
            model = spec['build']()
            b = spec['batch']
            x, y, v = torch.rand(b, spec['xDim']), torch.rand(b, spec['yDim']), torch.randn(b, spec['yDim'])
            built[name] = (model, cases(model, x, y, v))
        model, fns = built[name]
        times, cpu, _ = torch_common.time_runs(fns[req['case']], req.get('warmup', 0), req.get('reps', 0), req.get('warmMs', 0))
        return {'times': times, 'cpuTimes': cpu, 'parameters': model.num_parameters()}

    torch_common.serve(torch_common.environment(args.threads), handle)


def run_check(args, models):
    """Compare with the TypeScript side: DIR/<model>.json (manifest + results) and DIR/<model>.bin (float32)."""
    torch.set_num_threads(args.threads)
    report = {}
    for name, spec in models.items():
        if not os.path.exists(os.path.join(args.check, f'{name}.json')):
            continue
        man, tensors = torch_common.load_bundle(args.check, name)
        model = spec['build']()
        model.load_tfjs(tensors)
        n = man['batch']
        x = tensors['__x'].reshape(n, -1)
        y = tensors['__y'].reshape(n, -1)
        v = tensors['__v'].reshape(n, -1)
        ts = {k: tensors[f'__{k}'] for k in ('energyEval', 'energyTrain', 'gradYEval')}

        def rel(a, b):
            return float((a - b).abs().max() / b.abs().max().clamp_min(1e-12))

        with torch.no_grad():
            e_eval = model.energy(x, y, training=False)
        # Training mode last: it updates the moving averages.
        yy = y.clone().requires_grad_(True)
        e = model.energy(x, yy, training=False)
        (gy,) = torch.autograd.grad(e.sum(), [yy])
        params = list(model.parameters())
        yy2 = y.clone().requires_grad_(True)
        ctx = model.context(x, training=True)
        e_train = model.energy_from_context(ctx, yy2)
        g_theta = torch.autograd.grad(e_train.sum(), params, retain_graph=True)
        theta_norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in g_theta)))
        (gy2,) = torch.autograd.grad(e_train.sum(), [yy2], create_graph=True)
        g2 = torch.autograd.grad((gy2 * v).sum(), params, allow_unused=True)
        second_norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in g2 if g is not None)))
        report[name] = {
            'energyEvalRelErr': rel(e_eval, ts['energyEval']),
            'energyTrainRelErr': rel(e_train.detach(), ts['energyTrain']),
            'gradYRelErr': rel(gy, ts['gradYEval'].reshape(gy.shape)),
            'thetaGradNormRelErr': abs(theta_norm - man['thetaGradNorm']) / max(man['thetaGradNorm'], 1e-12),
            'secondOrderNormRelErr': abs(second_norm - man['secondOrderNorm']) / max(man['secondOrderNorm'], 1e-12),
        }
    return report


def run_gemm(args):
    torch.set_num_threads(args.threads)
    out = []
    for spec in args.gemm.split(';'):
        m, k, n = (int(v) for v in spec.split(','))
        a, b = torch.rand(m, k), torch.rand(k, n)
        for _ in range(3):
            torch.mm(a, b)
        times = []
        start = time.perf_counter()
        while len(times) < 10 or time.perf_counter() - start < 0.3:
            t0 = time.perf_counter()
            torch.mm(a, b)
            times.append(time.perf_counter() - t0)
        out.append(round(2 * m * k * n / statistics.median(times) / 1e9, 1))
    return {'gflops': out, **torch_common.environment(args.threads)}


def main():
    ap = torch_common.argument_parser(__doc__, warmup=3, reps=20)
    ap.add_argument('--models', default='', help='comma-separated subset of: ' + ', '.join(MODELS))
    ap.add_argument('--check', default=None, help='directory exported by bench/run.ts: compare instead of timing')
    ap.add_argument('--serve', action='store_true', help='line protocol for bench/run.ts (see serve())')
    ap.add_argument('--gemm', default=None, help='"m,k,n;...": GFLOP/s of torch.mm on these shapes')
    ap.add_argument('--smoke', action='store_true', help='the toy-size models of `npm run bench -- --smoke`')
    args = ap.parse_args()
    models = SMOKE_MODELS if args.smoke else MODELS
    if args.serve:
        serve(args, models)
        return
    if args.gemm:
        result = run_gemm(args)
    else:
        result = run_check(args, models) if args.check else run_timing(args, models)
    torch_common.print_json(result)


if __name__ == '__main__':
    main()
