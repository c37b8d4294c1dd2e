// One Adam step over a float32 tensor, fused into a single pass, in exactly tfjs's AdamOptimizer arithmetic (each
// product, sum and quotient rounded to float32 in its order), so the fused path gives tfjs's results to the bit.
#pragma once

#include <cstddef>

namespace icnn {

struct AdamArgs {
  const float* value;
  const float* m;
  const float* v;
  const float* grad;
  float* newValue;
  float* newM;
  float* newV;
  size_t count;
  float beta1, oneMinusBeta1;        // β1 and (1 − β1) as tfjs rounds them to float32
  float beta2, oneMinusBeta2;
  float biasCorrection1, biasCorrection2;  // 1 − β1^t and 1 − β2^t (tfjs's accBeta variables)
  float epsilon;
  float negLearningRate;
};

void adamStep(const AdamArgs& args);

}  // namespace icnn
