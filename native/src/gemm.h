// Float32 batched GEMM with a fused epilogue: C[b] = act(op(A)[aOffsets[b]] · op(B)[bOffsets[b]] + bias), act one of tfjs's fusable activations, row-major,
// op = identity or transpose. Batch broadcasting is expressed by the per-batch element offsets of A and B.
#pragma once

#include "kernels.h"

namespace icnn {

// Same numbering as tfjs's wasm backend (FusableActivation), so the JS side passes its attribute through.
enum Activation { kLinear = 0, kRelu = 1, kRelu6 = 2, kPrelu = 3, kLeakyRelu = 4, kSigmoid = 5, kElu = 6 };

struct GemmArgs {
  const float* a;
  const float* b;
  float* c;
  int batch;
  const int* aOffsets;  // element offset of each output batch's A matrix
  const int* bOffsets;
  int m, n, k;
  bool transA, transB;
  const float* bias;  // nullptr, or biasLen values added along the columns (biasLen 1: one scalar)
  int biasLen;
  int activation;
  float alpha;         // leaky-relu slope
  const float* prelu;  // PReLU slopes along the columns (preluLen 1: one slope), with kPrelu
  int preluLen;
  bool accumulate = false;  // C += product (no bias or activation then) instead of C = act(product + bias)
};

// The micro-kernels chosen for this CPU (AVX-512, else AVX2+FMA, else portable), fixed at first use.
const KernelSet& activeKernels();
void gemm(const GemmArgs& args);

}  // namespace icnn
