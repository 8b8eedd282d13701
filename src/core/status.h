// Native code never throws across the binding boundary: every fallible call
// returns a Status, which binding/ turns into a JS Error with a `code`.
#pragma once
#include <string>
#include <utility>

namespace cudnn_rnn {

enum class StatusCode : int {
  Ok = 0,
  OutOfMemory,         // ERR_CUDNN_RNN_OUT_OF_MEMORY
  InvalidArgument,     // ERR_CUDNN_RNN_INVALID_ARGUMENT (a bug in lib/ validation if ever seen)
  BackendUnavailable,  // ERR_CUDNN_RNN_BACKEND_UNAVAILABLE
  BackendFailure,      // ERR_CUDNN_RNN_BACKEND_FAILURE (cuDNN/cuBLAS/CUDA call failed)
  Internal,            // ERR_CUDNN_RNN_INTERNAL
};

inline const char* status_code_name(StatusCode c) {
  switch (c) {
    case StatusCode::Ok: return "OK";
    case StatusCode::OutOfMemory: return "ERR_CUDNN_RNN_OUT_OF_MEMORY";
    case StatusCode::InvalidArgument: return "ERR_CUDNN_RNN_INVALID_ARGUMENT";
    case StatusCode::BackendUnavailable: return "ERR_CUDNN_RNN_BACKEND_UNAVAILABLE";
    case StatusCode::BackendFailure: return "ERR_CUDNN_RNN_BACKEND_FAILURE";
    case StatusCode::Internal: return "ERR_CUDNN_RNN_INTERNAL";
  }
  return "ERR_CUDNN_RNN_INTERNAL";
}

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::Ok; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::Ok;
  std::string message_;
};

#define CUDNN_RNN_RETURN_IF_ERROR(expr)          \
  do {                                           \
    ::cudnn_rnn::Status _st = (expr);            \
    if (!_st.ok()) return _st;                   \
  } while (0)

}  // namespace cudnn_rnn
