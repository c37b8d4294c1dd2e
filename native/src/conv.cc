#include "conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm.h"
#include "thread_pool.h"

namespace icnn {
namespace {

// Rows [r0, r1) of the im2col matrix: row (n, oh, ow), columns (kh, kw, c) in the filter's order.
void im2colRows(const ConvArgs& g, float* col, long r0, long r1) {
  const long k = static_cast<long>(g.filterH) * g.filterW * g.inC;
  for (long r = r0; r < r1; r++) {
    const int ow = static_cast<int>(r % g.outW);
    const int oh = static_cast<int>((r / g.outW) % g.outH);
    const int n = static_cast<int>(r / (static_cast<long>(g.outW) * g.outH));
    float* dst = col + r * k;
    for (int kh = 0; kh < g.filterH; kh++) {
      const int ih = oh * g.strideH + kh * g.dilationH - g.padTop;
      for (int kw = 0; kw < g.filterW; kw++, dst += g.inC) {
        const int iw = ow * g.strideW + kw * g.dilationW - g.padLeft;
        if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW) {
          std::fill(dst, dst + g.inC, 0.f);
        } else {
          std::memcpy(dst, g.x + ((static_cast<long>(n) * g.inH + ih) * g.inW + iw) * g.inC, sizeof(float) * g.inC);
        }
      }
    }
  }
}

}  // namespace

void conv2d(const ConvArgs& g) {
  const long rows = static_cast<long>(g.batch) * g.outH * g.outW;
  const long k = static_cast<long>(g.filterH) * g.filterW * g.inC;
  if (rows == 0 || g.outC == 0) return;
  // The im2col matrix is built and multiplied a block of rows at a time (about 2 MB), so that it is read back from
  // cache rather than memory: whole, it reaches tens of MB (e.g. 37 MB for a gradient convolution of the ConvPICNN).
  const long blockRows = std::max<long>(64, (long{1} << 19) / std::max<long>(k, 1));
  thread_local std::vector<float> col;
  col.resize(static_cast<size_t>(std::min(rows, blockRows) * k));
  // The pointer, not `col`: inside the lambda a worker thread would name its own (empty) thread_local vector.
  float* colData = col.data();
  ThreadPool& pool = ThreadPool::instance();
  const int zero = 0;
  for (long r0 = 0; r0 < rows; r0 += blockRows) {
    const long n = std::min(blockRows, rows - r0);
    const int threads = n * k < (1 << 16) ? 1 : pool.threads();
    pool.run(threads, [=, &g](int t) {
      im2colRows(g, colData - r0 * k, r0 + n * t / threads, r0 + n * (t + 1) / threads);
    });
    GemmArgs gemmArgs{colData, g.filter, g.out + r0 * g.outC, 1, &zero, &zero, static_cast<int>(n), g.outC,
                      static_cast<int>(k), false, false, nullptr, 0, kLinear, 0.f, nullptr, 0};
    gemm(gemmArgs);
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
  const long blockImages = std::max<long>(1, (long{1} << 19) / std::max<long>(rowsPerImage * k, 1));
  thread_local std::vector<float> col;
  col.resize(static_cast<size_t>(std::min<long>(g.batch, blockImages) * rowsPerImage * k));
  float* colData = col.data();
  ThreadPool& pool = ThreadPool::instance();
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
        float* image = g.out + n * imageSize;
        const float* src = colData + (n - n0) * rowsPerImage * k;
        for (int oh = 0; oh < g.outH; oh++) {
          for (int ow = 0; ow < g.outW; ow++, src += k) {
            const float* part = src;
            for (int kh = 0; kh < g.filterH; kh++) {
              const int ih = oh * g.strideH + kh * g.dilationH - g.padTop;
              for (int kw = 0; kw < g.filterW; kw++, part += g.inC) {
                const int iw = ow * g.strideW + kw * g.dilationW - g.padLeft;
                if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW) continue;
                float* dst = image + (static_cast<long>(ih) * g.inW + iw) * g.inC;
                for (int c = 0; c < g.inC; c++) dst[c] += part[c];
              }
            }
          }
        }
      }
    });
  }
}

}  // namespace icnn
