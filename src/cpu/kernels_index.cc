// Row gather and scatter-add by an int32 index (embedding forward/backward).
// Every index is checked before anything is read or written, so a bad index
// is an InvalidArgument status and never an out-of-bounds access.
#include <algorithm>
#include <string>

#include "kernels.h"
#include "kernels_internal.h"

namespace cudnn_rnn {
namespace cpu {
namespace {

using detail::invalid;

// table (rows, cols), index (n) int32, other (n, cols): shapes, dtypes and
// every index value.
Status check_rows_args(const char* where, const View& table, const View& index, const View& other,
                       const char* other_name) {
  CUDNN_RNN_RETURN_IF_ERROR(kernels::check_rows_args(where, table, index, other, other_name));
  const int32_t* idx = index.ptr<int32_t>();
  const int64_t rows = table.shape[0];
  for (int64_t i = 0; i < index.shape[0]; ++i) {
    const int32_t r = idx[i * index.strides[0]];
    if (r < 0 || r >= rows) {
      return invalid(std::string(where) + ": index " + std::to_string(r) + " is out of range for " +
                     std::to_string(rows) + " rows");
    }
  }
  return Status::Ok();
}

template <typename T>
void select_rows(const View& table, const View& index, const View& out) {
  const int32_t* idx = index.ptr<int32_t>();
  const int64_t cols = table.shape[1];
  for (int64_t i = 0; i < index.shape[0]; ++i) {
    const T* src = table.ptr<T>() + idx[i * index.strides[0]] * table.strides[0];
    T* dst = out.ptr<T>() + i * out.strides[0];
    if (table.strides[1] == 1 && out.strides[1] == 1) {
      std::copy(src, src + cols, dst);
    } else {
      for (int64_t j = 0; j < cols; ++j) dst[j * out.strides[1]] = src[j * table.strides[1]];
    }
  }
}

template <typename T>
void add_rows(const View& grad, const View& index, const View& table_grad) {
  const int32_t* idx = index.ptr<int32_t>();
  const int64_t cols = grad.shape[1];
  const int64_t sg = grad.strides[1], st = table_grad.strides[1];
  for (int64_t i = 0; i < index.shape[0]; ++i) {
    const T* src = grad.ptr<T>() + i * grad.strides[0];
    T* dst = table_grad.ptr<T>() + idx[i * index.strides[0]] * table_grad.strides[0];
    if constexpr (std::is_same_v<T, int32_t>) {
      for (int64_t j = 0; j < cols; ++j) dst[j * st] = detail::wrap_add(dst[j * st], src[j * sg]);
    } else if (sg == 1 && st == 1) {
      for (int64_t j = 0; j < cols; ++j) dst[j] += src[j];
    } else {
      for (int64_t j = 0; j < cols; ++j) dst[j * st] += src[j * sg];
    }
  }
}

}  // namespace

Status index_select_rows(const View& table, const View& index, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(check_rows_args("index_select_rows", table, index, out, "output"));
  return detail::dispatch_all(table.dtype, "index_select_rows", [&](auto tag) -> Status {
    select_rows<typename decltype(tag)::type>(table, index, out);
    return Status::Ok();
  });
}

Status index_add_rows(const View& grad, const View& index, const View& table_grad) {
  CUDNN_RNN_RETURN_IF_ERROR(check_rows_args("index_add_rows", table_grad, index, grad, "grad"));
  return detail::dispatch_all(grad.dtype, "index_add_rows", [&](auto tag) -> Status {
    add_rows<typename decltype(tag)::type>(grad, index, table_grad);
    return Status::Ok();
  });
}

}  // namespace cpu
}  // namespace cudnn_rnn
