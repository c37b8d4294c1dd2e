// Cache-blocked GEMM in the BLIS layout (Goto & van de Geijn): for each NC-wide column block and KC-deep slice, B is
// packed into NR-wide panels (kept in L2), then for each MC-high row block A is packed into MR-high panels (L1) and
// the micro-kernel sweeps the tiles. Work is split over the thread pool by batch, else by the longer of the row and
// column tile counts, so each thread packs and computes its own part of C. With A not transposed, products with fewer
// than 8 columns are dot products split over the threads by rows, and other products with fewer than 8 rows plain
// loops in the micro-kernels' order of operations.
#include "gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "pack.h"
#include "scratch.h"
#include "thread_pool.h"

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

// Plain loops compiled for AVX-512, AVX2 and the baseline, picked at load by the CPU (GCC's function multiversioning).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ICNN_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ICNN_VECTOR_CLONES
#endif

namespace icnn {
namespace {

constexpr int KC = 256;
constexpr int MC = 144;
constexpr int NC = 3072;
// Below this many FLOPs a call runs on the calling thread: waking a worker would cost more than it saves.
constexpr double kParallelFlops = 2e6;

struct Region {
  int batch;
  int r0, r1, c0, c1;
};

struct Buffers {
  std::vector<float> a, b;
};

// One MC x NC block of C for one KC slice: full tiles straight into C, edge tiles through a scratch tile (strips of
// at most NR/2 columns by the half-width kernel where there is one).
void macroKernel(const KernelSet& ks, const float* ap, const float* bp, int kc, float* c, long ldc, int mc, int nc,
                 bool accumulate) {
  alignas(64) float tile[16 * 64];
  for (int jr = 0; jr < nc; jr += ks.nr) {
    const int cols = std::min(ks.nr, nc - jr);
    const float* bPanel = bp + static_cast<long>(jr / ks.nr) * kc * ks.nr;
    for (int ir = 0; ir < mc; ir += ks.mr) {
      const int rows = std::min(ks.mr, mc - ir);
      const float* aPanel = ap + static_cast<long>(ir / ks.mr) * kc * ks.mr;
      float* cTile = c + ir * ldc + jr;
      if (rows == ks.mr && cols == ks.nr) {
        ks.kernel(kc, aPanel, bPanel, cTile, ldc, accumulate);
        continue;
      }
      const bool half = ks.halfKernel != nullptr && cols <= ks.nr / 2;
      (half ? ks.halfKernel : ks.kernel)(kc, aPanel, bPanel, tile, ks.nr, false);
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
          cTile[i * ldc + j] = accumulate ? cTile[i * ldc + j] + tile[i * ks.nr + j] : tile[i * ks.nr + j];
        }
      }
    }
  }
}

float activate(float x, int activation, float alpha, float slope) {
  switch (activation) {
    case kPrelu: return x < 0.f ? slope * x : x;
    case kRelu: return x > 0.f ? x : 0.f;
    case kRelu6: return std::min(std::max(x, 0.f), 6.f);
    case kLeakyRelu: return x < 0.f ? alpha * x : x;
    case kSigmoid: return 1.f / (1.f + std::exp(-x));
    case kElu: return x >= 0.f ? x : std::expm1(x);
    default: return x;
  }
}

void epilogue(const GemmArgs& g, float* c, const Region& r) {
  if (g.bias == nullptr && g.activation == kLinear) return;
  for (int i = r.r0; i < r.r1; i++) {
    float* row = c + static_cast<long>(i) * g.n;
    for (int j = r.c0; j < r.c1; j++) {
      float v = row[j];
      if (g.bias != nullptr) v += g.bias[g.biasLen == 1 ? 0 : j];
      const float slope = g.prelu != nullptr ? g.prelu[g.preluLen == 1 ? 0 : j] : 0.f;
      row[j] = activate(v, g.activation, g.alpha, slope);
    }
  }
}

