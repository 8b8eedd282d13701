// NCCL found at run time: libnccl.so.2 from the system or from a pip wheel's
// nvidia/nccl/lib folder. Its C API is declared in nccl.cc (nccl.h's enum
// values; ncclUniqueId is 128 bytes). One communicator per process, made by
// every rank from the id that rank 0 made and MPI broadcast (the bootstrap
// PyTorch's DDP uses between GPUs).
#pragma once
#include <cstdint>
#include <string>

#include "../core/dtype.h"
#include "../core/status.h"

namespace cudnn_rnn {
namespace dist {

constexpr int kNcclUniqueIdBytes = 128;  // NCCL_UNIQUE_ID_BYTES

enum class NcclOp : int32_t { Sum = 0, Max = 1, Avg = 2 };

struct NcclInfo {
  bool loaded = false;
  std::string version;  // "2.18.3" from ncclGetVersion
  std::string path;
  std::string reason;
};

NcclInfo nccl_info();
Status nccl_unique_id(uint8_t out[kNcclUniqueIdBytes]);
// ncclCommInitRank on `device` (made current first; -1: leave the current device).
Status nccl_init(int nranks, const uint8_t id[kNcclUniqueIdBytes], int rank, int device);
// In place, queued on `stream` (a cudaStream_t; null: the legacy default stream).
Status nccl_allreduce(void* data, int64_t count, DType dtype, NcclOp op, void* stream);
Status nccl_broadcast(void* data, int64_t count, DType dtype, int root, void* stream);
Status nccl_destroy();

}  // namespace dist
}  // namespace cudnn_rnn
