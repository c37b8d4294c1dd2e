// Micro-kernels of the float32 GEMM (see gemm.cc). A micro-kernel multiplies a packed MR x kc panel of A by a packed
// kc x NR panel of B and writes (or adds, when `accumulate`) the MR x NR product into C (row stride ldc). Panels are
// zero-padded to MR/NR, so the kernels always compute full tiles; gemm.cc handles partial tiles at the edges.
#pragma once

namespace icnn {

using MicroKernel = void (*)(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate);

struct KernelSet {
  const char* isa;  // instruction set, as reported by `icnn status`
  int mr;           // rows of a tile
  int nr;           // columns of a tile
  MicroKernel kernel;
  // The same product for the left nr/2 columns of a panel only (B still packed nr wide), or nullptr: an edge strip of
  // at most nr/2 columns (the last 8 of the ICNN agent's 200-wide layers with nr = 32) then costs about half a tile.
  MicroKernel halfKernel;
};

// Each returns its kernel set, or nullptr when the CPU lacks the instructions (checked at run time).
const KernelSet* avx512Kernels();
const KernelSet* avx2Kernels();
const KernelSet* genericKernels();

}  // namespace icnn
