#include "conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm.h"
#include "scratch.h"
#include "thread_pool.h"

namespace icnn {
namespace {

// Rows [r0, r1) of the im2col matrix: row (n, oh, ow), columns (kh, kw, c) in the filter's order. Where a filter
// row lies inside the image (undilated), its filterW·inC values are contiguous in x and copied at once: with one
// input channel, a copy per value made the ConvPICNN's first layer slower than XNNPACK.
void im2colRows(const ConvArgs& g, float* col, long r0, long r1) {
  const long k = static_cast<long>(g.filterH) * g.filterW * g.inC;
  const long run = static_cast<long>(g.filterW) * g.inC;
  for (long r = r0; r < r1; r++) {
    const int ow = static_cast<int>(r % g.outW);
    const int oh = static_cast<int>((r / g.outW) % g.outH);
    const int n = static_cast<int>(r / (static_cast<long>(g.outW) * g.outH));
    const int iw0 = ow * g.strideW - g.padLeft;
    const bool rowInside = g.dilationW == 1 && iw0 >= 0 && iw0 + g.filterW <= g.inW;
    float* dst = col + r * k;
    for (int kh = 0; kh < g.filterH; kh++) {
      const int ih = oh * g.strideH + kh * g.dilationH - g.padTop;
      if (ih < 0 || ih >= g.inH) {
        std::fill(dst, dst + run, 0.f);
        dst += run;
        continue;
      }
      const float* src = g.x + ((static_cast<long>(n) * g.inH + ih) * g.inW) * g.inC;
      if (rowInside) {
        std::memcpy(dst, src + static_cast<long>(iw0) * g.inC, sizeof(float) * run);
        dst += run;
        continue;
      }
      for (int kw = 0; kw < g.filterW; kw++, dst += g.inC) {
        const int iw = iw0 + kw * g.dilationW;
        if (iw < 0 || iw >= g.inW) {
          std::fill(dst, dst + g.inC, 0.f);
        } else {
          std::memcpy(dst, src + static_cast<long>(iw) * g.inC, sizeof(float) * g.inC);
        }
      }
    }
  }
}

// Adds the im2col rows of one image (rowsPerImage of them, from `src`) into that image's gradient `image`, the
// inverse scatter of im2colRows (same contiguous fast path).
void col2imImage(const ConvArgs& g, const float* src, float* __restrict image) {
  const long run = static_cast<long>(g.filterW) * g.inC;
  for (int oh = 0; oh < g.outH; oh++) {
    for (int ow = 0; ow < g.outW; ow++) {
      const int iw0 = ow * g.strideW - g.padLeft;
      const bool rowInside = g.dilationW == 1 && iw0 >= 0 && iw0 + g.filterW <= g.inW;
      for (int kh = 0; kh < g.filterH; kh++, src += run) {
        const int ih = oh * g.strideH + kh * g.dilationH - g.padTop;
        if (ih < 0 || ih >= g.inH) continue;
        float* row = image + static_cast<long>(ih) * g.inW * g.inC;
        if (rowInside) {
          float* __restrict dst = row + static_cast<long>(iw0) * g.inC;
          for (long e = 0; e < run; e++) dst[e] += src[e];
          continue;
        }
        const float* part = src;
        for (int kw = 0; kw < g.filterW; kw++, part += g.inC) {
          const int iw = iw0 + kw * g.dilationW;
          if (iw < 0 || iw >= g.inW) continue;
          float* dst = row + static_cast<long>(iw) * g.inC;
          for (int c = 0; c < g.inC; c++) dst[c] += part[c];
        }
      }
    }
  }
}

// Rows of the im2col matrix per block (about 2 MB of it), so that it is read back from cache rather than memory:
// whole, it reaches tens of MB (e.g. 37 MB for a gradient convolution of the ConvPICNN).
long blockRowsFor(long k) { return std::max<long>(64, (long{1} << 19) / std::max<long>(k, 1)); }

// Fills rows [r0, r0 + n) of the im2col matrix into colData (which holds row r0 first), on the pool's threads.
void im2colBlock(const ConvArgs& g, float* colData, long r0, long n, long k) {
  ThreadPool& pool = ThreadPool::instance();
  const int threads = n * k < (1 << 16) ? 1 : pool.threads();
  // The pointer, not a thread_local vector: inside the lambda a worker thread would name its own.
  pool.run(threads, [=, &g](int t) {
    im2colRows(g, colData - r0 * k, r0 + n * t / threads, r0 + n * (t + 1) / threads);
  });
}

}  // namespace

void conv2d(const ConvArgs& g) {
  const long rows = static_cast<long>(g.batch) * g.outH * g.outW;
  const long k = static_cast<long>(g.filterH) * g.filterW * g.inC;
  if (rows == 0 || g.outC == 0) return;
  const long blockRows = blockRowsFor(k);
  thread_local std::vector<float> col;
  col.resize(static_cast<size_t>(std::min(rows, blockRows) * k));
  const int zero = 0;
  for (long r0 = 0; r0 < rows; r0 += blockRows) {
    const long n = std::min(blockRows, rows - r0);
    im2colBlock(g, col.data(), r0, n, k);
    gemm(GemmArgs{col.data(), g.filter, g.out + r0 * g.outC, 1, &zero, &zero, static_cast<int>(n), g.outC,
                  static_cast<int>(k), false, false, nullptr, 0, kLinear, 0.f, nullptr, 0});
  }
}

// Below this many output channels the GEMMs of the gradients would compute whole 32-wide tiles for a few useful
// columns (one, for the ConvPICNN's z-path convolutions: 30x slower than their useful work), so the filter
// gradient accumulates the products directly and the input gradient scatters them without an im2col matrix.
constexpr int kNarrowChannels = 8;

// dW += colᵀ·dy for rows [r0, r1) of the block `col` (which holds row b0 first), into `acc` [k × outC].
void accumulateNarrowFilterGradient(const ConvArgs& g, const float* col, long b0, long r0, long r1, long k, float* acc) {
  const int f = g.outC;
  for (long r = r0; r < r1; r++) {
    const float* __restrict c = col + (r - b0) * k;
    const float* __restrict d = g.filter + r * f;
    for (int j = 0; j < f; j++) {
      const float dj = d[j];
      float* __restrict a = acc + static_cast<long>(j) * k;  // transposed: contiguous over k, so this vectorizes
      for (long e = 0; e < k; e++) a[e] += c[e] * dj;
    }
  }
}

void narrowFilterGradient(const ConvArgs& g, long rows, long k) {
  ThreadPool& pool = ThreadPool::instance();
  const int threads = rows * k * g.outC < (1 << 16) ? 1 : pool.threads();
  const long blockRows = blockRowsFor(k);
  // Each thread builds and reduces its own im2col rows; partial sums per thread, added at the end.
  std::vector<std::vector<float>> partial(threads, std::vector<float>(static_cast<size_t>(k) * g.outC, 0.f));
  pool.run(threads, [&](int t) {
    thread_local std::vector<float> col;
    const long lo = rows * t / threads, hi = rows * (t + 1) / threads;
    for (long r0 = lo; r0 < hi; r0 += blockRows) {
      const long n = std::min(blockRows, hi - r0);
      float* block = sized(col, static_cast<size_t>(n * k));
      im2colRows(g, block - r0 * k, r0, r0 + n);
      accumulateNarrowFilterGradient(g, block, r0, r0, r0 + n, k, partial[t].data());
    }
  });
  for (long e = 0; e < k; e++) {
    for (int j = 0; j < g.outC; j++) {
      float sum = 0.f;
      for (int t = 0; t < threads; t++) sum += partial[t][static_cast<size_t>(j) * k + e];
      g.out[e * g.outC + j] = sum;
    }
  }
}

void conv2dBackpropFilter(const ConvArgs& g) {
  // Here g.filter is dy [batch, outH, outW, outC] and g.out is dW [filterH, filterW, inC, outC], read as the
  // (kh·kw·c) x f matrix of conv2d: dW = colᵀ·dy over all output pixels, accumulated one block of rows at a time.
  const long rows = static_cast<long>(g.batch) * g.outH * g.outW;
  const long k = static_cast<long>(g.filterH) * g.filterW * g.inC;
  if (k == 0 || g.outC == 0) return;
  if (g.outC < kNarrowChannels) {
    narrowFilterGradient(g, rows, k);
    return;
  }
  std::fill(g.out, g.out + k * g.outC, 0.f);
  const long blockRows = blockRowsFor(k);
  thread_local std::vector<float> col;
  col.resize(static_cast<size_t>(std::min(rows, blockRows) * k));
  const int zero = 0;
  for (long r0 = 0; r0 < rows; r0 += blockRows) {
    const long n = std::min(blockRows, rows - r0);
    im2colBlock(g, col.data(), r0, n, k);
    GemmArgs product{col.data(), g.filter + r0 * g.outC, g.out, 1, &zero, &zero, static_cast<int>(k), g.outC,
                     static_cast<int>(n), true, false, nullptr, 0, kLinear, 0.f, nullptr, 0};
    product.accumulate = true;
    gemm(product);
  }
}

// dx of one image for a narrow convolution: each output pixel's dy·Wᵀ (kh·kw·c values) added straight into dx.
// `wt` is the filter laid out [kh, f, kw, c], so that for one filter row and output channel the kw·c weights are
// contiguous: where the filter row lies inside the image (undilated) they add into a contiguous run of dx, and the
// loop vectorizes over the whole run (kw·c values), not only over c (one value for a one-channel image).
void narrowInputGradientImage(const ConvArgs& g, const float* wt, const float* dy, float* image) {
  const int f = g.outC;
  const long run = static_cast<long>(g.filterW) * g.inC;
  for (int oh = 0; oh < g.outH; oh++) {
    for (int ow = 0; ow < g.outW; ow++, dy += f) {
      const int iw0 = ow * g.strideW - g.padLeft;
      const bool rowInside = g.dilationW == 1 && iw0 >= 0 && iw0 + g.filterW <= g.inW;
      for (int kh = 0; kh < g.filterH; kh++) {
        const int ih = oh * g.strideH + kh * g.dilationH - g.padTop;
        if (ih < 0 || ih >= g.inH) continue;
        float* row = image + static_cast<long>(ih) * g.inW * g.inC;
        for (int j = 0; j < f; j++) {
          const float d = dy[j];
          const float* __restrict w = wt + (static_cast<long>(kh) * f + j) * run;
          if (rowInside) {
            float* __restrict dst = row + static_cast<long>(iw0) * g.inC;
            for (long e = 0; e < run; e++) dst[e] += d * w[e];
            continue;
          }
          for (int kw = 0; kw < g.filterW; kw++) {
            const int iw = iw0 + kw * g.dilationW;
            if (iw < 0 || iw >= g.inW) continue;
            float* __restrict dst = row + static_cast<long>(iw) * g.inC;
            const float* __restrict wk = w + static_cast<long>(kw) * g.inC;
            for (int c = 0; c < g.inC; c++) dst[c] += d * wk[c];
          }
        }
      }
    }
  }
}

void conv2dBackpropInput(const ConvArgs& g) {
  // Here g.x is dy [batch, outH, outW, outC] and g.out is dx [batch, inH, inW, inC]. Row (n, oh, ow) of dy·Wᵀ (W read
  // as the (kh·kw·c) x f matrix of conv2d) holds what that output pixel's gradient sends to each value of its
  // receptive field; col2im adds the rows into dx. Images never share a dx pixel, so threads split the images.
  const long rowsPerImage = static_cast<long>(g.outH) * g.outW;
  const long k = static_cast<long>(g.filterH) * g.filterW * g.inC;
  const long imageSize = static_cast<long>(g.inH) * g.inW * g.inC;
  std::fill(g.out, g.out + g.batch * imageSize, 0.f);
  if (rowsPerImage == 0 || k == 0 || g.outC == 0 || g.batch == 0) return;
  ThreadPool& pool = ThreadPool::instance();
  if (g.outC < kNarrowChannels) {
    thread_local std::vector<float> swapped;
    float* wt = sized(swapped, static_cast<size_t>(k) * g.outC);
    for (int kh = 0; kh < g.filterH; kh++) {  // [kh, kw, c, f] → [kh, f, kw, c]
      for (int kw = 0; kw < g.filterW; kw++) {
        for (int c = 0; c < g.inC; c++) {
          for (int j = 0; j < g.outC; j++) {
            wt[((static_cast<long>(kh) * g.outC + j) * g.filterW + kw) * g.inC + c] =
                g.filter[((static_cast<long>(kh) * g.filterW + kw) * g.inC + c) * g.outC + j];
          }
        }
      }
    }
    const int threads = static_cast<int>(std::min<long>(g.batch, g.batch * rowsPerImage * k < (1 << 16) ? 1 : pool.threads()));
    pool.run(threads, [&](int t) {
      for (long n = g.batch * t / threads; n < g.batch * (t + 1) / threads; n++) {
        narrowInputGradientImage(g, wt, g.x + n * rowsPerImage * g.outC, g.out + n * imageSize);
      }
    });
    return;
  }
  const long blockImages = std::max<long>(1, (long{1} << 19) / std::max<long>(rowsPerImage * k, 1));
  thread_local std::vector<float> col;
  col.resize(static_cast<size_t>(std::min<long>(g.batch, blockImages) * rowsPerImage * k));
  float* colData = col.data();
  const int zero = 0;
  for (long n0 = 0; n0 < g.batch; n0 += blockImages) {
    const long images = std::min<long>(blockImages, g.batch - n0);
    const long rows = images * rowsPerImage;
    GemmArgs gemmArgs{g.x + n0 * rowsPerImage * g.outC, g.filter, colData, 1, &zero, &zero, static_cast<int>(rows),
                      static_cast<int>(k), g.outC, false, true, nullptr, 0, kLinear, 0.f, nullptr, 0};
    gemm(gemmArgs);
    const int threads = static_cast<int>(std::min<long>(images, rows * k < (1 << 16) ? 1 : pool.threads()));
    pool.run(threads, [=, &g](int t) {
      for (long n = n0 + images * t / threads; n < n0 + images * (t + 1) / threads; n++) {
        col2imImage(g, colData + (n - n0) * rowsPerImage * k, g.out + n * imageSize);
      }
    });
  }
}

}  // namespace icnn
