#include "storage.h"

#include <cstring>
#include <new>
#include <vector>

#include "../cuda/memory.h"

namespace cudnn_rnn {
namespace dispatch {

namespace {
char* at(const Storage& s, size_t offset) { return static_cast<char*>(s.data) + offset; }
bool on_gpu(const Storage& s) { return s.device.type == DeviceType::Cuda; }
}  // namespace

Status storage_write(Storage& dst, size_t offset, const void* src, size_t nbytes) {
  if (on_gpu(dst)) return cuda::copy_to_device(dst.device.index, at(dst, offset), src, nbytes);
  std::memcpy(at(dst, offset), src, nbytes);
  return Status::Ok();
}

Status storage_read(const Storage& src, size_t offset, void* dst, size_t nbytes) {
  if (on_gpu(src)) return cuda::copy_to_host(src.device.index, dst, at(src, offset), nbytes);
  std::memcpy(dst, at(src, offset), nbytes);
  return Status::Ok();
}

Status storage_copy(const Storage& src, size_t src_offset, Storage& dst, size_t dst_offset, size_t nbytes) {
  if (nbytes == 0) return Status::Ok();
  if (!on_gpu(src)) return storage_write(dst, dst_offset, at(src, src_offset), nbytes);
  if (!on_gpu(dst)) return storage_read(src, src_offset, at(dst, dst_offset), nbytes);
  if (src.device.index == dst.device.index) {
    return cuda::copy_on_device(src.device.index, at(dst, dst_offset), at(src, src_offset), nbytes);
  }
  // Between two GPUs: through the host, which needs no peer access.
  std::vector<char> staging;
  try {
    staging.resize(nbytes);
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::OutOfMemory, "out of host memory staging a copy of " + std::to_string(nbytes) + " bytes between GPUs");
  }
  CUDNN_RNN_RETURN_IF_ERROR(storage_read(src, src_offset, staging.data(), nbytes));
  return storage_write(dst, dst_offset, staging.data(), nbytes);
}

}  // namespace dispatch
}  // namespace cudnn_rnn
