// Row gather and scatter-add by an int32 index (embedding forward/backward)
// on the device. The CPU backend's semantics (cpu/kernels_index.cc), with one
// difference forced by the index living in device memory: its values cannot
// be checked on the host without synchronising, so lib/ checks them (it
// does, on the host copy it reads anyway: ops/shape.ts indexSelect,
// nn/functional.ts embedding) and the kernels only stay in bounds: an
// out-of-range index gathers a row of zeros and scatters nothing.
//
// index_add_rows is deterministic, and adds in exactly the CPU order: the
// (index, position) pairs are sorted by index with a stable radix sort
// (CUB), then one thread per (distinct index, column) adds that row's
// gradient rows in increasing position order onto the table's value, as the
// CPU loop does. No floating-point atomics, so results do not depend on
// scheduling (PyTorch's embedding backward is deterministic on CUDA too).
#include <cub/device/device_radix_sort.cuh>

#include <string>

#include "../kernels.h"
#include "../memory.h"
#include "kernels_loop.cuh"

namespace cudnn_rnn {
namespace cuda {
namespace {

using detail::invalid;
using kernels::check_rows_args;

// Threads over the columns of a row, and rows per block: a block of 256
// covers whole short rows (an embedding of 16 or 64) without idle threads.
dim3 row_block(int64_t cols) {
  const int x = detail::pow2_clamp(cols, 32, detail::kThreads);
  return dim3(x, detail::kThreads / x);
}

dim3 row_grid(int64_t rows, int64_t cols, dim3 block) {
  int64_t gx = (cols + block.x - 1) / block.x;
  int64_t gy = (rows + block.y - 1) / block.y;
  gx = gx < 1 ? 1 : (gx > 65535 ? 65535 : gx);
  gy = gy < 1 ? 1 : (gy > 65535 ? 65535 : gy);
  return dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy));
}

// out[i, :] = table[index[i], :], or zeros for an out-of-range index.
template <typename T>
__global__ void select_rows_kernel(const T* table, int64_t rows, int64_t ts0, int64_t ts1, const int32_t* index,
                                   int64_t is0, int64_t n, int64_t cols, T* out, int64_t os0, int64_t os1) {
  for (int64_t i = static_cast<int64_t>(blockIdx.y) * blockDim.y + threadIdx.y; i < n;
       i += static_cast<int64_t>(gridDim.y) * blockDim.y) {
    const int64_t r = index[i * is0];
    const bool valid = r >= 0 && r < rows;
    const T* src = table + (valid ? r : 0) * ts0;
    T* dst = out + i * os0;
    for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < cols;
         j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      dst[j * os1] = valid ? src[j * ts1] : T(0);
    }
  }
}

// The sort's input: key = the index (sentinel for an out-of-range one, which
// sorts last and is skipped), value = the position.
__global__ void add_rows_keys_kernel(const int32_t* index, int64_t is0, int64_t n, int64_t rows, uint32_t sentinel,
                                     uint32_t* keys, int32_t* positions) {
  for (int64_t i = detail::global_thread(); i < n; i += detail::grid_threads()) {
    const int32_t r = index[i * is0];
    keys[i] = (r >= 0 && r < rows) ? static_cast<uint32_t>(r) : sentinel;
    positions[i] = static_cast<int32_t>(i);
  }
}

template <typename T>
__device__ __forceinline__ T add_value(T a, T b) {
  if constexpr (std::is_same_v<T, int32_t>) {
    return detail::wrap_add(a, b);
  } else {
    return a + b;
  }
}

// After the sort: the first position p of each run of equal keys adds the
// run's gradient rows (positions ascending, the sort being stable) onto
// table_grad[key, :], one thread per column.
template <typename T>
__global__ void add_rows_sorted_kernel(const uint32_t* keys, const int32_t* positions, int64_t n, uint32_t sentinel,
                                       const T* grad, int64_t gs0, int64_t gs1, int64_t cols, T* table,
                                       int64_t ts0, int64_t ts1) {
  for (int64_t p = static_cast<int64_t>(blockIdx.y) * blockDim.y + threadIdx.y; p < n;
       p += static_cast<int64_t>(gridDim.y) * blockDim.y) {
    const uint32_t key = keys[p];
    if (key == sentinel || (p > 0 && keys[p - 1] == key)) continue;
    T* dst = table + static_cast<int64_t>(key) * ts0;
    for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < cols;
         j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      T acc = dst[j * ts1];
      for (int64_t q = p; q < n && keys[q] == key; ++q) {
        acc = add_value(acc, grad[static_cast<int64_t>(positions[q]) * gs0 + j * gs1]);
      }
      dst[j * ts1] = acc;
    }
  }
}

