/*
 * Lets the addon built on a new glibc (Debian 12: 2.36) load on glibc >= 2.28
 * (Debian 10, Ubuntu 20.04, RHEL 8), x86-64 only. Linked into the addon alone.
 *
 * Why it is needed: a binary records, for every libc function it calls, the
 * newest symbol version of the glibc it was linked against. Three groups of
 * calls come out too new, from our code, the static libstdc++ and the static
 * CUDA runtime alike:
 *  - glibc 2.34 moved libpthread, libdl and librt into libc and gave their
 *    functions a new version (pthread_create@GLIBC_2.34); 2.29 did the same to
 *    log/pow/exp (new versions without SVID error handling).
 *    Fix: a hidden trampoline per function, which every object in the link
 *    binds to, jumps to the old version (pthread_create@GLIBC_2.2.5) that
 *    glibc keeps for old binaries. The addon also lists libpthread.so.0,
 *    libdl.so.2 and librt.so.1 as needed (CMakeLists.txt): before 2.34 those
 *    old versions live there, not in libc.so.6.
 *  - stat/fstat64 (2.33) were inline wrappers of __xstat/__fxstat64 before
 *    2.33, which glibc still exports: stat and fstat64 below call those.
 *  - the static libstdc++ of GCC 12 uses __libc_single_threaded (2.32) and
 *    arc4random (2.36): defined here. _dl_find_object (2.35) comes from the
 *    static libgcc unwinder; the addon links the system's libgcc_s.so.1 instead.
 * test/glibc.test.ts checks that no symbol needs more than GLIBC_2.28;
 * scripts/glibc-check.sh loads the packed package on Debian 11.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HIDDEN __attribute__((visibility("hidden")))

/* One trampoline: `sym` (hidden, so every reference in the link binds to it)
   jumps through the GOT to sym@ver, resolved by the dynamic loader. */
