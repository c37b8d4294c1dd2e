"""Time one update step and one action choice of DDPG, NAF and ICNN Q-learning in PyTorch; print one JSON document.

Run by bench/rl.ts with Debian's interpreter (/usr/bin/python3, python3-torch, libopenblas0-pthread):

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_rl.py --config '{...}'

The networks and steps follow src/rl/agents/*.ts (which follow the authors' RL/src code):
  ddpg   actor s→l1→l2→tanh(a), critic (s→l1, [h1, a]→l2→1); critic Adam step, actor Adam step, soft updates
  naf    V, mu, L networks (s→l1→l2→out); Q = V + A, A = -1/2 |L^T (a - mu)|^2; Adam step, soft update of V
  icnn   PICNN -Q(s, a) convex in a (u-path l1, l2; z-path l1, l2, 1 with leaky ReLU and gates); the TD target's
         a' = argmin of the target net's -Q - H((a+1)/2) by `target_iterations` Adam steps (lr inner_lr) on the whole
         minibatch, from a = 0; clipped TD loss, Adam step, projection, soft update
  act    one greedy action for one observation (DDPG/NAF: a forward pass; ICNN: `act_iterations` Adam steps)
Each case: warm-up runs, then the median of --reps timed runs (time.perf_counter).
"""
import json
import os
import statistics
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_common  # noqa: E402


def mlp(i, h1, h2, o):
    return torch.nn.Sequential(torch.nn.Linear(i, h1), torch.nn.ReLU(), torch.nn.Linear(h1, h2), torch.nn.ReLU(), torch.nn.Linear(h2, o))


def soft_update(target, source, tau):
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters()):
            t.mul_(1 - tau).add_(s, alpha=tau)


class DDPG:
    def __init__(self, o, a, h, c):
        self.actor = mlp(o, h[0], h[1], a)
        self.c1 = torch.nn.Linear(o, h[0])
        self.c2 = torch.nn.Linear(h[0] + a, h[1])
        self.c3 = torch.nn.Linear(h[1], 1)
        self.critic = torch.nn.ModuleList([self.c1, self.c2, self.c3])
        import copy
        self.actor_t = copy.deepcopy(self.actor)
        self.critic_t = copy.deepcopy(self.critic)
        self.opt_a = torch.optim.Adam(self.actor.parameters(), lr=1e-4, eps=1e-4)
        self.opt_c = torch.optim.Adam(self.critic.parameters(), lr=1e-3, eps=1e-4)
        self.c = c

    @staticmethod
    def q(critic, s, a):
        h1 = F.relu(critic[0](s))
        h2 = F.relu(critic[1](torch.cat([h1, a], 1)))
        return critic[2](h2).squeeze(1)

    def act(self, s):
        with torch.no_grad():
            return torch.tanh(self.actor(s))

    def update(self, s, a, r, s2, d):
        with torch.no_grad():
            y = r + 0.99 * (1 - d) * self.q(self.critic_t, s2, torch.tanh(self.actor_t(s2)))
        loss = ((self.q(self.critic, s, a) - y) ** 2).mean() + 1e-4 * 0.5 * sum((p ** 2).sum() for p in self.critic.parameters())
        self.opt_c.zero_grad()
        loss.backward()
        self.opt_c.step()
        la = -self.q(self.critic, s, torch.tanh(self.actor(s))).mean()
        self.opt_a.zero_grad()
        la.backward()
        self.opt_a.step()
        soft_update(self.critic_t, self.critic, 0.01)
        soft_update(self.actor_t, self.actor, 0.01)


class NAF:
    def __init__(self, o, a, h, c):
        self.V = mlp(o, h[0], h[1], 1)
        self.mu = mlp(o, h[0], h[1], a)
        self.L = mlp(o, h[0], h[1], a * a)
        import copy
        self.Vt = copy.deepcopy(self.V)
        params = list(self.V.parameters()) + list(self.mu.parameters()) + list(self.L.parameters())
        self.params = params
        self.opt = torch.optim.Adam(params, lr=1e-3, eps=1e-4)
        self.a = a

    def act(self, s):
        with torch.no_grad():
            return torch.tanh(self.mu(s))

    def update(self, s, a, r, s2, d):
        n, k = s.shape[0], self.a
        with torch.no_grad():
            y = r + 0.99 * (1 - d) * self.Vt(s2).squeeze(1)
        raw = self.L(s).view(n, k, k)
        L = torch.tril(raw, -1) + torch.diag_embed(torch.exp(torch.diagonal(raw, dim1=1, dim2=2)))
        delta = (a - torch.tanh(self.mu(s))).unsqueeze(1)
        h = torch.bmm(delta, L).squeeze(1)
        q = self.V(s).squeeze(1) - 0.5 * (h ** 2).sum(1)
        loss = ((q - y) ** 2).mean() + 1e-4 * 0.5 * sum((p ** 2).sum() for p in self.params)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        soft_update(self.Vt, self.V, 0.01)