void computeRegion(const GemmArgs& g, const KernelSet& ks, const Region& r, Buffers& buf) {
  const float* a = g.a + g.aOffsets[r.batch];
  const float* b = g.b + g.bOffsets[r.batch];
  float* c = g.c + static_cast<long>(r.batch) * g.m * g.n;
  if (g.k == 0 && !g.accumulate) {
    for (int i = r.r0; i < r.r1; i++) std::fill(c + static_cast<long>(i) * g.n + r.c0, c + static_cast<long>(i) * g.n + r.c1, 0.f);
  }
  for (int jc = r.c0; jc < r.c1; jc += NC) {
    const int nc = std::min(NC, r.c1 - jc);
    const int ncPadded = (nc + ks.nr - 1) / ks.nr * ks.nr;
    for (int pc = 0; pc < g.k; pc += KC) {
      const int kc = std::min(KC, g.k - pc);
      float* bp = sized(buf.b, static_cast<size_t>(kc) * ncPadded);
      packB(g, b, pc, kc, jc, nc, ks.nr, bp);
      for (int ic = r.r0; ic < r.r1; ic += MC) {
        const int mc = std::min(MC, r.r1 - ic);
        const int mcPadded = (mc + ks.mr - 1) / ks.mr * ks.mr;
        float* ap = sized(buf.a, static_cast<size_t>(kc) * mcPadded);
        packA(g, a, ic, mc, pc, kc, ks.mr, ap);
        macroKernel(ks, ap, bp, kc, c + static_cast<long>(ic) * g.n + jc, g.n, mc, nc, pc > 0 || g.accumulate);
      }
    }
  }
  if (!g.accumulate) epilogue(g, c, r);
}

// Split [0, count) tiles of `unit` elements (last one partial up to `total`) into `parts` contiguous ranges.
std::vector<std::pair<int, int>> splitTiles(int total, int unit, int parts) {
  const int tiles = (total + unit - 1) / unit;
  std::vector<std::pair<int, int>> out;
  for (int t = 0; t < parts; t++) {
    const int lo = std::min(total, tiles * t / parts * unit);
    const int hi = std::min(total, tiles * (t + 1) / parts * unit);
    if (hi > lo) out.emplace_back(lo, hi);
  }
  return out;
}

std::vector<Region> partition(const GemmArgs& g, const KernelSet& ks, int threads) {
  std::vector<Region> regions;
  if (threads <= 1 || g.batch >= threads) {
    for (int bi = 0; bi < g.batch; bi++) regions.push_back({bi, 0, g.m, 0, g.n});
    return regions;
  }
  const bool byColumns = (g.n + ks.nr - 1) / ks.nr >= (g.m + ks.mr - 1) / ks.mr;
  for (int bi = 0; bi < g.batch; bi++) {
    const auto ranges = byColumns ? splitTiles(g.n, ks.nr, threads) : splitTiles(g.m, ks.mr, threads);
    for (const auto& [lo, hi] : ranges) {
      regions.push_back(byColumns ? Region{bi, 0, g.m, lo, hi} : Region{bi, lo, hi, 0, g.n});
    }
  }
  return regions;
}

// Flush-to-zero and denormals-are-zero for the lifetime of the guard, on the thread that creates it, then the
// caller's MXCSR back (V8 and the wasm backend on the same thread keep IEEE subnormals). An FMA with a subnormal
// operand or result takes a microcode assist of ~100 cycles: late in an RL run, when some weights, moments and
// gradients underflow, whole GEMMs ran several times slower (NAF on Hopper, 1001 steps from its checkpoint at 73k
// steps: 71.5 s with subnormals, 27.5 s flushed). Products lose nothing they could represent above 1.2e-38.
class SubnormalsOff {
 public:
#if defined(__SSE__) || defined(__x86_64__)
  SubnormalsOff() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040); }  // FTZ (bit 15) | DAZ (bit 6)
  ~SubnormalsOff() { _mm_setcsr(saved_); }

 private:
  unsigned saved_;
#endif
};

// Below this many columns the packed path computes a whole NR-wide panel for each strip of C (32 columns with
// AVX-512 for 1-6 wanted: the output layer and the action-sized products of the ICNN agent), so dot products win.
constexpr int kNarrow = 8;

// The N (< kNarrow) dot products of a row of A with the rows of `bt` (op(B)ᵀ, [N × k]) in one pass over the row.
// Each product keeps L partial sums (8, 16 or 32 lanes: more when N is small), which the compiler turns into
// N·L/8 independent vector accumulators, so that the adds need not wait on each other's latency: with one 8-lane
// accumulator per product, 256×200·(6×200)ᵀ took 120 µs, one vector add per 4 cycles. (A single running sum would
// not be reordered without -ffast-math.) Inlined into narrowRows' clones.
template <int N>
__attribute__((always_inline)) inline void rowDots(const float* __restrict a, const float* __restrict bt, int k,
                                                   float* __restrict c) {
  constexpr int L = N >= 4 ? 8 : (N >= 2 ? 16 : 32);
  float acc[N][L] = {};
  int p = 0;
  for (; p + L <= k; p += L) {
    for (int j = 0; j < N; j++) {
      const float* b = bt + static_cast<long>(j) * k + p;
      for (int u = 0; u < L; u++) acc[j][u] += a[p + u] * b[u];
    }
  }
  for (int j = 0; j < N; j++) {
    const float* b = bt + static_cast<long>(j) * k;
    float sum = 0.f;
    for (int q = p; q < k; q++) sum += a[q] * b[q];
    for (int u = 0; u < L; u++) sum += acc[j][u];
    c[j] = sum;
  }
}

