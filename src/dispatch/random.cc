#include "random.h"

#include <new>
#include <vector>

#include "../core/random.h"
#include "../cuda/memory.h"

namespace cudnn_rnn {
namespace dispatch {

namespace {
void fill_host(RandomFill kind, DType dtype, void* data, int64_t n, double a, double b) {
  Generator& g = default_generator();
  switch (kind) {
    case RandomFill::Uniform: g.uniform_fill(dtype, data, n, a, b); break;
    case RandomFill::Normal: g.normal_fill(dtype, data, n, a, b); break;
    case RandomFill::BernoulliScaled: g.bernoulli_scaled_fill(dtype, data, n, a, b); break;
  }
}
}  // namespace

Status random_fill(RandomFill kind, const View& v, double a, double b) {
  const int64_t n = v.numel();
  if (v.device.type != DeviceType::Cuda) {
    fill_host(kind, v.dtype, v.data, n, a, b);
    return Status::Ok();
  }
  const size_t nbytes = static_cast<size_t>(n) * dtype_size(v.dtype);
  std::vector<char> host;
  try {
    host.resize(nbytes);
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::OutOfMemory, "out of host memory making " + std::to_string(nbytes) + " random bytes");
  }
  fill_host(kind, v.dtype, host.data(), n, a, b);
  return cuda::copy_to_device(v.device.index, v.data, host.data(), nbytes);
}

}  // namespace dispatch
}  // namespace cudnn_rnn
