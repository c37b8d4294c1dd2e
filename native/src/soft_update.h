// The soft target update of the RL agents (DDPG's θ' ← θ' − τ(θ' − θ), §4.5's target network) over flat float32
// arrays, in exactly the JavaScript arithmetic of src/rl/agents/flatParams.ts: doubles, each stored value rounded to
// float32, so both give the same floats. In JavaScript the loop took about 1.3 ms per ICNN update (213k parameters).
#pragma once

#include <cstddef>

namespace icnn {

void softUpdate(float* target, const float* online, size_t count, double tau);

}  // namespace icnn
