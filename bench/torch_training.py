"""The unrolled-GD training step of bench/training.ts in PyTorch; the reference for the 'unrolled-gd' objective.

One training step on the BibTeX-sized PICNN of bench/torch_models.py (the equations of src/models/picnn.ts), as
src/learning/objectives/unrolledGdObjective.ts + src/learning/fit.ts do it:

    ctx = model.context(x, training=True)          # batch norm with batch statistics (and moving-average updates)
    y, v = 0.5, 0                                  # y0 = 0.5, the box centre
    for t in range(30):                            # the paper's BibTeX setting: lr 0.1, momentum 0.3
        g = autograd.grad(f(x, y).sum(), y, create_graph=True)
        v_new = mu v - lr g;  y = y - mu v + (1 + mu) v_new;  v = v_new
    loss = mean((y_30 - y*)^2);  loss.backward();  Adam step (lr 1e-3);  W^(z) <- max(W^(z), 0)

Run by bench/training.ts with Debian's interpreter:

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_training.py --serve --threads 1 --dir DIR

--dir DIR: DIR/model.json (config, tensor offsets) and DIR/model.bin (float32: the TypeScript model's parameters
by name, then the batches __x0, __y0, __x1, ...), written by bench/training.ts: the same initial weights and the
same batches as our side. Without --dir: a fresh torch_models.bibtex_picnn(seed=1) and random sparse binary
batches (x ~4 % ones, y ~1.5 %).

--serve: JSON lines on stdin, one answer line each:
  {"check": true}             one training step on batch 0 (Adam update included); answers its loss and the norm of
                              the θ-gradient, to compare with the TypeScript side's first step on the same weights
  {"warmup": W, "warmMs": M, "reps": R}    W untimed steps, more for M ms, then R timed ones: {"times": [ms], "cpuTimes": [ms], "losses": [...]}
  {"quit": true}              stop
The first line written is the environment. Without --serve: --warmup / --reps steps, one JSON document on stdout.
Batches are used in turn (step k trains on batch k mod the number of batches).
"""
import os
import statistics
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_common  # noqa: E402
import torch_models  # noqa: E402


def load(args):
    """The model and the batches: from DIR (the TypeScript side's weights and data) or fresh."""
    if args.dir:
        man, values = torch_common.load_bundle(args.dir, 'model')
        c = man['config']
        model = torch_models.PICNN(c['xDim'], c['yDim'], c['hidden'], c['uHidden'], batch_norm=c['batchNorm'], seed=1)
        model.load_tfjs(values)
        n, nb = man['batch'], man['batches']
        batches = [(values[f'__x{i}'].reshape(n, c['xDim']), values[f'__y{i}'].reshape(n, c['yDim'])) for i in range(nb)]
        return model, batches, c['yDim']
    model = torch_models.bibtex_picnn(seed=1)
    gen = torch.Generator().manual_seed(2)
    batches = [((torch.rand(128, 1836, generator=gen) < 0.04).float(), (torch.rand(128, 159, generator=gen) < 0.015).float())
               for _ in range(4)]
    return model, batches, 159


class Trainer:
    def __init__(self, model, batches, y_dim, steps, lr, mu, adam_lr):
        self.model, self.batches, self.y_dim = model, batches, y_dim
        self.steps, self.lr, self.mu = steps, lr, mu
        self.params = list(model.parameters())
        self.convex = [p for k, p in model.params.items() if k.endswith('_Wz')]  # W^(z)_i (not W^(zu)_i)
        self.opt = torch.optim.Adam(self.params, lr=adam_lr)
        self.k = 0

    def step(self, grad_norm=False):
        x, target = self.batches[self.k % len(self.batches)]
        self.k += 1
        model = self.model
        model.train()
        ctx = model.context(x, training=True)
        y = torch.full((x.shape[0], self.y_dim), 0.5, requires_grad=True)
        v = torch.zeros_like(y)
        for _ in range(self.steps):
            e = model.energy_from_context(ctx, y).sum()
            (g,) = torch.autograd.grad(e, [y], create_graph=True)
            v_new = self.mu * v - self.lr * g
            y = y - self.mu * v + (1 + self.mu) * v_new
            v = v_new
        loss = F.mse_loss(y, target)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = None
        if grad_norm:
            with torch.no_grad():
                norm = float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in self.params if p.grad is not None)))
        self.opt.step()
        with torch.no_grad():
            for p in self.convex:
                p.clamp_(min=0)
        return float(loss.detach()), norm

    def timed(self, warmup, reps, warm_ms=0):
        times, cpu, results = torch_common.time_runs(self.step, warmup, reps, warm_ms)
        return {'times': times, 'cpuTimes': cpu, 'losses': [loss for loss, _ in results]}


def main():
    ap = torch_common.argument_parser(__doc__, warmup=2, reps=5)
    ap.add_argument('--dir')
    ap.add_argument('--serve', action='store_true')
    torch_common.add_gd_arguments(ap)
    ap.add_argument('--adam-lr', type=float, default=1e-3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, batches, y_dim = load(args)
    trainer = Trainer(model, batches, y_dim, args.steps, args.lr, args.momentum, args.adam_lr)
    torch_common.load_blas()
    env = {**torch_common.environment(args.threads), 'parameters': model.num_parameters(), 'batch': batches[0][0].shape[0]}
    if not args.serve:
        r = trainer.timed(args.warmup, args.reps)
        med = statistics.median(r['times'])
        torch_common.print_json({**r, 'medianMs': med, 'examplesPerSecond': env['batch'] / med * 1000, 'env': env})
        return

    def handle(req):
        if req.get('check'):
            loss, norm = trainer.step(grad_norm=True)
            return {'loss': loss, 'gradNorm': norm}
        return trainer.timed(req.get('warmup', 0), req.get('reps', 0), req.get('warmMs', 0))

    torch_common.serve(env, handle)


if __name__ == '__main__':
    main()
