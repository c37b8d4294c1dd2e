// Packing of GEMM operands into the micro-kernels' panel layout (see gemm.cc). Packing is pure data movement: the
// packed panels, and so every product, are the same floats whichever path below fills them.
#pragma once

#include "gemm.h"

namespace icnn {

// op(A)[rows i0.., cols p0..] into MR-high panels, each kc columns of MR contiguous values, zero-padded.
void packA(const GemmArgs& g, const float* a, int i0, int mc, int p0, int kc, int mr, float* out);

// op(B)[rows p0.., cols j0..] into NR-wide panels, each kc rows of NR contiguous values, zero-padded.
void packB(const GemmArgs& g, const float* b, int p0, int kc, int j0, int nc, int nr, float* out);

}  // namespace icnn
