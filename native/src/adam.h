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

// TensorFlow 1's Adam (src/learning/adam.ts, the RL agents' optimizer) over flat float32 arrays, in exactly that
// file's JavaScript arithmetic: doubles, each stored value rounded to float32, so both give the same floats:
//   m ← β1·m + (1 − β1)·g,  v ← β2·v + ((1 − β2)·g)·g,  θ ← θ − (lrT·m)/(√v + ε).
struct AdamTf1Args {
  float* m;
  float* v;
  float* params;
  const float* grad;
  size_t count;
  double lrT;  // lr·√(1 − β2^t)/(1 − β1^t)
  double beta1, oneMinusBeta1, beta2, oneMinusBeta2, epsilon;
};

void adamTf1Step(const AdamTf1Args& args);

}  // namespace icnn
