// Scratch buffers that grow to the largest size asked and are then reused (per thread, by their owners).
#pragma once

#include <cstddef>
#include <vector>

namespace icnn {

// The data of `v` with room for at least n floats (contents not preserved when it grows).
inline float* sized(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

}  // namespace icnn
