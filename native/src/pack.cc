// Two of the four operand layouts are already panel-shaped and pack by copying rows: A transposed (a panel's MR rows
// of op(A) lie side by side in one row of A) and B as stored. The other two, A as stored and B transposed, need a
// transpose: read one element per row, stride by the row length, for every value packed. As scalar loops they cost
// ~1 ns per value, which is most of a product when one side is short: in 128×1836 · 1836×600 (the BibTeX PICNN's
// x-path) each of the two threads packs all of A, 235k values, against ~0.7 ms of arithmetic. With AVX they go
// through 8×8 register transposes, eight rows of eight values at a time; edges stay scalar.
#include "pack.h"

#include <algorithm>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ICNN_PACK_AVX 1
#endif

namespace icnn {
namespace {

// dst[c * ld + r] = src[r * ls + c] for r, c in [0, rows) × [0, cols).
void transposeScalar(const float* src, long ls, int rows, int cols, float* dst, long ld) {
  for (int r = 0; r < rows; r++) {
    for (int c = 0; c < cols; c++) dst[c * ld + r] = src[r * ls + c];
  }
}

#ifdef ICNN_PACK_AVX
// The 8×8 block at src (row stride ls) transposed into dst (row stride ld).
__attribute__((target("avx"), always_inline)) inline void transpose8x8(const float* src, long ls, float* dst, long ld) {
  const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ls), r2 = _mm256_loadu_ps(src + 2 * ls),
               r3 = _mm256_loadu_ps(src + 3 * ls), r4 = _mm256_loadu_ps(src + 4 * ls),
               r5 = _mm256_loadu_ps(src + 5 * ls), r6 = _mm256_loadu_ps(src + 6 * ls),
               r7 = _mm256_loadu_ps(src + 7 * ls);
  // Interleave pairs of rows, then pairs of pairs: each 128-bit half then holds four values of one column.
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  // Low halves hold columns 0-3, high halves 4-7: join rows 0-3 with rows 4-7.
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(s0, s4, 0x20));
  _mm256_storeu_ps(dst + ld, _mm256_permute2f128_ps(s1, s5, 0x20));
  _mm256_storeu_ps(dst + 2 * ld, _mm256_permute2f128_ps(s2, s6, 0x20));
  _mm256_storeu_ps(dst + 3 * ld, _mm256_permute2f128_ps(s3, s7, 0x20));
  _mm256_storeu_ps(dst + 4 * ld, _mm256_permute2f128_ps(s0, s4, 0x31));
  _mm256_storeu_ps(dst + 5 * ld, _mm256_permute2f128_ps(s1, s5, 0x31));
  _mm256_storeu_ps(dst + 6 * ld, _mm256_permute2f128_ps(s2, s6, 0x31));
  _mm256_storeu_ps(dst + 7 * ld, _mm256_permute2f128_ps(s3, s7, 0x31));
}

// transposeScalar for a multiple of 8 rows, with 8×8 blocks while 8 columns remain.
__attribute__((target("avx"))) void transposeRowsOf8(const float* src, long ls, int rows, int cols, float* dst,
                                                     long ld) {
  for (int r = 0; r < rows; r += 8) {
    int c = 0;
    for (; c + 8 <= cols; c += 8) transpose8x8(src + r * ls + c, ls, dst + c * ld + r, ld);
    transposeScalar(src + r * ls + c, ls, 8, cols - c, dst + c * ld + r, ld);
  }
}

const bool kHasAvx = __builtin_cpu_supports("avx");
#endif

// dst[c * ld + r] = src[r * ls + c]: the rows up to a multiple of 8 through 8×8 blocks when the CPU has AVX.
void transpose(const float* src, long ls, int rows, int cols, float* dst, long ld) {
  int blocked = 0;
#ifdef ICNN_PACK_AVX
  if (kHasAvx) {
    blocked = rows / 8 * 8;
    if (blocked > 0) transposeRowsOf8(src, ls, blocked, cols, dst, ld);
  }
#endif
  transposeScalar(src + blocked * ls, ls, rows - blocked, cols, dst + blocked, ld);
}

// Zero the padding rows [filled, width) of each of kc groups of `width` values.
void zeroPad(float* out, int kc, int filled, int width) {
  if (filled == width) return;
  for (int p = 0; p < kc; p++) std::fill(out + p * width + filled, out + (p + 1) * width, 0.f);
}

// `count` values per group, copied from kc source rows of stride ld into groups of `width`. Loops rather than memcpy:
// the groups are 4-32 values, too short for a library call to pay; a full group of a known width is one or two
// vector moves.
template <int W>
void copyFullRows(const float* __restrict src, long ld, int kc, float* __restrict out) {
  for (int p = 0; p < kc; p++) {
    for (int i = 0; i < W; i++) out[p * W + i] = src[p * ld + i];
  }
}

void copyRows(const float* __restrict src, long ld, int kc, int count, int width, float* __restrict out) {
  if (count == width) {
    switch (width) {
      case 8: copyFullRows<8>(src, ld, kc, out); return;
      case 16: copyFullRows<16>(src, ld, kc, out); return;
      case 32: copyFullRows<32>(src, ld, kc, out); return;
      default: break;
    }
  }
  for (int p = 0; p < kc; p++) {
    for (int i = 0; i < count; i++) out[p * width + i] = src[p * ld + i];
  }
}

// Panels of `width` lines each (rows of op(A), or columns of op(B)), lines [first, first + count) at depth
// [p0, p0 + kc): each panel kc groups of `width` values, zero-padded. `linesAreRows`: each line is a row of the
// stored matrix (A as stored, B transposed), else a column (A transposed, B as stored).
void packPanels(const float* m, long ld, bool linesAreRows, int first, int count, int p0, int kc, int width, float* out) {
  for (int offset = 0; offset < count; offset += width) {
    const int lines = std::min(width, count - offset);
    const long line = first + offset;
    if (linesAreRows) {
      transpose(m + line * ld + p0, ld, lines, kc, out, width);
    } else {
      copyRows(m + p0 * ld + line, ld, kc, lines, width, out);
    }
    zeroPad(out, kc, lines, width);
    out += static_cast<long>(kc) * width;
  }
}

}  // namespace

void packA(const GemmArgs& g, const float* a, int i0, int mc, int p0, int kc, int mr, float* out) {
  packPanels(a, g.transA ? g.m : g.k, !g.transA, i0, mc, p0, kc, mr, out);
}

void packB(const GemmArgs& g, const float* b, int p0, int kc, int j0, int nc, int nr, float* out) {
  packPanels(b, g.transB ? g.k : g.n, g.transB, j0, nc, p0, kc, nr, out);
}

}  // namespace icnn
