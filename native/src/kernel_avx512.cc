// AVX-512F micro-kernel: 8 x 32 tile, 16 zmm accumulators, two B vectors and one broadcast per k step. Compiled with a
// target attribute so the rest of the addon stays baseline x86-64; selected only when the CPU reports avx512f.
#include "kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace icnn {
namespace {

constexpr int MR = 8;
constexpr int NR = 32;

__attribute__((target("avx512f,fma"))) void kernel8x32(int kc, const float* a, const float* b, float* c, long ldc,
                                                       bool accumulate) {
  __m512 acc[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {
    acc[i][0] = _mm512_setzero_ps();
    acc[i][1] = _mm512_setzero_ps();
  }
  for (int p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m512 b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += MR;
    b += NR;
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {
    float* row = c + i * ldc;
    if (accumulate) {
      acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_loadu_ps(row));
      acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_loadu_ps(row + 16));
    }
    _mm512_storeu_ps(row, acc[i][0]);
    _mm512_storeu_ps(row + 16, acc[i][1]);
  }
}

// The left 16 columns of a 32-wide panel: each element is the same chain of fused multiply-adds as in kernel8x32.
__attribute__((target("avx512f,fma"))) void kernel8x16(int kc, const float* a, const float* b, float* c, long ldc,
                                                       bool accumulate) {
  __m512 acc[MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) acc[i] = _mm512_setzero_ps();
  for (int p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_loadu_ps(b);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i]), b0, acc[i]);
    a += MR;
    b += NR;
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {
    float* row = c + i * ldc;
    if (accumulate) acc[i] = _mm512_add_ps(acc[i], _mm512_loadu_ps(row));
    _mm512_storeu_ps(row, acc[i]);
  }
}

const KernelSet kSet{"avx512", MR, NR, kernel8x32, kernel8x16};

}  // namespace

const KernelSet* avx512Kernels() { return __builtin_cpu_supports("avx512f") ? &kSet : nullptr; }

}  // namespace icnn
#else
namespace icnn {
const KernelSet* avx512Kernels() { return nullptr; }
}  // namespace icnn
#endif
