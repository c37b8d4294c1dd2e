// See adam.h. tfjs computes, per element (§ "Adam" of tfjs-core's adam_optimizer):
//   m' = m·β1 + g·(1 − β1),  v' = v·β2 + (g·g)·(1 − β2),
//   θ' = ((m'/c1) / (√(v'/c2) + ε))·(−lr) + θ,  c1 = 1 − β1^t, c2 = 1 − β2^t.
// No fused multiply-add here (this file is built without -mfma and with contraction off), so every operation rounds
// as tfjs's separate kernels do. The pass is memory-bound: split across the pool's threads in large chunks.
#include "adam.h"

#include <algorithm>
#include <cmath>

#include "thread_pool.h"

#pragma GCC optimize("fp-contract=off")

namespace icnn {

namespace {

constexpr size_t kChunk = 1 << 16;  // elements per task: 256 KiB per array, well above a wake-up's cost

void adamRange(const AdamArgs& a, size_t begin, size_t end) {
  for (size_t i = begin; i < end; i++) {
    const float g = a.grad[i];
    const float m = a.m[i] * a.beta1 + g * a.oneMinusBeta1;
    const float v = a.v[i] * a.beta2 + (g * g) * a.oneMinusBeta2;
    const float mHat = m / a.biasCorrection1;
    const float vHat = v / a.biasCorrection2;
    a.newM[i] = m;
    a.newV[i] = v;
    a.newValue[i] = (mHat / (std::sqrt(vHat) + a.epsilon)) * a.negLearningRate + a.value[i];
  }
}

}  // namespace

void adamStep(const AdamArgs& args) {
  const size_t chunks = (args.count + kChunk - 1) / kChunk;
  ThreadPool& pool = ThreadPool::instance();
  const int tasks = static_cast<int>(std::min<size_t>(chunks, static_cast<size_t>(pool.threads())));
  if (tasks <= 1) {
    adamRange(args, 0, args.count);
    return;
  }
  pool.run(tasks, [&](int t) {
    for (size_t c = static_cast<size_t>(t); c < chunks; c += static_cast<size_t>(tasks)) {
      adamRange(args, c * kChunk, std::min(args.count, (c + 1) * kChunk));
    }
  });
}

}  // namespace icnn