size_t align_up(size_t n) { return (n + 255) & ~static_cast<size_t>(255); }

}  // namespace

Status index_select_rows(const View& table, const View& index, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(check_rows_args("index_select_rows", table, index, out, "output"));
  const int64_t n = index.shape[0], cols = table.shape[1];
  if (n == 0 || cols == 0) return Status::Ok();
  DeviceContext* ctx;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(out.device.index, &ctx));
  const dim3 block = row_block(cols);
  const dim3 grid = row_grid(n, cols, block);
  CUDNN_RNN_RETURN_IF_ERROR(detail::dispatch_all(table.dtype, "index_select_rows", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    select_rows_kernel<T><<<grid, block, 0, ctx->stream>>>(table.ptr<T>(), table.shape[0], table.strides[0],
                                                           table.strides[1], index.ptr<int32_t>(), index.strides[0],
                                                           n, cols, out.ptr<T>(), out.strides[0], out.strides[1]);
    return Status::Ok();
  }));
  return check_launch("index_select_rows");
}

Status index_add_rows(const View& grad, const View& index, const View& table_grad) {
  CUDNN_RNN_RETURN_IF_ERROR(check_rows_args("index_add_rows", table_grad, index, grad, "grad"));
  const int64_t n = index.shape[0], cols = grad.shape[1], rows = table_grad.shape[0];
  if (n == 0 || cols == 0) return Status::Ok();
  if (n > INT32_MAX) return invalid("index_add_rows: more than 2^31 - 1 indices");
  DeviceContext* ctx;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(table_grad.device.index, &ctx));

  // Valid keys are < rows and < 2^31; the sentinel is above all of them and
  // the sort only looks at the bits up to the sentinel's highest.
  const uint32_t sentinel = rows <= INT32_MAX ? static_cast<uint32_t>(rows) : 0x80000000u;
  int end_bit = 1;
  while (end_bit < 32 && (static_cast<uint64_t>(sentinel) >> end_bit) != 0) ++end_bit;

  const int items = static_cast<int>(n);
  size_t sort_bytes = 0;
  CUDNN_RNN_RETURN_IF_ERROR(cuda_status(
      cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, static_cast<const uint32_t*>(nullptr),
                                      static_cast<uint32_t*>(nullptr), static_cast<const int32_t*>(nullptr),
                                      static_cast<int32_t*>(nullptr), items, 0, end_bit, ctx->stream),
      "index_add_rows: cub::DeviceRadixSort (size query)"));
  const size_t array_bytes = align_up(static_cast<size_t>(n) * 4);
  void* scratch = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(
      device_alloc(table_grad.device.index, 4 * array_bytes + align_up(sort_bytes), false, &scratch));
  char* base = static_cast<char*>(scratch);
  uint32_t* keys_in = reinterpret_cast<uint32_t*>(base);
  uint32_t* keys_out = reinterpret_cast<uint32_t*>(base + array_bytes);
  int32_t* pos_in = reinterpret_cast<int32_t*>(base + 2 * array_bytes);
  int32_t* pos_out = reinterpret_cast<int32_t*>(base + 3 * array_bytes);
  void* sort_temp = base + 4 * array_bytes;

  Status st = Status::Ok();
  add_rows_keys_kernel<<<detail::grid_for(n), detail::kThreads, 0, ctx->stream>>>(
      index.ptr<int32_t>(), index.strides[0], n, rows, sentinel, keys_in, pos_in);
  st = check_launch("index_add_rows (keys)");
  if (st.ok()) {
    st = cuda_status(cub::DeviceRadixSort::SortPairs(sort_temp, sort_bytes, keys_in, keys_out, pos_in, pos_out, items,
                                                     0, end_bit, ctx->stream),
                     "index_add_rows: cub::DeviceRadixSort");
  }
  if (st.ok()) {
    const dim3 block = row_block(cols);
    const dim3 grid = row_grid(n, cols, block);
    st = detail::dispatch_all(grad.dtype, "index_add_rows", [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      add_rows_sorted_kernel<T><<<grid, block, 0, ctx->stream>>>(keys_out, pos_out, n, sentinel, grad.ptr<T>(),
                                                                 grad.strides[0], grad.strides[1], cols,
                                                                 table_grad.ptr<T>(), table_grad.strides[0],
                                                                 table_grad.strides[1]);
      return check_launch("index_add_rows");
    });
  }
  device_free(table_grad.device.index, scratch);  // stream-ordered: safe right after queuing
  return st;
}

}  // namespace cuda
}  // namespace cudnn_rnn
