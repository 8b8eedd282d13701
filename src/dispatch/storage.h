// Moving bytes in and out of a Storage wherever it lives: host memory
// directly, device memory through the CUDA backend's copies.
#pragma once
#include <cstddef>

#include "../core/status.h"
#include "../core/storage.h"

namespace cudnn_rnn {
namespace dispatch {

// From host memory into `dst` at byte `offset`. Bounds are the caller's.
Status storage_write(Storage& dst, size_t offset, const void* src, size_t nbytes);
// From `src` at byte `offset` into host memory; returns once `dst` holds them.
Status storage_read(const Storage& src, size_t offset, void* dst, size_t nbytes);
// Between two storages on any devices (GPU to other GPU through the host).
Status storage_copy(const Storage& src, size_t src_offset, Storage& dst, size_t dst_offset, size_t nbytes);

}  // namespace dispatch
}  // namespace cudnn_rnn
