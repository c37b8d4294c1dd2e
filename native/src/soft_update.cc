#include "soft_update.h"

namespace icnn {

void softUpdate(float* target, const float* online, size_t count, double tau) {
  for (size_t k = 0; k < count; k++) {
    const double t = target[k];
    target[k] = static_cast<float>(t - tau * (t - static_cast<double>(online[k])));
  }
}

}  // namespace icnn
