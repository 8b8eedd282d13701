// cuDNN's dropout generator state, one per device (and per loaded cuDNN):
// made once from the seed (cudnnSetDropoutDescriptor, expensive) and shared
// by every dropout descriptor through cudnnRestoreDropoutDescriptor (cheap),
// as PyTorch does. set_dropout_seed() (rnn.h) makes each device re-make its
// state from the new seed at its next dropout use. The state buffers live for
// the whole process: cached RNN descriptors keep pointing at them.
// Everything here runs with the session's ctx->handle_mu held.
#pragma once
#include "cudnn_rnn_internal.h"

namespace cudnn_rnn {
namespace cuda {
namespace rnn {
namespace detail {

// Points `desc` (dropout p > 0) at the device's state, allocating it on first
// use. initialise: if the state was not made from the current seed yet, make
// it now through `desc` (queues cuDNN's init kernel on the stream); otherwise
// only restore. !initialise: restore only, for size queries of descriptors
// that never run (the state may still be unmade then).
Status attach_dropout(const Session& s, cudnn::DropoutDescriptor desc, float p, bool initialise);

// Before a forward that drops: re-makes the state from the current seed
// (through `desc`, already attached) if set_dropout_seed ran since it was made.
Status refresh_dropout(const Session& s, cudnn::DropoutDescriptor desc, float p);

}  // namespace detail
}  // namespace rnn
}  // namespace cuda
}  // namespace cudnn_rnn
