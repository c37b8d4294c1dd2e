"""PyTorch versions of the benchmarked models, written to the same equations as the TypeScript ones.

- PICNN     mirrors src/models/picnn.ts      (Amos et al. 2017, section 1.2; BibTeX-sized in the bench)
- ConvPICNN mirrors src/models/convPicnn.ts  (section 1.3; the DQN-based Olivetti model of section 5.3)

Every parameter of the TypeScript models exists here under the same name ('.' replaced by '_') with the same
number of entries, so the parameter counts agree exactly. Layouts follow PyTorch conventions where that is
what a PyTorch user would write:
- dense weights are [in, out] as in the TypeScript store (u @ W, fused with the bias via torch.addmm);
- conv weights are [out, in, kh, kw] (the TypeScript store uses [kh, kw, in, out]; `load_tfjs` permutes);
- images are NCHW (the TypeScript models use NHWC); flattening before the fully connected part goes through
  NHWC order, exactly as the TypeScript model's reshape of an NHWC map, so weights can be exchanged.
Batch normalization: F.batch_norm with momentum 0.1 (= decay 0.9), eps 1e-5, batch statistics in training
mode and moving averages otherwise, on the u-path only (x-only), as src/models/batchNorm.ts.
'same' padding is TensorFlow's rule (total padding max((out-1)*s + k - in, 0), the extra row/column at the
bottom/right), which PyTorch's padding='same' does not implement for strides > 1.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

GATE_KERNEL = 3
DQN_CONV_LAYERS = [(32, 8, 4), (64, 4, 2), (64, 3, 1)]  # (filters, kernel, stride)


def _lecun(shape, fan_in, gen):
    return torch.randn(*shape, generator=gen) / math.sqrt(fan_in)


class _Base(nn.Module):
    """Named parameters with the TypeScript names; batch-norm statistics are buffers (not trainable)."""

    def __init__(self, seed):
        super().__init__()
        self.params = nn.ParameterDict()
        self.gen = torch.Generator().manual_seed(seed)
        self.shapes_ts = {}  # TypeScript name -> TypeScript shape (for loading tfjs weights)
        self.bn_names = []

    @staticmethod
    def _key(name):
        return name.replace('.', '_')

    def _add(self, name, tensor, ts_shape=None):
        self.params[self._key(name)] = nn.Parameter(tensor.contiguous())
        self.shapes_ts[name] = list(ts_shape if ts_shape is not None else tensor.shape)

    def free(self, name, shape, fan_in, ts_shape=None):
        self._add(name, _lecun(shape, fan_in, self.gen), ts_shape)

    def convex(self, name, shape, fan_in, abs_scale, ts_shape=None):
        self._add(name, _lecun(shape, fan_in, self.gen).abs() * abs_scale, ts_shape)

    def const(self, name, n, value):
        self._add(name, torch.full((n,), float(value)))

    def batch_norm_params(self, prefix, channels):
        self.const(f'{prefix}.gamma', channels, 1)
        self.const(f'{prefix}.beta', channels, 0)
        k = self._key(prefix)
        self.register_buffer(f'{k}_movingMean', torch.zeros(channels))
        self.register_buffer(f'{k}_movingVariance', torch.ones(channels))
        self.bn_names.append(prefix)

    def p(self, name):
        return self.params[self._key(name)]

    def bn(self, prefix, t, training):
        k = self._key(prefix)
        return F.batch_norm(t, getattr(self, f'{k}_movingMean'), getattr(self, f'{k}_movingVariance'),
                            self.p(f'{prefix}.gamma'), self.p(f'{prefix}.beta'), training=training,
                            momentum=0.1, eps=1e-5)

    def num_parameters(self):
        return sum(p.numel() for p in self.params.values())

    def energy(self, x, y, training=False):
        return self.energy_from_context(self.context(x, training), y)

    @torch.no_grad()
    def load_tfjs(self, values):
        """Copy weights from a dict TypeScript name -> flat float32 tensor (TypeScript layout)."""
        for name, shape in self.shapes_ts.items():
            flat = values[name]
            t = flat.reshape(shape)
            target = self.p(name)
            if t.dim() == 4:  # [kh, kw, in, out] -> [out, in, kh, kw]
                t = t.permute(3, 2, 0, 1)
            target.copy_(t)
        for prefix in self.bn_names:
            k = self._key(prefix)
            getattr(self, f'{k}_movingMean').copy_(values[f'{prefix}.movingMean'])
            getattr(self, f'{k}_movingVariance').copy_(values[f'{prefix}.movingVariance'])


class PICNN(_Base):
    """f(x, y): u-path u_{i+1} = g̃(W̃_i u_i + b̃_i) (+BN, last u-layer linear), z-path
    z_{i+1} = g(W^(z)_i (z_i ∘ [W^(zu)_i u_i + b^(z)_i]_+) + W^(y)_i (y ∘ (W^(yu)_i u_i + b^(y)_i)) + W^(u)_i u_i + b_i),
    last z-layer linear with width 1."""

    def __init__(self, x_dim, y_dim, hidden, u_hidden=None, batch_norm=False, abs_scale=1.0, seed=0):
        super().__init__(seed)
        u_hidden = list(hidden) if u_hidden is None else list(u_hidden)
        assert len(u_hidden) == len(hidden)
        self.batch_norm = batch_norm
        self.z_widths = list(hidden) + [1]
        self.u_widths = [x_dim] + u_hidden
        for i in range(len(u_hidden)):
            self.free(f'u{i}.W', (self.u_widths[i], self.u_widths[i + 1]), self.u_widths[i])
            self.const(f'u{i}.b', self.u_widths[i + 1], 0)
            if batch_norm and i < len(u_hidden) - 1:  # after activated u-layers only, as src/models/picnn.ts
                self.batch_norm_params(f'u{i}.bn', self.u_widths[i + 1])
        for i, m in enumerate(self.z_widths):
            n = self.u_widths[i]
            if i > 0:
                m_prev = self.z_widths[i - 1]
                self.free(f'z{i}.Wzu', (n, m_prev), n)
                self.const(f'z{i}.bz', m_prev, 1)
                self.convex(f'z{i}.Wz', (m_prev, m), m_prev, abs_scale)
                self.const(f'z{i}.b', m, 0)
            else:
                self.const(f'z{i}.b', m, 0)
            self.free(f'z{i}.Wyu', (n, y_dim), n)
            self.const(f'z{i}.by', y_dim, 1)
            self.free(f'z{i}.Wy', (y_dim, m), y_dim)
            self.free(f'z{i}.Wu', (n, m), n)

    def context(self, x, training=False):
        p = self.p
        z_gates, y_gates, u_terms = [], [], []
        u = x
        last = len(self.z_widths) - 1
        for i in range(last + 1):
            if i > 0:
                z_gates.append(torch.relu(torch.addmm(p(f'z{i}.bz'), u, p(f'z{i}.Wzu'))))
            y_gates.append(torch.addmm(p(f'z{i}.by'), u, p(f'z{i}.Wyu')))
            u_terms.append(torch.addmm(p(f'z{i}.b'), u, p(f'z{i}.Wu')))
            if i < last:
                nxt = torch.addmm(p(f'u{i}.b'), u, p(f'u{i}.W'))
                if i < last - 1:
                    nxt = torch.relu(nxt)
                    if self.batch_norm:
                        nxt = self.bn(f'u{i}.bn', nxt, training)
                u = nxt
        return z_gates, y_gates, u_terms

    def energy_from_context(self, ctx, y):
        z_gates, y_gates, u_terms = ctx
        p = self.p
        z = None
        last = len(self.z_widths) - 1
        for i in range(last + 1):
            s = torch.addmm(u_terms[i], y * y_gates[i], p(f'z{i}.Wy'))
            if z is not None:
                s = s + (z * z_gates[i - 1]) @ p(f'z{i}.Wz')
            z = s if i == last else torch.relu(s)
        return z.reshape(y.shape[0])


def _same_pad(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class ConvPICNN(_Base):
    """Convolutional PICNN on NCHW images; see src/models/convPicnn.ts for the equations."""

    def __init__(self, x_shape, y_shape, conv=None, fc_hidden=(512,), batch_norm=True, abs_scale=1.0, seed=0):
        super().__init__(seed)
        conv = list(conv or DQN_CONV_LAYERS)
        self.conv_layers = conv
        self.fc_hidden = list(fc_hidden)
        self.batch_norm = batch_norm
        self.x_shape = list(x_shape)  # [h, w, c] as in TypeScript
        self.y_shape = list(y_shape)
        h, w = x_shape[0], x_shape[1]
        self.spatial = [(h, w)]
        for (_, _, s) in conv:
            h, w = -(-h // s), -(-w // s)
            self.spatial.append((h, w))
        L = len(conv)
        uc, zc, yc = x_shape[2], 0, y_shape[2]

        def conv_w(name, k, cin, cout, fan_in, convex=False):
            shape = (cout, cin, k, k)
            ts_shape = (k, k, cin, cout)
            if convex:
                self.convex(name, shape, fan_in, abs_scale, ts_shape)
            else:
                self.free(name, shape, fan_in, ts_shape)

        g = GATE_KERNEL
        for l, (f, k, _) in enumerate(conv):
            conv_w(f'u{l}.W', k, uc, f, k * k * uc)
            self.const(f'u{l}.b', f, 0)
            if batch_norm:
                self.batch_norm_params(f'u{l}.bn', f)
            if l > 0:
                conv_w(f'z{l}.Wzu', g, uc, zc, g * g * uc)
                self.const(f'z{l}.bz', zc, 1)
                conv_w(f'z{l}.Wz', k, zc, f, k * k * zc, convex=True)
                self.const(f'z{l}.b', f, 0)
            else:
                self.const(f'z{l}.b', f, 0)
            conv_w(f'z{l}.Wyu', g, uc, yc, g * g * uc)
            self.const(f'z{l}.by', yc, 1)
            conv_w(f'z{l}.Wy', k, yc, f, k * k * yc)
            conv_w(f'z{l}.Wu', k, uc, f, k * k * uc)
            if l + 1 < L:
                conv_w(f'yr{l}.W', k, yc, 1, k * k * yc)
                self.const(f'yr{l}.b', 1, 0)
            uc, zc, yc = f, f, 1
        hL, wL = self.spatial[L]
        flat = hL * wL * uc
        fc_widths = self.fc_hidden + [1]
        u_in = z_in = flat
        for j, m in enumerate(fc_widths):
            if j == 0:
                conv_w(f'fc{j}.Wzu', g, uc, zc, g * g * uc)
                self.const(f'fc{j}.bz', zc, 1)
            else:
                self.free(f'fc{j}.Wzu', (u_in, z_in), u_in)
                self.const(f'fc{j}.bz', z_in, 1)
            self.convex(f'fc{j}.Wz', (z_in, m), z_in, abs_scale)
            self.const(f'fc{j}.b', m, 0)
            self.free(f'fc{j}.Wu', (u_in, m), u_in)
            if j + 1 < len(fc_widths):
                self.free(f'ufc{j}.W', (u_in, m), u_in)
                self.const(f'ufc{j}.b', m, 0)
                if batch_norm:
                    self.batch_norm_params(f'ufc{j}.bn', m)
            u_in = z_in = m

    def conv(self, t, name, stride, bias=None):
        """TensorFlow-style 'same' convolution (NCHW)."""
        wt = self.p(name)
        k = wt.shape[-1]
        top, bottom = _same_pad(t.shape[2], k, stride)
        left, right = _same_pad(t.shape[3], k, stride)
        if top == bottom and left == right:
            return F.conv2d(t, wt, bias, stride, (top, left))
        return F.conv2d(F.pad(t, (left, right, top, bottom)), wt, bias, stride)

    def context(self, x, training=False):
        p = self.p
        n = x.shape[0]
        conv_z_gates, y_gates, conv_u_terms, fc_z_gates, fc_u_terms = [], [], [], [], []
        u = x.reshape(n, *self.x_shape).permute(0, 3, 1, 2)  # flat NHWC rows -> NCHW
        for l, (_, _, stride) in enumerate(self.conv_layers):
            if l > 0:
                conv_z_gates.append(torch.relu(self.conv(u, f'z{l}.Wzu', 1, p(f'z{l}.bz'))))
            y_gates.append(self.conv(u, f'z{l}.Wyu', 1, p(f'z{l}.by')))
            conv_u_terms.append(self.conv(u, f'z{l}.Wu', stride, p(f'z{l}.b')))
            nxt = torch.relu(self.conv(u, f'u{l}.W', stride, p(f'u{l}.b')))
            if self.batch_norm:
                nxt = self.bn(f'u{l}.bn', nxt, training)
            u = nxt
        # The first FC layer's gate lives on the last conv map.
        conv_z_gates.append(torch.relu(self.conv(u, 'fc0.Wzu', 1, p('fc0.bz'))))
        uf = u.permute(0, 2, 3, 1).reshape(n, -1)  # NHWC flattening, as the TypeScript model
        J = len(self.fc_hidden)
        for j in range(J + 1):
            if j > 0:
                fc_z_gates.append(torch.relu(torch.addmm(p(f'fc{j}.bz'), uf, p(f'fc{j}.Wzu'))))
            fc_u_terms.append(torch.addmm(p(f'fc{j}.b'), uf, p(f'fc{j}.Wu')))
            if j < J:
                # Every hidden FC u-layer is bn(relu(fc)), as src/models/convPicnn.ts (and the authors'
                # icnn_ebundle.py); only the scalar output is linear.
                nxt = torch.relu(torch.addmm(p(f'ufc{j}.b'), uf, p(f'ufc{j}.W')))
                if self.batch_norm:
                    nxt = self.bn(f'ufc{j}.bn', nxt, training)
                uf = nxt
        return conv_z_gates, y_gates, conv_u_terms, fc_z_gates, fc_u_terms

    def energy_from_context(self, ctx, y):
        conv_z_gates, y_gates, conv_u_terms, fc_z_gates, fc_u_terms = ctx
        p = self.p
        n = y.shape[0]
        L = len(self.conv_layers)
        yr = y.reshape(n, *self.y_shape).permute(0, 3, 1, 2)
        z = None
        for l, (_, _, stride) in enumerate(self.conv_layers):
            s = self.conv(yr * y_gates[l], f'z{l}.Wy', stride) + conv_u_terms[l]
            if z is not None:
                s = s + self.conv(z * conv_z_gates[l - 1], f'z{l}.Wz', stride)
            if l + 1 < L:
                yr = self.conv(yr, f'yr{l}.W', stride, p(f'yr{l}.b'))
            z = torch.relu(s)
        zf = (z * conv_z_gates[L - 1]).permute(0, 2, 3, 1).reshape(n, -1)
        J = len(self.fc_hidden)
        for j in range(J + 1):
            gated = zf if j == 0 else zf * fc_z_gates[j - 1]
            s = torch.addmm(fc_u_terms[j], gated, p(f'fc{j}.Wz'))
            zf = s if j == J else torch.relu(s)
        return zf.reshape(n)


def bibtex_picnn(seed=0):
    return PICNN(1836, 159, [600, 159], [600, 159], batch_norm=True, seed=seed)


def olivetti_conv_picnn(seed=0):
    return ConvPICNN([64, 32, 1], [64, 32, 1], abs_scale=0.5, seed=seed)
