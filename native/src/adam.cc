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

void adamTf1Range(const AdamTf1Args& a, size_t begin, size_t end) {
  for (size_t i = begin; i < end; i++) {
    const double g = a.grad[i];
    const float m = static_cast<float>(a.beta1 * a.m[i] + a.oneMinusBeta1 * g);
    const float v = static_cast<float>(a.beta2 * a.v[i] + a.oneMinusBeta2 * g * g);
    a.m[i] = m;
    a.v[i] = v;
    a.params[i] = static_cast<float>(a.params[i] - (a.lrT * m) / (std::sqrt(static_cast<double>(v)) + a.epsilon));
  }
}

// Chunks of the pool's threads over [0, count).
template <typename Range>
void chunked(size_t count, const Range& range) {
  const size_t chunks = (count + kChunk - 1) / kChunk;
  ThreadPool& pool = ThreadPool::instance();
  const int tasks = static_cast<int>(std::min<size_t>(chunks, static_cast<size_t>(pool.threads())));
  if (tasks <= 1) {
    range(0, count);
    return;
  }
  pool.run(tasks, [&](int t) {
    for (size_t c = static_cast<size_t>(t); c < chunks; c += static_cast<size_t>(tasks)) {
      range(c * kChunk, std::min(count, (c + 1) * kChunk));
    }
  });
}

}  // namespace

void adamTf1Step(const AdamTf1Args& args) {
  chunked(args.count, [&](size_t begin, size_t end) { adamTf1Range(args, begin, end); });
}

void adamStep(const AdamArgs& args) {
  chunked(args.count, [&](size_t begin, size_t end) { adamRange(args, begin, end); });
}

}  // namespace icnn
