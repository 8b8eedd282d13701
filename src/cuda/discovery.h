// Finding the NVIDIA driver, cuDNN and cuBLAS at run time (DESIGN.md
// decision 1). Nothing is linked: each library is dlopen'ed from the places
// below, its functions looked up one by one, and whatever is missing becomes
// a reason a person can act on, never a failed `require`.
//
// Search order for cuDNN (libcudnn.so.9, else .8) and cuBLAS (libcublas.so.13,
// else .12); the newer major is looked for everywhere before the older one:
//   1. an explicit file or folder (Options; lib/ fills it from
//      CUDNN_RNN_CUDNN_PATH / CUDNN_RNN_CUBLAS_PATH). When given, nothing
//      else is searched: a person who names a library means that one.
//   2. the loader's own search path (LD_LIBRARY_PATH, ld.so.cache);
//   3. the CUDA toolkit folders (/usr/local/cuda/lib64, /usr/local/cuda-*/lib64,
//      the multiarch /usr/lib/<triplet>);
//   4. Python's NVIDIA wheels: site-packages/nvidia/{cudnn,cu13,cu12}/lib for
//      cuDNN, nvidia/{cu13,cu12,cublas}/lib for cuBLAS, in
//      Options::python_sites, then the usual site-packages folders.
// cuBLAS is opened before cuDNN because cuDNN 9's sub-libraries need
// libcublasLt by soname. The two must be built for the same CUDA major
// (cuDNN loads the libcublasLt of its own): a cuDNN of another major is
// skipped, and when only such cuDNNs exist the cuBLAS of their major is
// chosen instead; each skip is a `tried` line with its reason.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cublas_api.h"
#include "cuda_driver_api.h"
#include "cudnn_api.h"

namespace cudnn_rnn {
namespace cuda {

struct Options {
  std::string cudnn_path;                 // a file or a folder; "" to search
  std::string cublas_path;                // a file or a folder; "" to search
  std::vector<std::string> python_sites;  // extra site-packages folders (globs allowed), searched first
  // false: probe only the driver and its devices. Cheap, and it never maps
  // cuDNN (hundreds of MB) on a machine that has no driver to run it.
  bool libraries = true;

  // CUDNN_RNN_CUDNN_PATH, CUDNN_RNN_CUBLAS_PATH and CUDNN_RNN_PYTHON_SITE
  // (colon-separated), for C++ callers; lib/ passes its own.
  static Options from_environment();
};

struct Device {
  int index = 0;
  std::string name;
  uint64_t total_memory = 0;  // bytes
  int cc_major = 0;           // compute capability
  int cc_minor = 0;
};

struct DriverInfo {
  // A real NVIDIA driver is installed (false when libcuda.so.1 is missing or
  // is the toolkit's stub). Machines without one stay silent (lib/cuda.ts).
  bool found = false;
  bool initialized = false;   // cuInit succeeded
  std::string path;           // libcuda.so.1 as mapped
  std::string version;        // kernel module version, "550.54.14" ("" if unknown)
  int cuda_version = 0;       // cuDriverGetVersion: newest CUDA it runs, 12040 = 12.4
  std::string reason;         // why the driver gives no devices ("" when it does)
  std::vector<std::string> tried;
  std::vector<Device> devices;
};

struct LibraryInfo {
  bool found = false;
  std::string path;           // the file mapped, symlinks resolved
  std::string version;        // "9.1.0", "13.0.2"
  int major = 0;
  int version_code = 0;       // cudnnGetVersion's number; cuBLAS: major*10000+minor*100+patch
  int cuda_version = 0;       // CUDA runtime it was built with, 12080 = 12.8 (0 if unknown)
  std::string source;         // "explicit path", "loader path", "CUDA toolkit", "pip wheel" or "already loaded"
  std::string reason;         // why it is not usable ("" when found)
  std::vector<std::string> tried;     // "path: why" for each refusal on the way
  std::vector<std::string> searched;  // the places looked in, in order
};

struct Discovery {
  DriverInfo driver;
  LibraryInfo cudnn;
  LibraryInfo cublas;
};

// Runs the search once and caches it; a later call with the same options
// returns the cache unless `force`. Thread-safe. Libraries accepted stay
// loaded for the life of the process.
Discovery discover(const Options& options, bool force = false);

// The libraries the latest discovery accepted, for the backends: null
// function tables when not found.
struct Loaded {
  driver::Api driver;   // cuInit has succeeded when driver.cuInit is set
  int driver_cuda_version = 0;  // cuDriverGetVersion (0 when unknown)
  std::string driver_version;   // the kernel module's, "580.65.06" ("" when unknown)
  cudnn::Api cudnn;
  int cudnn_major = 0;
  cublas::Api cublas;
};
Loaded loaded();

// "CUDNN_STATUS_BAD_PARAM (2000): <cudnnGetErrorString's text>" in the
// numbering of the loaded cuDNN (9's when none is loaded).
std::string cudnn_error(int code);

// "12.4" from 12040.
std::string cuda_version_text(int version);

}  // namespace cuda
}  // namespace cudnn_rnn
