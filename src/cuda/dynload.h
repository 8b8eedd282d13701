// Opening shared libraries found at run time (DESIGN.md decision 1): the part
// the CUDA driver, cuDNN and cuBLAS loaders share. Nothing here knows a
// library's name; discovery.cc decides what to look for and where.
#pragma once
#include <dlfcn.h>

#include <functional>
#include <string>
#include <vector>

namespace cudnn_rnn {
namespace cuda {
namespace dynload {

// A library opened before a candidate, from the candidate's own folder, so
// that the candidate's later by-soname dlopen of it finds this copy instead
// of failing (a pip wheel's folder is not on the loader's search path).
struct Preload {
  std::string path;       // full path
  bool required = true;   // false: a failure is noted and the candidate still tried
};

// One place to try.
struct Candidate {
  std::string path;               // a full path, or a bare soname for the loader's search path
  std::vector<Preload> preload;   // opened first, in order, with RTLD_GLOBAL
};

// Decides whether an opened candidate is usable: "" accepts it, anything
// else is the reason it is refused (the candidate is then closed again).
using Check = std::function<std::string(void* handle, const Candidate& candidate)>;

struct Opened {
  void* handle = nullptr;  // null when no candidate was accepted
  size_t index = 0;        // which candidate
  std::string path;        // the file actually mapped, symlinks resolved
  bool was_loaded = false; // a bare soname that this process had loaded already
  std::vector<void*> preloaded;  // its preloads' handles, in the order opened
};

// Closes an accepted candidate and its preloads again (a pair that turned
// out not to match is given back, so that its sonames shadow nothing).
void close(Opened& opened);

// Tries the candidates in order and returns the first one that opens, has
// its preloads, and passes `check`. Every refusal adds a "path: why" line to
// `tried`; a refused candidate and its preloads are closed so that their
// sonames cannot shadow a later candidate's own sub-libraries.
Opened open_first(const std::vector<Candidate>& candidates, const Check& check,
                  std::vector<std::string>& tried);

// dlopen with dlerror captured: null and `error` set on failure.
void* open(const std::string& path, int flags, std::string& error);

// Checked dlsym. need() records a missing name; want() leaves the slot null.
class Symbols {
 public:
  explicit Symbols(void* handle) : handle_(handle) {}
  template <typename F>
  void need(const char* name, F& slot) {
    slot = reinterpret_cast<F>(find(name));
    if (!slot) missing_.push_back(name);
  }
  template <typename F>
  void want(const char* name, F& slot) {
    slot = reinterpret_cast<F>(find(name));
  }
  bool ok() const { return missing_.empty(); }
  // "" when every needed symbol was found, else "missing symbol(s): a, b".
  std::string missing() const;

 private:
  void* find(const char* name);
  void* handle_;
  std::vector<std::string> missing_;
};

// ---- Paths ------------------------------------------------------------------

bool is_file(const std::string& path);
bool is_dir(const std::string& path);
// The canonical path, or "" when it does not exist.
std::string real_path(const std::string& path);
// The file a dlopen handle maps, symlinks resolved ("" if unknown).
std::string loaded_file(void* handle);
std::string join(const std::string& dir, const std::string& name);
std::string dir_name(const std::string& path);
std::string base_name(const std::string& path);
// Folders matching a glob pattern, newest version first (cuda-13.0 before
// cuda-12.6, python3.12 before python3.9).
std::vector<std::string> glob_dirs(const std::string& pattern);
// Regular files matching a glob pattern, in name order.
std::vector<std::string> glob_files(const std::string& pattern);

}  // namespace dynload
}  // namespace cuda
}  // namespace cudnn_rnn