class PICNN(torch.nn.Module):
    """f(x, y) convex in y; the layout of src/models/picnn.ts (u-path h, z-path h + [1], gates, leaky ReLU)."""

    def __init__(self, xd, yd, h, slope=0.01):
        super().__init__()
        self.slope = slope
        zw = list(h) + [1]
        uw = [xd] + list(h)
        self.u = torch.nn.ModuleList([torch.nn.Linear(uw[i], uw[i + 1]) for i in range(len(h))])
        self.Wzu = torch.nn.ModuleList([torch.nn.Linear(uw[i], zw[i - 1]) for i in range(1, len(zw))])
        self.Wz = torch.nn.ParameterList([torch.nn.Parameter(torch.rand(zw[i - 1], zw[i]) / zw[i - 1] ** 0.5) for i in range(1, len(zw))])
        self.Wyu = torch.nn.ModuleList([torch.nn.Linear(uw[i], yd) for i in range(len(zw))])
        self.Wy = torch.nn.ModuleList([torch.nn.Linear(yd, zw[i], bias=False) for i in range(len(zw))])
        self.Wu = torch.nn.ModuleList([torch.nn.Linear(uw[i], zw[i]) for i in range(len(zw))])

    def context(self, x):
        us = [x]
        u = x
        for i, layer in enumerate(self.u):
            u = layer(u)
            if i < len(self.u) - 1:
                u = F.relu(u)
            us.append(u)
        zg = [F.relu(self.Wzu[i - 1](us[i])) for i in range(1, len(self.Wu))]
        yg = [self.Wyu[i](us[i]) for i in range(len(self.Wu))]
        ut = [self.Wu[i](us[i]) for i in range(len(self.Wu))]
        return zg, yg, ut

    def energy(self, ctx, y):
        zg, yg, ut = ctx
        z = None
        last = len(ut) - 1
        for i in range(last + 1):
            s = self.Wy[i](y * yg[i]) + ut[i]
            if z is not None:
                s = s + (z * zg[i - 1]) @ self.Wz[i - 1]
            z = s if i == last else F.leaky_relu(s, self.slope)
        return z.squeeze(1)

    def project(self):
        with torch.no_grad():
            for w in self.Wz:
                w.clamp_(min=0)


def entropy(a):
    p = ((a + 1) / 2).clamp(1e-4, 1 - 1e-4)
    return -(p * torch.log(p) + (1 - p) * torch.log(1 - p)).sum(1)


def inner_adam(net, s, d, iterations, lr, authors=False):
    """argmin_a f(s, a) - H((a+1)/2) over [-1, 1]^d by Adam from 0, best iterate kept (as argmin 'gd'/'adam');
    authors=True: no second-moment bias correction, iterates clipped to +-(1 - 1e-8) (src/rl/agents/innerAdam.ts)."""
    with torch.no_grad():
        ctx = net.context(s)
    a = torch.zeros(s.shape[0], d, requires_grad=True)
    m = torch.zeros_like(a)
    v = torch.zeros_like(a)
    best = a.detach().clone()
    best_f = torch.full((s.shape[0],), float('inf'))
    for t in range(iterations + 1):
        obj = net.energy(ctx, a) - entropy(a)
        g, = torch.autograd.grad(obj.sum(), a)
        with torch.no_grad():
            better = obj < best_f
            best[better] = a[better]
            best_f = torch.where(better, obj, best_f)
            if t == iterations:
                break
            m.mul_(0.9).add_(g, alpha=0.1)
            v.mul_(0.999).addcmul_(g, g, value=0.001)
            mh = m / (1 - 0.9 ** (t + 1))
            vh = v if authors else v / (1 - 0.999 ** (t + 1))
            a -= lr * mh / (vh.sqrt() + 1e-8)
            a.clamp_(-1 + 1e-8, 1 - 1e-8) if authors else a.clamp_(-1, 1)
    return best, best_f


class ICNN:
    def __init__(self, o, a, h, c):
        import copy
        self.net = PICNN(o, a, h)
        self.target = copy.deepcopy(self.net)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.a = a
        self.c = c

    def act(self, s):
        return inner_adam(self.net, s, self.a, self.c['act_iterations'], self.c['inner_lr'], self.c.get('authors', False))[0]

    def update(self, s, a, r, s2, d):
        _, f2 = inner_adam(self.target, s2, self.a, self.c['target_iterations'], self.c['inner_lr'], self.c.get('authors', False))
        y = r + 0.99 * (1 - d) * (-f2)
        q = -self.net.energy(self.net.context(s), a) + entropy(a)
        qs = q.detach()
        y = torch.minimum(torch.maximum(y, qs - 1), qs + 1)
        loss = ((q - y) ** 2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.net.project()
        soft_update(self.target, self.net, 0.01)


AGENTS = {'ddpg': DDPG, 'naf': NAF, 'icnn': ICNN}


def time_case(fn, warmup, reps, warm_ms):
    times, _, _ = torch_common.time_runs(fn, warmup, reps, warm_ms)
    return {'median': statistics.median(times), 'min': min(times), 'max': max(times), 'runs': times}


def main():
    p = torch_common.argument_parser(__doc__)
    p.add_argument('--config', required=True, help='JSON: {agents, obs, act, hidden, batch, act_iterations, target_iterations, inner_lr, warmup, warm_ms, reps, act_reps}')
    args = p.parse_args()
    c = json.loads(args.config)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'cases': {}}
    o, a, n = c['obs'], c['act'], c['batch']
    s, act = torch.randn(n, o), torch.rand(n, a) * 2 - 1
    r, s2, d = torch.randn(n), torch.randn(n, o), (torch.rand(n) < 0.05).float()
    one = torch.randn(1, o)
    for kind in c['agents']:
        agent = AGENTS[kind](o, a, c['hidden'], c)
        out['cases'][kind] = {
            'update': time_case(lambda: agent.update(s, act, r, s2, d), c['warmup'], c['reps'], c['warm_ms']),
            'act': time_case(lambda: agent.act(one), c['warmup'], c['act_reps'], c['warm_ms']),
        }
    torch_common.print_json(out)


if __name__ == '__main__':
    main()
