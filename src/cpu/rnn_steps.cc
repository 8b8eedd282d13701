// Rows per time step (rnn_internal.h): the padded layout's N at every step,
// or the shrinking batch of packed input with the row offset of each step.
#include "rnn_internal.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {
namespace detail {

StepRows::StepRows(const int64_t* batch_sizes, int64_t T, int64_t N)
    : bs_(batch_sizes), T_(T), N_(N) {
  if (!bs_) return;
  off_.resize(static_cast<size_t>(T + 1));
  off_[0] = 0;
  for (int64_t t = 0; t < T; ++t) off_[t + 1] = off_[t] + bs_[t];
}

bool batch_sizes_sane(const int64_t* batch_sizes, int64_t T, int64_t N) {
  if (T < 1 || batch_sizes[0] != N || batch_sizes[T - 1] < 1) return false;
  for (int64_t t = 1; t < T; ++t)
    if (batch_sizes[t] > batch_sizes[t - 1]) return false;
  return true;
}

}  // namespace detail
}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
