// AVX2+FMA micro-kernel: 6 x 16 tile, 12 ymm accumulators, two B vectors and one broadcast per k step (15 of the 16
// ymm registers). Compiled with a target attribute; selected when the CPU has avx2 and fma but not avx512f.
#include "kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace icnn {
namespace {

constexpr int MR = 6;
constexpr int NR = 16;

__attribute__((target("avx2,fma"))) void kernel6x16(int kc, const float* a, const float* b, float* c, long ldc,
                                                    bool accumulate) {
  __m256 acc[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    acc[i][0] = _mm256_setzero_ps();
    acc[i][1] = _mm256_setzero_ps();
  }
  for (int p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += MR;
    b += NR;
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    float* row = c + i * ldc;
    if (accumulate) {
      acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_loadu_ps(row));
      acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_loadu_ps(row + 8));
    }
    _mm256_storeu_ps(row, acc[i][0]);
    _mm256_storeu_ps(row + 8, acc[i][1]);
  }
}

const KernelSet kSet{"avx2+fma", MR, NR, kernel6x16, nullptr};

}  // namespace

const KernelSet* avx2Kernels() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? &kSet : nullptr;
}

}  // namespace icnn
#else
namespace icnn {
const KernelSet* avx2Kernels() { return nullptr; }
}  // namespace icnn
#endif
