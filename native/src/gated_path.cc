// See gated_path.h. Every product goes through gemm() and every sum of squares through reduceSum(), as tfjs's kernels
// compute them with the native kernels registered, and each element-wise operation rounds in the order of the tfjs
// ops of PICNN.energyAndGradFromContext (src/models/picnn.ts): on that backend the two give the same floats, bit for
// bit. Scratch is per thread and reused across calls.
#include "gated_path.h"

#include <algorithm>
#include <vector>

#include "gemm.h"
#include "scratch.h"
#include "reduce.h"

namespace icnn {

namespace {

struct Scratch {
  std::vector<std::vector<float>> pre;  // s_i per layer
  std::vector<float> gated, product, delta, nextDelta;
};

// This thread's scratch, with room for `layers` pre-activations.
Scratch& scratch(int layers) {
  thread_local Scratch s;
  if (static_cast<int>(s.pre.size()) < layers) s.pre.resize(layers);
  return s;
}

// c = a · op(b) through gemm(), as tfjs's BatchMatMul on the native backend computes it: op(b) = b [k × n], or bᵀ
// with b stored [n × k].
void matmul(const float* a, const float* b, float* c, int m, int n, int k, bool transB, bool transA = false) {
  static const int kZero = 0;
  gemm(GemmArgs{a, b, c, 1, &kZero, &kZero, m, n, k, transA, transB, nullptr, 0, kLinear, 0.f, nullptr, 0});
}

// The element-wise passes, on restrict pointers and local scalars so that the compiler vectorizes them. g(s) is
// max(s, a·s) for a ∈ [0, 1]; g′ is a select, which is if-converted (vectorized) only without trapping-math. A branch
// would mispredict on about every other element.
void gateActivation(const float* __restrict pre, const float* __restrict gate, float* __restrict out, long n, float a) {
  for (long e = 0; e < n; e++) out[e] = std::max(pre[e], a * pre[e]) * gate[e];
}

__attribute__((optimize("no-trapping-math")))
void gateDerivative(float* __restrict delta, const float* __restrict gate, const float* __restrict pre, long n, float a) {
  for (long e = 0; e < n; e++) delta[e] = (delta[e] * gate[e]) * (pre[e] > 0.f ? 1.f : a);
}

void multiply(const float* __restrict x, const float* __restrict y, float* __restrict out, long n) {
  for (long e = 0; e < n; e++) out[e] = x[e] * y[e];
}

void addTo(float* __restrict acc, const float* __restrict x, long n) {
  for (long e = 0; e < n; e++) acc[e] += x[e];
}

// g(s), the activation (as gateActivation without the gate).
void activation(const float* __restrict pre, float* __restrict out, long n, float a) {
  for (long e = 0; e < n; e++) out[e] = std::max(pre[e], a * pre[e]);
}

void addProduct(float* __restrict acc, const float* __restrict x, const float* __restrict y, long n) {
  for (long e = 0; e < n; e++) acc[e] += x[e] * y[e];
}

void forward(const GatedPathArgs& p, Scratch& s) {
  const long rd = static_cast<long>(p.rows) * p.d;
  float* gy = sized(s.gated, rd);
  for (int i = 0; i < p.layers; i++) {
    const GatedLayerArgs& l = p.layer[i];
    const long size = static_cast<long>(p.rows) * l.width;
    float* pre = sized(s.pre[i], size);
    multiply(p.y, l.yGate, gy, rd);
    matmul(gy, l.passthrough, pre, p.rows, l.width, p.d, false);
    addTo(pre, l.uTerm, size);
    if (i > 0 && l.convex != nullptr) {
      const int prevWidth = p.layer[i - 1].width;
      const long prevSize = static_cast<long>(p.rows) * prevWidth;
      float* gz = sized(s.product, prevSize + size);
      float* zs = gz + prevSize;
      gateActivation(s.pre[i - 1].data(), l.zGate, gz, prevSize, p.negativeSlope);
      matmul(gz, l.convex, zs, p.rows, l.width, prevWidth, false);
      addTo(pre, zs, size);
    }
  }
}

void backward(const GatedPathArgs& p, Scratch& s) {
  const long rd = static_cast<long>(p.rows) * p.d;
  for (long e = 0; e < rd; e++) p.grad[e] = p.strongConvexity * p.y[e];
  float* delta = sized(s.delta, p.rows);  // ∂f/∂s_L = 1 per row (width 1)
  std::fill(delta, delta + p.rows, 1.f);
  float* gy = sized(s.gated, rd);
  for (int i = p.layers - 1; i >= 0; i--) {
    const GatedLayerArgs& l = p.layer[i];
    matmul(delta, l.passthrough, gy, p.rows, p.d, l.width, true);
    addProduct(p.grad, gy, l.yGate, rd);
    if (i == 0 || l.convex == nullptr) break;
    const int prevWidth = p.layer[i - 1].width;
    const long prevSize = static_cast<long>(p.rows) * prevWidth;
    float* next = sized(s.nextDelta, prevSize);
    matmul(delta, l.convex, next, p.rows, prevWidth, l.width, true);
    gateDerivative(next, l.zGate, s.pre[i - 1].data(), prevSize, p.negativeSlope);
    std::swap(s.delta, s.nextDelta);
    delta = s.delta.data();
  }
}

// The reverse pass of gatedPathVjp (gated_path.h), after forward() filled s.pre.
void reverse(const GatedPathArgs& p, const float* dEnergy, const GatedLayerGrads* g, Scratch& s) {
  const long rd = static_cast<long>(p.rows) * p.d;
  for (int r = 0; r < p.rows; r++) {
    for (int j = 0; j < p.d; j++) p.grad[static_cast<long>(r) * p.d + j] = p.strongConvexity * dEnergy[r] * p.y[static_cast<long>(r) * p.d + j];
  }
  const int last = p.layers - 1;
  std::copy(dEnergy, dEnergy + p.rows, g[last].uTerm);  // ḡ_L, one column
  float* gy = sized(s.gated, rd);
  for (int i = last; i >= 0; i--) {
    const GatedLayerArgs& l = p.layer[i];
    const float* signal = g[i].uTerm;  // ḡ_i, written by the previous step
    multiply(p.y, l.yGate, gy, rd);
    matmul(gy, signal, g[i].passthrough, p.d, l.width, p.rows, false, true);
    float* back = sized(s.delta, rd);
    matmul(signal, l.passthrough, back, p.rows, p.d, l.width, true);
    multiply(back, p.y, g[i].yGate, rd);
    addProduct(p.grad, back, l.yGate, rd);
    if (i == 0 || l.convex == nullptr) break;
    const int prevWidth = p.layer[i - 1].width;
    const long prevSize = static_cast<long>(p.rows) * prevWidth;
    float* z = sized(s.product, 2 * prevSize);
    float* zin = z + prevSize;
    activation(s.pre[i - 1].data(), z, prevSize, p.negativeSlope);
    multiply(z, l.zGate, zin, prevSize);
    matmul(zin, signal, g[i].convex, prevWidth, l.width, p.rows, false, true);
    float* zBack = sized(s.nextDelta, prevSize);
    matmul(signal, l.convex, zBack, p.rows, prevWidth, l.width, true);
    multiply(zBack, z, g[i].zGate, prevSize);
    gateDerivative(zBack, l.zGate, s.pre[i - 1].data(), prevSize, p.negativeSlope);
    std::copy(zBack, zBack + prevSize, g[i - 1].uTerm);
  }
}

}  // namespace

void gatedPathVjp(const GatedPathArgs& p, const float* dEnergy, const GatedLayerGrads* grads) {
  if (p.rows == 0) {  // no rows: the weights' gradients are zero (the row-shaped ones are empty)
    for (int i = 0; i < p.layers; i++) {
      const int width = p.layer[i].width;
      std::fill(grads[i].passthrough, grads[i].passthrough + static_cast<long>(p.d) * width, 0.f);
      if (grads[i].convex != nullptr) std::fill(grads[i].convex, grads[i].convex + static_cast<long>(p.layer[i - 1].width) * width, 0.f);
    }
    return;
  }
  Scratch& s = scratch(p.layers);
  forward(p, s);
  reverse(p, dEnergy, grads, s);
}

void gatedPathEnergyGrad(const GatedPathArgs& p) {
  if (p.rows == 0) return;
  Scratch& s = scratch(p.layers);
  forward(p, s);
  const float* top = s.pre[p.layers - 1].data();
  if (p.strongConvexity == 0.f) {
    std::copy(top, top + p.rows, p.energy);
  } else {  // f + (Σ_j y_j²)·(α/2)
    const long rd = static_cast<long>(p.rows) * p.d;
    float* squares = sized(s.gated, rd);
    multiply(p.y, p.y, squares, rd);
    float* sums = sized(s.delta, p.rows);
    reduceSum(squares, sums, p.rows, p.d, false);
    const float half = 0.5f * p.strongConvexity;
    for (int r = 0; r < p.rows; r++) p.energy[r] = top[r] + sums[r] * half;
  }
  if (p.grad != nullptr) backward(p, s);
}

}  // namespace icnn