template <int N>
__attribute__((always_inline)) inline void rowsOfDots(const float* a, const float* bt, int k, float* c, int r0, int r1) {
  for (int i = r0; i < r1; i++) rowDots<N>(a + static_cast<long>(i) * k, bt, k, c + static_cast<long>(i) * N);
}

// Rows [r0, r1) of a narrow product (n < kNarrow, A not transposed); `bt` is op(B)ᵀ as [n × k] (B itself when
// transB).
ICNN_VECTOR_CLONES
void narrowRows(const GemmArgs& g, int batch, const float* bt, int r0, int r1) {
  const float* a = g.a + g.aOffsets[batch];
  float* c = g.c + static_cast<long>(batch) * g.m * g.n;
  switch (g.n) {
    case 1: rowsOfDots<1>(a, bt, g.k, c, r0, r1); break;
    case 2: rowsOfDots<2>(a, bt, g.k, c, r0, r1); break;
    case 3: rowsOfDots<3>(a, bt, g.k, c, r0, r1); break;
    case 4: rowsOfDots<4>(a, bt, g.k, c, r0, r1); break;
    case 5: rowsOfDots<5>(a, bt, g.k, c, r0, r1); break;
    case 6: rowsOfDots<6>(a, bt, g.k, c, r0, r1); break;
    default: rowsOfDots<7>(a, bt, g.k, c, r0, r1); break;
  }
  static_assert(kNarrow == 8, "narrowRows handles 1 to 7 columns");
  epilogue(g, c, Region{batch, r0, r1, 0, g.n});
}

void narrowGemm(const GemmArgs& g, int threads) {
  ThreadPool& pool = ThreadPool::instance();
  thread_local std::vector<float> transposed;
  for (int bi = 0; bi < g.batch; bi++) {
    const float* b = g.b + g.bOffsets[bi];
    const float* bt = b;  // a [k × 1] B is its own transpose
    if (!g.transB && g.n > 1) {
      float* t = sized(transposed, static_cast<size_t>(g.k) * g.n);
      for (int p = 0; p < g.k; p++) {
        for (int j = 0; j < g.n; j++) t[static_cast<long>(j) * g.k + p] = b[static_cast<long>(p) * g.n + j];
      }
      bt = t;
    }
    pool.run(threads, [&](int t) {
      SubnormalsOff guard;
      narrowRows(g, bi, bt, g.m * t / threads, g.m * (t + 1) / threads);
    });
  }
}

// Below this many rows (one micro-tile) the packed path would pack all of op(B) for a few rows of A: for the ICNN
// agent's action (one row against 200×200 weights) packing took 3-8x the arithmetic. Products with so few rows (A not
// transposed, at least kNarrow columns) run as plain loops instead, on the calling thread. Each element of C is
// computed exactly as the micro-kernels compute it (one chain of multiply-adds over k, fused where the kernel fuses
// them, restarted every KC values and added to C), so that a row's result does not depend on how many rows share the
// call: the inner argmax evaluates shrinking subsets of a minibatch and must get the same floats for every row.
constexpr int kShortRows = 8;

template <bool Fused>
__attribute__((always_inline)) inline float multiplyAdd(float a, float b, float c) {
  if constexpr (Fused) {
    return __builtin_fmaf(a, b, c);
  } else {
    return c + a * b;
  }
}

