// See discovery.h for the search order and why. Library names and folders:
// shared/reference/cudnn-api.md §1.2 and §6.
#include "discovery.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "cudnn_status.h"
#include "dynload.h"

namespace cudnn_rnn {
namespace cuda {

namespace {

using dynload::Candidate;
using dynload::Preload;

// Source labels, shown by versions() and the doctor.
constexpr const char* kFromOption = "explicit path";
constexpr const char* kFromLoader = "loader path";
constexpr const char* kFromToolkit = "CUDA toolkit";
constexpr const char* kFromWheel = "pip wheel";
constexpr const char* kAlreadyLoaded = "already loaded";

const char* env(const char* name) {
  const char* v = getenv(name);
  return v && *v ? v : nullptr;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// ---- Where to look --------------------------------------------------------------

#if defined(__aarch64__)
constexpr const char* kMultiarchLib = "/usr/lib/aarch64-linux-gnu";
#else
constexpr const char* kMultiarchLib = "/usr/lib/x86_64-linux-gnu";
#endif

// Folders, each once however it is reached (/usr/local/cuda is usually a
// link to /usr/local/cuda-13.0): by canonical path, keeping the first name.
class Folders {
 public:
  void add(const std::string& dir) {
    const std::string canonical = dynload::real_path(dir);
    if (canonical.empty()) return;
    for (const std::string& seen : canonical_)
      if (seen == canonical) return;
    canonical_.push_back(canonical);
    dirs_.push_back(dir);
  }
  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  std::vector<std::string> canonical_, dirs_;
};

std::vector<std::string> toolkit_dirs() {
  Folders f;
  f.add("/usr/local/cuda/lib64");
  for (const std::string& d : dynload::glob_dirs("/usr/local/cuda-*/lib64")) f.add(d);
  f.add(kMultiarchLib);
  return f.dirs();
}

// site-packages folders: the caller's first (the machine's own Python knows
// best), then the usual places of system, pip --user and conda Pythons.
std::vector<std::string> site_dirs(const Options& options) {
  Folders f;
  auto add_pattern = [&f](const std::string& pattern) {
    if (pattern.find_first_of("*?[") == std::string::npos) f.add(pattern);
    else for (const std::string& d : dynload::glob_dirs(pattern)) f.add(d);
  };
  for (const std::string& s : options.python_sites) add_pattern(s);
  add_pattern("/usr/lib/python3*/dist-packages");
  add_pattern("/usr/local/lib/python3*/site-packages");
  add_pattern("/usr/local/lib/python3*/dist-packages");
  if (const char* home = env("HOME")) add_pattern(std::string(home) + "/.local/lib/python3*/site-packages");
  add_pattern("/opt/conda/lib/python3*/site-packages");  // the PyTorch/NGC images
  return f.dirs();
}

std::string loader_place() {
  const char* ld = env("LD_LIBRARY_PATH");
  return std::string("the loader's search path (") +
         (ld ? std::string("LD_LIBRARY_PATH=") + ld + ", " : std::string("LD_LIBRARY_PATH unset, ")) +
         "/etc/ld.so.cache)";
}

// What a library is called and which files travel with it.
struct Spec {
  const char* what;                 // "cuDNN"
  const char* stem;                 // "libcudnn.so."
  std::vector<int> majors;          // newest first
  std::vector<const char*> wheel_subdirs;  // under site-packages
};

// The libraries to open before a candidate of `major` found in `dir`.
using PreloadsFor = std::vector<Preload> (*)(const std::string& dir, int major);

struct Search {
  std::vector<Candidate> candidates;
  std::vector<const char*> origins;  // parallel to candidates
  std::vector<std::string> searched;
};

void add_file(Search& s, const std::string& dir, const Spec& spec, int major, PreloadsFor preloads,
              const char* origin) {
  const std::string file = dynload::join(dir, spec.stem + std::to_string(major));
  if (!dynload::is_file(file)) return;
  s.candidates.push_back(Candidate{file, preloads(dir, major)});
  s.origins.push_back(origin);
}

// Which major a file is, from its name or the name it links to; 0 if unknown.
int major_from_name(const std::string& path, const char* stem) {
  for (const std::string& p : {path, dynload::real_path(path)}) {
    const std::string name = dynload::base_name(p);
    if (name.compare(0, strlen(stem), stem) == 0) {
      const int major = atoi(name.c_str() + strlen(stem));
      if (major > 0) return major;
    }
  }
  return 0;
}

// Candidates in the search order of discovery.h.
Search plan(const Spec& spec, const std::string& explicit_path, const Options& options,
            PreloadsFor preloads) {
  Search s;
  if (!explicit_path.empty()) {
    s.searched.push_back(explicit_path);
    if (dynload::is_dir(explicit_path)) {
      for (int major : spec.majors) add_file(s, explicit_path, spec, major, preloads, kFromOption);
    } else {
      const std::string dir = dynload::dir_name(explicit_path);
      const int major = major_from_name(explicit_path, spec.stem);  // 0: the name does not say
      s.candidates.push_back(Candidate{explicit_path, major ? preloads(dir, major) : std::vector<Preload>{}});
      s.origins.push_back(kFromOption);
    }
    return s;
  }
  const std::vector<std::string> toolkits = toolkit_dirs();
  std::vector<std::string> wheels;
  for (const std::string& site : site_dirs(options))
    for (const char* sub : spec.wheel_subdirs) wheels.push_back(dynload::join(site, sub));
  s.searched.push_back(loader_place());
  for (const std::string& d : toolkits) s.searched.push_back(d);
  for (const std::string& d : wheels) s.searched.push_back(d);
  for (int major : spec.majors) {
    s.candidates.push_back(Candidate{spec.stem + std::to_string(major), {}});
    s.origins.push_back(kFromLoader);
    for (const std::string& d : toolkits) add_file(s, d, spec, major, preloads, kFromToolkit);
    for (const std::string& d : wheels) add_file(s, d, spec, major, preloads, kFromWheel);
  }
  return s;
}

// A library built for a newer CUDA than the driver runs fails at its first
// call; refuse it here, where the reason is clear ("" when compatible).
std::string cuda_compat(int built_for, const DriverInfo& driver) {
  if (!built_for || !driver.cuda_version || built_for / 1000 <= driver.cuda_version / 1000) return "";
  return "built for CUDA " + cuda_version_text(built_for) + ", but the NVIDIA driver runs CUDA " +
         cuda_version_text(driver.cuda_version) + " at most (update the driver, or install the CUDA " +
         std::to_string(driver.cuda_version / 1000) + " build)";
}

std::string reason_not_found(const LibraryInfo& lib, const Spec& spec, bool explicit_path) {
  std::string names;
  std::vector<std::string> absent;  // what the loader says when a bare soname is simply not there
  for (size_t i = 0; i < spec.majors.size(); ++i) {
    const std::string name = spec.stem + std::to_string(spec.majors[i]);
    names += (i ? " or " : "") + name;
    absent.push_back(name + ": cannot open shared object file: No such file or directory");
  }
  if (explicit_path) {
    const std::string given = "the path given (" + lib.searched.front() + ")";
    for (const std::string& line : lib.tried)
      if (line.find("(optional") == std::string::npos)
        return std::string(spec.what) + ": " + given + " could not be used: " + line;
    return std::string(spec.what) + ": " + given + " has no " + names;
  }
  // A file that exists but was refused says more than "not found".
  for (const std::string& line : lib.tried) {
    bool expected = line.find("(optional") != std::string::npos;
    for (const std::string& a : absent) expected = expected || line == a;
    if (!expected) return std::string(spec.what) + " was found but cannot be used: " + line;
  }
  return std::string(spec.what) + " not found: no " + names +
         " on the loader's search path, in the CUDA toolkit folders or in Python's NVIDIA wheels";
}

// ---- The driver ---------------------------------------------------------------

std::string cu_error(const driver::Api& api, driver::CUresult e) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (api.cuGetErrorName) api.cuGetErrorName(e, &name);
  if (api.cuGetErrorString) api.cuGetErrorString(e, &text);
  std::string out = std::string(name ? name : "CUresult") + " (" + std::to_string(e) + ")";
  if (text) out += std::string(": ") + text;
  return out;
}

// The kernel module's version: /proc says it; else libcuda.so.<version>.
std::string driver_version(const std::string& libcuda) {
  if (FILE* f = fopen("/proc/driver/nvidia/version", "r")) {
    char line[512] = {0};
    const bool got = fgets(line, sizeof line, f) != nullptr;
    fclose(f);
    // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu ..."
    // (the open module says "Open Kernel Module for x86_64"): the first
    // dotted number after "Module".
    const char* at = got ? strstr(line, "Module") : nullptr;
    for (const std::string& word : split(at ? at : "", ' '))
      if (word[0] >= '0' && word[0] <= '9' && word.find('.') != std::string::npos) return word;
  }
  const std::string name = dynload::base_name(libcuda);
  const std::string stem = "libcuda.so.";
  if (name.compare(0, stem.size(), stem) == 0 && name.find('.', stem.size()) != std::string::npos)
    return name.substr(stem.size());
  return "";
}

DriverInfo probe_driver(driver::Api& api) {
  DriverInfo d;
  api = driver::Api();
  std::string error;
  // By soname only: the driver is always on the loader's path, and the
  // toolkit folders hold only its link-time stub.
  void* h = dynload::open("libcuda.so.1", RTLD_NOW | RTLD_LOCAL, error);
  if (!h) {
    d.reason = "no NVIDIA driver (libcuda.so.1 not found)";
    d.tried.push_back(error);
    return d;
  }
  d.path = dynload::loaded_file(h);
  driver::Api a;
  dynload::Symbols s(h);
  s.need("cuInit", a.cuInit);
  s.need("cuDriverGetVersion", a.cuDriverGetVersion);
  s.need("cuDeviceGetCount", a.cuDeviceGetCount);
  s.need("cuDeviceGet", a.cuDeviceGet);
  s.need("cuDeviceGetName", a.cuDeviceGetName);
  s.need("cuDeviceTotalMem_v2", a.cuDeviceTotalMem_v2);
  s.need("cuDeviceGetAttribute", a.cuDeviceGetAttribute);
  s.want("cuGetErrorName", a.cuGetErrorName);
  s.want("cuGetErrorString", a.cuGetErrorString);
  if (!s.ok()) {
    d.found = true;
    d.reason = "the NVIDIA driver's libcuda.so.1 (" + d.path + ") is unusable: " + s.missing();
    return d;
  }
  if (a.cuDriverGetVersion(&d.cuda_version) != driver::kSuccess) d.cuda_version = 0;
  const driver::CUresult init = a.cuInit(0);
  if (init == driver::kErrorStubLibrary) {
    d.reason = "no NVIDIA driver (libcuda.so.1 at " + d.path + " is the CUDA toolkit's link-time stub)";
    d.cuda_version = 0;
    return d;
  }
  d.found = true;
  d.version = driver_version(d.path);
  if (init != driver::kSuccess) {
    d.reason = "the NVIDIA driver could not start: cuInit: " + cu_error(a, init);
    return d;
  }
  d.initialized = true;
  api = a;
  int count = 0;
  if (driver::CUresult e = a.cuDeviceGetCount(&count)) {
    d.reason = "cuDeviceGetCount: " + cu_error(a, e);
    return d;
  }
  for (int i = 0; i < count; ++i) {
    Device dev;
    dev.index = i;
    driver::CUdevice handle = 0;
    char name[256] = {0};
    size_t bytes = 0;
    driver::CUresult e = a.cuDeviceGet(&handle, i);
    if (!e) e = a.cuDeviceGetName(name, int(sizeof name) - 1, handle);
    if (!e) e = a.cuDeviceTotalMem_v2(&bytes, handle);
    if (!e) e = a.cuDeviceGetAttribute(&dev.cc_major, driver::kAttrComputeCapabilityMajor, handle);
    if (!e) e = a.cuDeviceGetAttribute(&dev.cc_minor, driver::kAttrComputeCapabilityMinor, handle);
    if (e) {
      d.tried.push_back("device " + std::to_string(i) + ": " + cu_error(a, e));
      continue;
    }
    dev.name = name;
    dev.total_memory = bytes;
    d.devices.push_back(dev);
  }
  if (d.devices.empty())
    d.reason = count == 0 ? "the NVIDIA driver reports no CUDA devices"
                          : "no CUDA device could be queried (see tried)";
  return d;
}

// ---- cuBLAS -----------------------------------------------------------------------

// nvidia/cu13/lib: CUDA 13's wheels (nvidia-cublas 13.x); nvidia/cu12/lib:
// the same layout for CUDA 12 where a wheel uses it; nvidia/cublas/lib: the
// CUDA 12 wheel (nvidia-cublas-cu12).
const Spec kCublas{"cuBLAS", "libcublas.so.", {13, 12}, {"nvidia/cu13/lib", "nvidia/cu12/lib", "nvidia/cublas/lib"}};

// libcublas needs libcublasLt of the same major beside it.
std::vector<Preload> cublas_preloads(const std::string& dir, int major) {
  const std::string lt = dynload::join(dir, "libcublasLt.so." + std::to_string(major));
  if (!dynload::is_file(lt)) return {};
  return {Preload{lt, true}};
}

// Opens the first acceptable candidate into `lib` (found, source, path), or
// records why none was; returns whether one was opened.
bool open_into(LibraryInfo& lib, const Search& s, const dynload::Check& check, const Spec& spec, bool explicit_path,
               dynload::Opened& o) {
  o = dynload::open_first(s.candidates, check, lib.tried);
  if (!o.handle) {
    lib.reason = reason_not_found(lib, spec, explicit_path);
    return false;
  }
  lib.found = true;
  lib.source = o.was_loaded ? kAlreadyLoaded : s.origins[o.index];
  lib.path = o.path;
  return true;
}

// The CUDA major a library was built for: its runtime version's major, else
// (cuBLAS) its own major, which is the CUDA major; 0 when unknown.
int cuda_major(const LibraryInfo& lib, bool is_cublas) {
  if (lib.cuda_version) return lib.cuda_version / 1000;
  return is_cublas ? lib.major : 0;
}

// What a refused partner line says about the library it would not match.
std::string describe(const LibraryInfo& lib, const char* what) {
  return std::string(what) + " " + lib.version + " (" + lib.path + ", CUDA " +
         (lib.cuda_version ? cuda_version_text(lib.cuda_version) : std::to_string(lib.major)) + ")";
}

// cuDNN loads the libcublasLt of its own CUDA major at its first RNN call, so
// a cuDNN built for CUDA 12 beside a CUDA 13 cuBLAS fails there. `want_cuda`
// (0: any) is the CUDA major the partner library was built for; `partner`
// names it for the refusal line.
std::string pair_mismatch(int have_cuda, int want_cuda, const std::string& partner) {
  if (!want_cuda || !have_cuda || have_cuda == want_cuda) return "";
  return "built for CUDA " + std::to_string(have_cuda) + ", but " + partner + " is for CUDA " +
         std::to_string(want_cuda) + ": cuDNN and cuBLAS must be built for the same CUDA major " +
         "(cuDNN loads the libcublasLt of its own) (skipped)";
}

LibraryInfo find_cublas(const Options& options, const DriverInfo& drv, cublas::Api& api, int want_cuda,
                        const std::string& partner, dynload::Opened& opened) {
  LibraryInfo lib;
  api = cublas::Api();
  Search s = plan(kCublas, options.cublas_path, options, cublas_preloads);
  lib.searched = s.searched;
  cublas::Api bound;
  auto check = [&](void* h, const Candidate& c) -> std::string {
    cublas::Api a;
    dynload::Symbols sym(h);
    sym.need("cublasGetProperty", a.cublasGetProperty);
    sym.need("cublasCreate_v2", a.cublasCreate_v2);
    sym.need("cublasDestroy_v2", a.cublasDestroy_v2);
    sym.need("cublasGetStatusString", a.cublasGetStatusString);
    sym.want("cublasGetCudartVersion", a.cublasGetCudartVersion);
    // The backend's calls: wanted, not needed (fake test libraries lack them;
    // runtime/ reports a missing one when it is first used).
    sym.want("cublasSetStream_v2", a.cublasSetStream_v2);
    sym.want("cublasSetMathMode", a.cublasSetMathMode);
    sym.want("cublasSgemmStridedBatched", a.cublasSgemmStridedBatched);
    sym.want("cublasDgemmStridedBatched", a.cublasDgemmStridedBatched);
    if (!sym.ok()) return sym.missing() + " (not a cuBLAS 11.4+ library?)";
    int v[3] = {0, 0, 0};
    const int props[3] = {cublas::kMajorVersion, cublas::kMinorVersion, cublas::kPatchLevel};
    for (int i = 0; i < 3; ++i)
      if (cublas::Status e = a.cublasGetProperty(props[i], &v[i]))
        return "cublasGetProperty failed with status " + std::to_string(e);
    const int named = major_from_name(c.path, kCublas.stem);
    if (named && named != v[0])
      return "the file name says cuBLAS " + std::to_string(named) + " but the library reports " +
             std::to_string(v[0]);
    if (v[0] < 12) return "cuBLAS " + std::to_string(v[0]) + " is too old (12 or 13 needed)";
    const int built_for = a.cublasGetCudartVersion ? int(a.cublasGetCudartVersion()) : v[0] * 1000;
    if (std::string why = cuda_compat(built_for, drv); !why.empty()) return why;
    if (std::string why = pair_mismatch(built_for / 1000, want_cuda, partner); !why.empty()) return why;
    lib.major = v[0];
    lib.version_code = v[0] * 10000 + v[1] * 100 + v[2];
    lib.version = std::to_string(v[0]) + "." + std::to_string(v[1]) + "." + std::to_string(v[2]);
    lib.cuda_version = a.cublasGetCudartVersion ? built_for : 0;
    bound = a;
    return "";
  };
  if (!open_into(lib, s, check, kCublas, !options.cublas_path.empty(), opened)) return lib;
  api = bound;
  return lib;
}

// ---- cuDNN ------------------------------------------------------------------------

// nvidia/cudnn/lib: nvidia-cudnn-cu12/-cu13; nvidia/cu13/lib and cu12/lib:
// the per-CUDA wheel folders, where cuDNN lands beside cuBLAS in some layouts.
const Spec kCudnn{"cuDNN", "libcudnn.so.", {9, 8}, {"nvidia/cudnn/lib", "nvidia/cu13/lib", "nvidia/cu12/lib"}};

struct SubLibrary {
  const char* name;
  bool needed_for_rnn;  // the RNN API lives in these; the others are preloaded when present
};

// cuDNN's shim loads these by soname on first use (reference §1.2), in
// dependency order. Every one present is preloaded (a 9.x release may add
// engines, as libcudnn_engines_tensor_ir did; cudnn_preloads also picks up
// any libcudnn_*.so.9 not listed here): one the shim loads later by soname
// from elsewhere would be a sub-library version mismatch.
const std::vector<SubLibrary>& sub_libraries(int major) {
  static const std::vector<SubLibrary> k9 = {
      {"libcudnn_graph.so.9", true},
      {"libcudnn_engines_precompiled.so.9", false},
      {"libcudnn_engines_runtime_compiled.so.9", false},
      {"libcudnn_engines_tensor_ir.so.9", false},
      {"libcudnn_heuristic.so.9", false},
      {"libcudnn_ops.so.9", true},
      {"libcudnn_cnn.so.9", false},
      {"libcudnn_adv.so.9", true},
  };
  static const std::vector<SubLibrary> k8 = {
      {"libcudnn_ops_infer.so.8", true},
      {"libcudnn_ops_train.so.8", true},
      {"libcudnn_adv_infer.so.8", true},
      {"libcudnn_adv_train.so.8", true},
  };
  static const std::vector<SubLibrary> none;
  return major == 9 ? k9 : major == 8 ? k8 : none;
}

// Opened by full path before the shim: a folder that is not on the loader's
// path (a pip wheel, an unregistered toolkit) would otherwise leave the
// shim's by-soname loads failing at the first real call.
std::vector<Preload> cudnn_preloads(const std::string& dir, int major) {
  std::vector<Preload> out;
  std::vector<std::string> known;
  for (const SubLibrary& sub : sub_libraries(major)) {
    const std::string path = dynload::join(dir, sub.name);
    known.push_back(path);
    if (dynload::is_file(path)) out.push_back(Preload{path, sub.needed_for_rnn});
  }
  // Sub-libraries the list above does not know (a newer release's engines,
  // cuDNN 8's cnn pair): last, when everything they may need is loaded;
  // optional.
  const std::string pattern = dynload::join(dir, "libcudnn_*.so." + std::to_string(major));
  for (const std::string& path : dynload::glob_files(pattern)) {
    bool listed = false;
    for (const std::string& k : known) listed = listed || k == path;
    if (!listed) out.push_back(Preload{path, false});
  }
  return out;
}

// Version number to "9.1.0" (reference §1.1: the two formulas cannot collide).
bool cudnn_version(int v, int& major, std::string& text) {
  int minor = 0, patch = 0;
  if (v >= 90000) {
    major = v / 10000, minor = v % 10000 / 100, patch = v % 100;
  } else if (v >= 8000 && v < 9000) {
    major = v / 1000, minor = v % 1000 / 100, patch = v % 100;
  } else {
    return false;
  }
  text = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  return true;
}

// `mismatched_cuda` gets the CUDA major of the first cuDNN refused only
// because it does not match want_cuda (0 when none was).
LibraryInfo find_cudnn(const Options& options, const DriverInfo& drv, cudnn::Api& api, int& api_major,
                       int want_cuda, const std::string& partner, int& mismatched_cuda, dynload::Opened& opened) {
  mismatched_cuda = 0;
  LibraryInfo lib;
  api = cudnn::Api();
  api_major = 0;
  Search s = plan(kCudnn, options.cudnn_path, options, cudnn_preloads);
  lib.searched = s.searched;
  cudnn::Api bound;
  auto check = [&](void* h, const Candidate& c) -> std::string {
    cudnn::Api a;
    dynload::Symbols sym(h);
    sym.need("cudnnGetVersion", a.cudnnGetVersion);
    sym.need("cudnnGetErrorString", a.cudnnGetErrorString);
    sym.need("cudnnGetProperty", a.cudnnGetProperty);
    sym.want("cudnnGetCudartVersion", a.cudnnGetCudartVersion);
    sym.want("cudnnCreate", a.cudnnCreate);
    sym.want("cudnnDestroy", a.cudnnDestroy);
    sym.want("cudnnSetStream", a.cudnnSetStream);
    // The RNN API: wanted, not needed (the backend names any it lacks).
    sym.want("cudnnCreateTensorDescriptor", a.cudnnCreateTensorDescriptor);
    sym.want("cudnnSetTensorNdDescriptor", a.cudnnSetTensorNdDescriptor);
    sym.want("cudnnGetTensorNdDescriptor", a.cudnnGetTensorNdDescriptor);
    sym.want("cudnnDestroyTensorDescriptor", a.cudnnDestroyTensorDescriptor);
    sym.want("cudnnCreateDropoutDescriptor", a.cudnnCreateDropoutDescriptor);
    sym.want("cudnnDestroyDropoutDescriptor", a.cudnnDestroyDropoutDescriptor);
    sym.want("cudnnDropoutGetStatesSize", a.cudnnDropoutGetStatesSize);
    sym.want("cudnnSetDropoutDescriptor", a.cudnnSetDropoutDescriptor);
    sym.want("cudnnRestoreDropoutDescriptor", a.cudnnRestoreDropoutDescriptor);
    sym.want("cudnnCreateRNNDescriptor", a.cudnnCreateRNNDescriptor);
    sym.want("cudnnDestroyRNNDescriptor", a.cudnnDestroyRNNDescriptor);
    sym.want("cudnnSetRNNDescriptor_v8", a.cudnnSetRNNDescriptor_v8);
    sym.want("cudnnCreateRNNDataDescriptor", a.cudnnCreateRNNDataDescriptor);
    sym.want("cudnnDestroyRNNDataDescriptor", a.cudnnDestroyRNNDataDescriptor);
    sym.want("cudnnSetRNNDataDescriptor", a.cudnnSetRNNDataDescriptor);
    sym.want("cudnnGetRNNWeightSpaceSize", a.cudnnGetRNNWeightSpaceSize);
    sym.want("cudnnGetRNNTempSpaceSizes", a.cudnnGetRNNTempSpaceSizes);
    sym.want("cudnnGetRNNWeightParams", a.cudnnGetRNNWeightParams);
    sym.want("cudnnRNNForward", a.cudnnRNNForward);
    sym.want("cudnnRNNBackwardData_v8", a.cudnnRNNBackwardData_v8);
    sym.want("cudnnRNNBackwardWeights_v8", a.cudnnRNNBackwardWeights_v8);
    if (!sym.ok()) return sym.missing() + " (not a cuDNN 8 or 9 library?)";
    // Calling into the shim loads a sub-library by soname; make sure the
    // ones RNNs need resolve (to a preload or on the loader's path) first,
    // or cuDNN prints its own error and fails at a later call.
    const int named = major_from_name(c.path, kCudnn.stem);
    if (named != 8 && named != 9)
      return "cannot tell the cuDNN major version from its file name (expected libcudnn.so.9 or libcudnn.so.8)";
    std::vector<void*> subs;
    for (const SubLibrary& sub : sub_libraries(named)) {
      if (!sub.needed_for_rnn) continue;
      std::string error;
      void* sh = dynload::open(sub.name, RTLD_NOW | RTLD_GLOBAL, error);
      if (!sh) {
        for (void* o : subs) dlclose(o);
        return std::string("its sub-library ") + sub.name +
               " is neither beside it nor on the loader's search path: " + error;
      }
      subs.push_back(sh);  // kept open on success: the shim's own loads then find it
    }
    std::string text;
    int major = 0;
    const int v = int(a.cudnnGetVersion());
    std::string why;
    if (!cudnn_version(v, major, text)) why = "cudnnGetVersion returned " + std::to_string(v) + ", not cuDNN 8 or 9";
    else if (major != named) why = "the file name says cuDNN " + std::to_string(named) + " but the library reports " + text;
    const int built_for = a.cudnnGetCudartVersion ? int(a.cudnnGetCudartVersion()) : 0;
    if (why.empty()) why = cuda_compat(built_for, drv);
    if (why.empty()) {
      why = pair_mismatch(built_for / 1000, want_cuda, partner);
      if (!why.empty() && !mismatched_cuda) mismatched_cuda = built_for / 1000;
    }
    if (!why.empty()) {
      for (void* o : subs) dlclose(o);
      return why;
    }
    lib.major = major;
    lib.version_code = v;
    lib.version = text;
    lib.cuda_version = built_for;
    bound = a;
    return "";
  };
  if (!open_into(lib, s, check, kCudnn, !options.cudnn_path.empty(), opened)) return lib;
  api = bound;
  api_major = lib.major;
  return lib;
}

// ---- The cache ----------------------------------------------------------------------

// The driver is probed once (cuInit is per process anyway); the libraries
// once per set of paths.
struct State {
  std::mutex mu;
  bool driver_probed = false;
  DriverInfo driver;
  bool libraries_searched = false;
  Options library_options;
  LibraryInfo cudnn, cublas;
  Loaded loaded;
};

State& state() {
  static State s;
  return s;
}

bool same_paths(const Options& a, const Options& b) {
  return a.cudnn_path == b.cudnn_path && a.cublas_path == b.cublas_path && a.python_sites == b.python_sites;
}

// cuBLAS first (cuDNN 9's sub-libraries need its libcublasLt by soname),
// then a cuDNN built for the same CUDA major. When every usable cuDNN is for
// another major (a system cuDNN for CUDA 12 beside a CUDA 13 cuBLAS wheel),
// the cuBLAS of that major is looked for instead, and the first one given
// back. Each skipped candidate stays in `tried` with the reason.
void find_pair(const Options& options, State& s) {
  dynload::Opened blas, dnn;
  s.cublas = find_cublas(options, s.driver, s.loaded.cublas, 0, "", blas);
  const int blas_cuda = s.cublas.found ? cuda_major(s.cublas, true) : 0;
  int other_cuda = 0;
  s.cudnn = find_cudnn(options, s.driver, s.loaded.cudnn, s.loaded.cudnn_major, blas_cuda,
                       blas_cuda ? "the cuBLAS found, " + describe(s.cublas, "cuBLAS") + "," : "", other_cuda, dnn);
  if (s.cudnn.found || !other_cuda) return;

  // Give the first cuBLAS back before looking for the other major, so that
  // nothing of it stays mapped; found again below when there is no other.
  dynload::close(blas);
  s.cublas = find_cublas(options, s.driver, s.loaded.cublas, other_cuda, "the only usable cuDNN", blas);
  if (!s.cublas.found) {
    // No cuBLAS of cuDNN's major: keep the first cuBLAS, and cuDNN's reason
    // (its tried lines name the mismatch).
    s.cublas = find_cublas(options, s.driver, s.loaded.cublas, 0, "", blas);
    s.cudnn.reason += "; no cuBLAS for CUDA " + std::to_string(other_cuda) + " was found to pair it with";
    return;
  }
  int unused = 0;
  s.cudnn = find_cudnn(options, s.driver, s.loaded.cudnn, s.loaded.cudnn_major, other_cuda,
                       "the cuBLAS found, " + describe(s.cublas, "cuBLAS") + ",", unused, dnn);
}

}  // namespace

Options Options::from_environment() {
  Options o;
  if (const char* p = env("CUDNN_RNN_CUDNN_PATH")) o.cudnn_path = p;
  if (const char* p = env("CUDNN_RNN_CUBLAS_PATH")) o.cublas_path = p;
  if (const char* p = env("CUDNN_RNN_PYTHON_SITE")) o.python_sites = split(p, ':');
  return o;
}

Discovery discover(const Options& options, bool force) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (force || !s.driver_probed) {
    s.driver = probe_driver(s.loaded.driver);
    s.loaded.driver_cuda_version = s.driver.cuda_version;
    s.loaded.driver_version = s.driver.version;
    s.driver_probed = true;
  }
  const bool cached = s.libraries_searched && same_paths(s.library_options, options);
  if (options.libraries && (force || !cached)) {
    // A library an earlier search of ours accepted is found again "already
    // loaded"; it still came from where that search found it.
    auto keep_source = [](LibraryInfo& now, const LibraryInfo& before) {
      if (now.source == kAlreadyLoaded && before.found && before.path == now.path) now.source = before.source;
    };
    const LibraryInfo cublas_before = s.cublas, cudnn_before = s.cudnn;
    find_pair(options, s);
    keep_source(s.cublas, cublas_before);
    keep_source(s.cudnn, cudnn_before);
    s.libraries_searched = true;
    s.library_options = options;
  }
  Discovery d;
  d.driver = s.driver;
  if (options.libraries || cached) {
    d.cudnn = s.cudnn;
    d.cublas = s.cublas;
  } else {
    d.cudnn.reason = d.cublas.reason = "not searched yet";
  }
  return d;
}

Loaded loaded() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.loaded;
}

std::string cudnn_error(int code) {
  const Loaded l = loaded();
  return cudnn_status_message(l.cudnn_major ? l.cudnn_major : 9, code, l.cudnn.cudnnGetErrorString);
}

std::string cuda_version_text(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

}  // namespace cuda
}  // namespace cudnn_rnn
