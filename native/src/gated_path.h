// f(x, y) and ∇_y f of a PICNN's z-path at fixed x for a batch of rows, in one call (§1.2; src/models/gatedPath.ts):
//   s_i = (y ∘ yGate_i) W^(y)_i + uTerm_i [+ (g(s_{i−1}) ∘ zGate_{i−1}) W^(z)_i],   f = s_L + (α/2)‖y‖²,
// g(s) = max(s, a·s) (a = 0: ReLU), and backward ḡ_L = 1, ḡ_{i−1} = ((ḡ_i W^(z)ᵀ_i) ∘ zGate_{i−1}) ∘ g′(s_{i−1}),
// ∇_y f = Σ_i (ḡ_i W^(y)ᵀ_i) ∘ yGate_i + α y. An inner argmin over y (the ICNN agent's argmax over actions, §4.5)
// evaluates this tens of times per solve; through tfjs each evaluation is ~40 kernel calls, here it is one.
#pragma once

namespace icnn {

struct GatedLayerArgs {
  int width;                 // m_i
  const float* yGate;        // [rows × d]
  const float* passthrough;  // W^(y)_i, [d × m_i]
  const float* uTerm;        // [rows × m_i]
  const float* zGate;        // [rows × m_{i−1}], nullptr for i = 0
  const float* convex;       // W^(z)_i, [m_{i−1} × m_i], nullptr for i = 0
};

struct GatedPathArgs {
  int rows, d, layers;
  const GatedLayerArgs* layer;  // the last has width 1
  float negativeSlope;          // a of g
  float strongConvexity;        // α
  const float* y;               // [rows × d]
  float* energy;                // [rows]
  float* grad;                  // [rows × d], or nullptr for energies only
};

void gatedPathEnergyGrad(const GatedPathArgs& args);

// Where gatedPathVjp writes the gradients of one layer's tensors (shapes as GatedLayerArgs; zGate and convex nullptr
// for i = 0).
struct GatedLayerGrads {
  float* yGate;
  float* passthrough;
  float* uTerm;
  float* zGate;
  float* convex;
};

// Reverse mode through the z-path for tfjs's tape (src/backend/nativeGatedPath.ts): with upstream ē = dEnergy [rows],
// the gradients of Σ_r ē_r f_r with respect to y (into args.grad) and to every layer's tensors (into grads[i]).
// args.energy is not used. With ḡ_L = ē and ḡ_{i−1} = ((ḡ_i W^(z)ᵀ_i) ∘ zGate_i) ∘ g′(s_{i−1}):
//   ∂uTerm_i = ḡ_i, ∂W^(y)_i = (y ∘ yGate_i)ᵀ ḡ_i, ∂yGate_i = (ḡ_i W^(y)ᵀ_i) ∘ y,
//   ∂W^(z)_i = (g(s_{i−1}) ∘ zGate_i)ᵀ ḡ_i, ∂zGate_i = (ḡ_i W^(z)ᵀ_i) ∘ g(s_{i−1}),
//   ∂y = Σ_i (ḡ_i W^(y)ᵀ_i) ∘ yGate_i + α ē ∘ y.
void gatedPathVjp(const GatedPathArgs& args, const float* dEnergy, const GatedLayerGrads* grads);

}  // namespace icnn