// One KC slice [p0, p0 + kc) of row `a` times op(B) into part[0, n).
template <bool Fused>
__attribute__((always_inline)) inline void shortSlice(const GemmArgs& g, const float* __restrict a, const float* __restrict b,
                                                      int p0, int kc, float* __restrict part) {
  if (!g.transB) {  // B is [k × n]: a chain per column, vectorized across the columns
    std::fill(part, part + g.n, 0.f);
    for (int p = p0; p < p0 + kc; p++) {
      const float w = a[p];
      const float* __restrict bp = b + static_cast<long>(p) * g.n;
      for (int j = 0; j < g.n; j++) part[j] = multiplyAdd<Fused>(w, bp[j], part[j]);
    }
    return;
  }
  // B is [n × k]: a dot product per column, 8 columns at a time so that 8 independent chains hide the latency.
  constexpr int kChains = 8;
  int j = 0;
  for (; j + kChains <= g.n; j += kChains) {
    float acc[kChains] = {};
    const float* bj = b + static_cast<long>(j) * g.k;
    for (int p = p0; p < p0 + kc; p++) {
      const float w = a[p];
      for (int u = 0; u < kChains; u++) acc[u] = multiplyAdd<Fused>(w, bj[static_cast<long>(u) * g.k + p], acc[u]);
    }
    for (int u = 0; u < kChains; u++) part[j + u] = acc[u];
  }
  for (; j < g.n; j++) {
    float acc = 0.f;
    const float* bj = b + static_cast<long>(j) * g.k;
    for (int p = p0; p < p0 + kc; p++) acc = multiplyAdd<Fused>(a[p], bj[p], acc);
    part[j] = acc;
  }
}

template <bool Fused>
__attribute__((always_inline)) inline void shortRowsBody(const GemmArgs& g) {
  SubnormalsOff guard;
  thread_local std::vector<float> sliceBuffer;
  float* part = sized(sliceBuffer, static_cast<size_t>(g.n));
  for (int bi = 0; bi < g.batch; bi++) {
    const float* a = g.a + g.aOffsets[bi];
    const float* b = g.b + g.bOffsets[bi];
    float* c = g.c + static_cast<long>(bi) * g.m * g.n;
    for (int i = 0; i < g.m; i++) {
      float* ci = c + static_cast<long>(i) * g.n;
      if (g.k == 0 && !g.accumulate) std::fill(ci, ci + g.n, 0.f);
      for (int p0 = 0; p0 < g.k; p0 += KC) {
        shortSlice<Fused>(g, a + static_cast<long>(i) * g.k, b, p0, std::min(KC, g.k - p0), part);
        const bool add = p0 > 0 || g.accumulate;
        for (int j = 0; j < g.n; j++) ci[j] = add ? part[j] + ci[j] : part[j];
      }
    }
    if (!g.accumulate) epilogue(g, c, Region{bi, 0, g.m, 0, g.n});
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) void shortRowsFused(const GemmArgs& g) { shortRowsBody<true>(g); }
#else
void shortRowsFused(const GemmArgs& g) { shortRowsBody<true>(g); }
#endif
void shortRowsUnfused(const GemmArgs& g) { shortRowsBody<false>(g); }

// With the micro-kernel's own arithmetic: fused multiply-adds for the AVX2 and AVX-512 kernels, a multiply and an
// add for the portable one.
void shortRows(const GemmArgs& g, const KernelSet& ks) {
  if (std::strcmp(ks.isa, "generic") == 0) {
    shortRowsUnfused(g);
  } else {
    shortRowsFused(g);
  }
}

}  // namespace

const KernelSet& activeKernels() {
  static const KernelSet* chosen = [] {
    if (const KernelSet* k = avx512Kernels()) return k;
    if (const KernelSet* k = avx2Kernels()) return k;
    return genericKernels();
  }();
  return *chosen;
}

void gemm(const GemmArgs& g) {
  if (g.batch == 0 || g.m == 0 || g.n == 0) return;
  const KernelSet& ks = activeKernels();
  ThreadPool& pool = ThreadPool::instance();
  const double flops = 2.0 * g.batch * g.m * g.n * std::max(g.k, 1);
  const int threads = flops < kParallelFlops ? 1 : pool.threads();
  if (g.n < kNarrow && !g.transA && !g.accumulate) {
    narrowGemm(g, threads);
    return;
  }
  if (g.m < kShortRows && !g.transA) {
    shortRows(g, ks);
    return;
  }
  const std::vector<Region> regions = partition(g, ks, threads);
  // Region i goes to thread i mod threads; regions of one batch are balanced, so this balances the threads.
  pool.run(std::min<int>(threads, regions.size()), [&](int t) {
    SubnormalsOff guard;
    thread_local Buffers buffers;
    for (size_t i = t; i < regions.size(); i += threads) computeRegion(g, ks, regions[i], buffers);
  });
}

}  // namespace icnn