#define TRAMPOLINE(sym, ver)                                            \
  __asm__(".text\n"                                                     \
          ".globl " #sym "\n"                                           \
          ".hidden " #sym "\n"                                          \
          ".type " #sym ", @function\n"                                 \
          ".p2align 4\n" #sym ":\n"                                     \
          "  jmp *cudnn_rnn_old_" #sym "@GOTPCREL(%rip)\n"              \
          ".size " #sym ", .-" #sym "\n"                                \
          ".symver cudnn_rnn_old_" #sym ", " #sym "@" #ver "\n");

/* libdl (2.34 moved it into libc). */
TRAMPOLINE(dladdr, GLIBC_2.2.5)
TRAMPOLINE(dlclose, GLIBC_2.2.5)
TRAMPOLINE(dlerror, GLIBC_2.2.5)
TRAMPOLINE(dlinfo, GLIBC_2.3.3)
TRAMPOLINE(dlmopen, GLIBC_2.3.4)
TRAMPOLINE(dlopen, GLIBC_2.2.5)
TRAMPOLINE(dlsym, GLIBC_2.2.5)
TRAMPOLINE(dlvsym, GLIBC_2.2.5)
/* libpthread. */
TRAMPOLINE(__pthread_key_create, GLIBC_2.2.5)
TRAMPOLINE(pthread_attr_getstacksize, GLIBC_2.2.5)
TRAMPOLINE(pthread_attr_setstacksize, GLIBC_2.2.5)
TRAMPOLINE(pthread_condattr_setpshared, GLIBC_2.2.5)
TRAMPOLINE(pthread_create, GLIBC_2.2.5)
TRAMPOLINE(pthread_detach, GLIBC_2.2.5)
TRAMPOLINE(pthread_getattr_np, GLIBC_2.2.5)
TRAMPOLINE(pthread_getspecific, GLIBC_2.2.5)
TRAMPOLINE(pthread_join, GLIBC_2.2.5)
TRAMPOLINE(pthread_key_create, GLIBC_2.2.5)
TRAMPOLINE(pthread_key_delete, GLIBC_2.2.5)
TRAMPOLINE(pthread_kill, GLIBC_2.2.5)
TRAMPOLINE(pthread_mutex_trylock, GLIBC_2.2.5)
TRAMPOLINE(pthread_mutexattr_destroy, GLIBC_2.2.5)
TRAMPOLINE(pthread_mutexattr_init, GLIBC_2.2.5)
TRAMPOLINE(pthread_mutexattr_setpshared, GLIBC_2.2.5)
TRAMPOLINE(pthread_mutexattr_settype, GLIBC_2.2.5)
TRAMPOLINE(pthread_once, GLIBC_2.2.5)
TRAMPOLINE(pthread_rwlock_destroy, GLIBC_2.2.5)
TRAMPOLINE(pthread_rwlock_init, GLIBC_2.2.5)
TRAMPOLINE(pthread_rwlock_rdlock, GLIBC_2.2.5)
TRAMPOLINE(pthread_rwlock_timedrdlock, GLIBC_2.2.5)
TRAMPOLINE(pthread_rwlock_timedwrlock, GLIBC_2.2.5)
TRAMPOLINE(pthread_rwlock_tryrdlock, GLIBC_2.2.5)
TRAMPOLINE(pthread_rwlock_trywrlock, GLIBC_2.2.5)
TRAMPOLINE(pthread_rwlock_unlock, GLIBC_2.2.5)
TRAMPOLINE(pthread_rwlock_wrlock, GLIBC_2.2.5)
TRAMPOLINE(pthread_rwlockattr_destroy, GLIBC_2.2.5)
TRAMPOLINE(pthread_rwlockattr_init, GLIBC_2.2.5)
TRAMPOLINE(pthread_rwlockattr_setpshared, GLIBC_2.2.5)
TRAMPOLINE(pthread_setspecific, GLIBC_2.2.5)
TRAMPOLINE(pthread_spin_destroy, GLIBC_2.2.5)
TRAMPOLINE(pthread_spin_init, GLIBC_2.2.5)
TRAMPOLINE(pthread_spin_lock, GLIBC_2.2.5)
TRAMPOLINE(pthread_spin_trylock, GLIBC_2.2.5)
TRAMPOLINE(pthread_spin_unlock, GLIBC_2.2.5)
TRAMPOLINE(sem_destroy, GLIBC_2.2.5)
TRAMPOLINE(sem_getvalue, GLIBC_2.2.5)
TRAMPOLINE(sem_init, GLIBC_2.2.5)
TRAMPOLINE(sem_post, GLIBC_2.2.5)
TRAMPOLINE(sem_timedwait, GLIBC_2.2.5)
TRAMPOLINE(sem_trywait, GLIBC_2.2.5)
TRAMPOLINE(sem_wait, GLIBC_2.2.5)
/* librt. */
TRAMPOLINE(shm_open, GLIBC_2.2.5)
TRAMPOLINE(shm_unlink, GLIBC_2.2.5)
/* libm (2.29 gave these new versions). */
TRAMPOLINE(exp, GLIBC_2.2.5)
TRAMPOLINE(exp2, GLIBC_2.2.5)
TRAMPOLINE(log, GLIBC_2.2.5)
TRAMPOLINE(log2, GLIBC_2.2.5)
TRAMPOLINE(pow, GLIBC_2.2.5)

/* stat and fstat64 through the __xstat family (x86-64: _STAT_VER 1). */
extern int cudnn_rnn_old_xstat(int ver, const char* path, struct stat* buf);
extern int cudnn_rnn_old_fxstat64(int ver, int fd, struct stat64* buf);
__asm__(".symver cudnn_rnn_old_xstat, __xstat@GLIBC_2.2.5");
__asm__(".symver cudnn_rnn_old_fxstat64, __fxstat64@GLIBC_2.2.5");

HIDDEN int stat(const char* path, struct stat* buf) { return cudnn_rnn_old_xstat(1, path, buf); }
HIDDEN int fstat64(int fd, struct stat64* buf) { return cudnn_rnn_old_fxstat64(1, fd, buf); }

/* 0: libstdc++ always takes its thread-safe (atomic) paths, which is correct
   whether or not the process has threads (Node always has). */
HIDDEN char __libc_single_threaded = 0;

/* The kernel's random bytes (getrandom, Linux 3.17), as glibc 2.36 does;
   /dev/urandom on older kernels. libstdc++ uses it in std::random_device. */
HIDDEN uint32_t arc4random(void) {
  uint32_t v = 0;
  for (;;) {
    long n = syscall(SYS_getrandom, &v, sizeof v, 0);
    if (n == (long)sizeof v) return v;
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, &v, sizeof v);
    close(fd);
    if (n == (ssize_t)sizeof v) return v;
  }
  /* No entropy source at all: a time-derived value rather than a crash. */
  return (uint32_t)(uintptr_t)&v ^ (uint32_t)getpid();
}
