// The step loop both trainings share (train_mlp, train_compatible): progress and interruption
// before every step, Adam with a cosine-decayed step size, the mean loss of every epoch.
//
//   const std::vector<double> losses = run_steps(epochs, steps_per_epoch, lr, adam, progress, elapsed,
//                                                [&] { /* gradients of one batch */ return loss; });
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bebr/error.hpp"
#include "bebr/train.hpp"
#include "train/adam.hpp"

namespace bebr::detail {

// Passes over the data when the options leave them at 0: 10, or fewer on big sets, so that
// training takes about 600 steps. Fashion-MNIST's 20,000 rows at 4 bits x 384: 4 passes reach
// recall 0.907 in 146 s, 10 passes 0.916 in 419 s (2 cores).
inline std::uint32_t default_epochs(std::uint64_t steps_per_epoch) {
  constexpr std::uint64_t kSteps = 600;
  return static_cast<std::uint32_t>(std::clamp<std::uint64_t>((kSteps + steps_per_epoch - 1) / steps_per_epoch, 1, 10));
}

// Reports progress within a phase before the start and the neighbours: phase, rows done of
// total; throws Error(interrupted) when progress returns false.
class PhaseProgress {
 public:
  PhaseProgress(const MlpProgressFn& progress, const std::function<double()>& elapsed, MlpPhase phase,
                std::uint64_t total)
      : progress_(progress), elapsed_(elapsed), started_(elapsed()) {
    p_.phase = phase;
    p_.total = total;
  }
  void operator()(std::uint64_t done) {
    if (!progress_) return;
    p_.done = done;
    p_.seconds = elapsed_();
    p_.phase_seconds = p_.seconds - started_;
    if (!progress_(p_))
      throw Error(Errc::interrupted, std::string("training interrupted during the ") + phase_name(p_.phase));
  }

 private:
  const MlpProgressFn& progress_;
  const std::function<double()>& elapsed_;
  double started_;
  MlpProgress p_;
};
using Tick = std::function<void(std::uint64_t done)>;

// Runs epochs x steps_per_epoch steps. `step` computes the gradients of one batch and returns its
// loss; `after_update` (optional) runs after every Adam update. Returns the mean loss per epoch;
// throws Error(interrupted) when progress returns false.
template <class Step>
std::vector<double> run_steps(std::uint32_t epochs, std::uint64_t steps_per_epoch, double lr, Adam& adam,
                              const MlpProgressFn& progress, const std::function<double()>& elapsed, Step&& step,
                              const std::function<void()>& after_update = {}) {
  std::vector<double> losses;
  MlpProgress p;
  p.phase = MlpPhase::steps;
  p.epochs = epochs;
  p.steps = steps_per_epoch * epochs;
  const double started = elapsed();
  for (std::uint32_t e = 0; e < epochs; ++e) {
    double sum = 0;
    for (std::uint64_t s = 0; s < steps_per_epoch; ++s) {
      p.epoch = e + 1;
      p.epoch_steps = s;
      p.epoch_loss = s ? sum / double(s) : 0;
      p.seconds = elapsed();
      p.phase_seconds = p.seconds - started;
      if (progress && !progress(p)) throw Error(Errc::interrupted, "training interrupted during the steps");
      sum += step();
      adam.step(lr * 0.5 * (1 + std::cos(M_PI * double(p.step) / double(p.steps))));
      if (after_update) after_update();
      ++p.step;
    }
    losses.push_back(sum / double(steps_per_epoch));
    p.loss = losses.back();
  }
  return losses;
}

}  // namespace bebr::detail
