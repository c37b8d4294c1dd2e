// Float32 sums over a leading or trailing block of axes, the two reductions a dense network's backward pass makes
// (bias gradients sum over the batch, losses over the features). The input is read as an outer x inner matrix.
#pragma once

#include <cstddef>

namespace icnn {

// out[j] = Σ_i x[i·inner + j] (reduceOuter) or out[i] = Σ_j x[i·inner + j].
void reduceSum(const float* x, float* out, size_t outer, size_t inner, bool reduceOuter);

}  // namespace icnn
