// Portable micro-kernel (any CPU the compiler targets): 4 x 16 tile in plain C++, which the compiler vectorizes with
// the baseline instruction set (SSE2 on x86-64, NEON on arm64).
#include "kernels.h"

namespace icnn {
namespace {

constexpr int MR = 4;
constexpr int NR = 16;

void kernel4x16(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate) {
  float acc[MR][NR] = {};
  for (int p = 0; p < kc; p++) {
    for (int i = 0; i < MR; i++) {
      const float ai = a[i];
      for (int j = 0; j < NR; j++) acc[i][j] += ai * b[j];
    }
    a += MR;
    b += NR;
  }
  for (int i = 0; i < MR; i++) {
    float* row = c + i * ldc;
    for (int j = 0; j < NR; j++) row[j] = accumulate ? row[j] + acc[i][j] : acc[i][j];
  }
}

const KernelSet kSet{"generic", MR, NR, kernel4x16, nullptr};

}  // namespace

const KernelSet* genericKernels() { return &kSet; }

}  // namespace icnn
