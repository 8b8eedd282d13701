// MPI found at run time (like cuDNN): Open MPI's libmpi.so.40 or MPICH's
// libmpi.so.12, opened with dlopen. No MPI header is used; the two ABIs'
// handle conventions are declared in mpi.cc. Every call here is blocking and
// must be issued in the same order on every rank (lib/distributed/ queues
// the async forms so that they are).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/dtype.h"
#include "../core/status.h"

namespace cudnn_rnn {
namespace dist {

enum class ReduceOp : int32_t { Sum = 0, Max = 1 };

struct MpiInfo {
  bool loaded = false;
  std::string flavor;   // "Open MPI" or "MPICH"
  std::string version;  // MPI_Get_library_version's first line
  std::string path;     // the library file opened
  std::string reason;   // why it is not available
};

// Opens the library (once) without initializing MPI: for versions().
MpiInfo mpi_info();

// MPI_Init_thread (once per process; later calls only report rank/size).
Status mpi_init(int* rank, int* size);
bool mpi_initialized();
Status mpi_allreduce(void* data, int64_t count, DType dtype, ReduceOp op);
Status mpi_broadcast(void* data, int64_t count, DType dtype, int root);
// Bytes, for NCCL's unique id.
Status mpi_broadcast_bytes(void* data, int64_t bytes, int root);
Status mpi_barrier();
// MPI_Abort(MPI_COMM_WORLD, code): ends every rank (mpirun kills the job).
void mpi_abort(int code);
Status mpi_finalize();

}  // namespace dist
}  // namespace cudnn_rnn
