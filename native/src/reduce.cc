// See reduce.h. Column sums stream the rows once into the output (the compiler vectorizes the inner loop); row sums
// keep eight partial sums so that the loop vectorizes without reassociating a single accumulator.
#include "reduce.h"

#include <algorithm>

namespace icnn {

namespace {

void columnSums(const float* x, float* out, size_t outer, size_t inner) {
  std::fill(out, out + inner, 0.0f);
  for (size_t i = 0; i < outer; i++) {
    const float* row = x + i * inner;
    for (size_t j = 0; j < inner; j++) out[j] += row[j];
  }
}

void rowSums(const float* x, float* out, size_t outer, size_t inner) {
  for (size_t i = 0; i < outer; i++) {
    const float* row = x + i * inner;
    float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t j = 0;
    for (; j + 8 <= inner; j += 8) {
      for (int l = 0; l < 8; l++) part[l] += row[j + l];
    }
    float sum = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
    for (; j < inner; j++) sum += row[j];
    out[i] = sum;
  }
}

}  // namespace

void reduceSum(const float* x, float* out, size_t outer, size_t inner, bool reduceOuter) {
  if (reduceOuter && inner == 1) {
    rowSums(x, out, 1, outer);  // a full reduction: eight partial sums, faster and more accurate than one
  } else if (reduceOuter) {
    columnSums(x, out, outer, inner);
  } else {
    rowSums(x, out, outer, inner);
  }
}

}  // namespace icnn
