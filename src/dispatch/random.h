// Random fills for tensors on any device. The numbers always come from the
// host generator (core/random.h, PyTorch's CPU mt19937 stream), so a seed
// gives the same values on the GPU as on the CPU; GPU tensors get them
// through a host buffer.
#pragma once
#include "../core/status.h"
#include "../core/view.h"

namespace cudnn_rnn {
namespace dispatch {

enum class RandomFill { Uniform, Normal, BernoulliScaled };

// `v` contiguous float32/float64. (a, b): Uniform (from, to), Normal (mean,
// std), BernoulliScaled (keep probability, scale of kept values).
Status random_fill(RandomFill kind, const View& v, double a, double b);

}  // namespace dispatch
}  // namespace cudnn_rnn
