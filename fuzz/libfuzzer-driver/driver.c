// PoIP libFuzzer driver for SharpFuzz-instrumented .NET targets.
//
// Built with `clang-14 -fsanitize=fuzzer` (see fuzz/libfuzzer.sh), this is the libFuzzer binary:
// libFuzzer owns the loop, mutation and corpus; each input is handed to a long-lived .NET process
// that runs `SharpFuzz.Fuzzer.LibFuzzer.Run` and reports back. Written for the protocol of
// SharpFuzz 2.3.0 (read from that version's LibFuzzer.Run / FuzzerIpc / PosixFuzzerIpc):
//
//   * environment of the .NET process:
//       __LIBFUZZER_SHM_ID          System V shared memory id (decimal), attached with shmat
//       __LIBFUZZER_CONTROL_PIPE_ID fd (decimal) the .NET side reads from
//       __LIBFUZZER_STATUS_PIPE_ID  fd (decimal) the .NET side writes to
//   * shared memory: bytes [0, 65536) are the AFL-style edge map the instrumented code bumps
//     (SharpFuzz.Common.Trace.SharedMem); the input bytes start at offset 65536.
//   * the .NET side writes int32 0 once it is attached (ready); then for each input it reads an
//     int32 length from the control pipe, runs the action on shm[65536 .. 65536+length), and
//     writes an int32 status: 0 = returned normally, 2 = an exception escaped (it printed the
//     exception to stderr and leaves its loop).
//
// After each input the edge map is copied into libFuzzer's extra-counters section, which is how
// libFuzzer sees the managed coverage. A non-zero status, or the .NET process dying, is reported
// to libFuzzer as a crash (abort), so the input is saved as crash-<sha1>. A hang is caught by
// libFuzzer's own -timeout; the .NET process gets SIGKILL when the driver goes (PR_SET_PDEATHSIG).
//
// Driver options (libFuzzer ignores flags that start with "--"):
//   --target=PATH      the .NET executable (the published apphost of fuzz/PoIP.Network.Fuzz)
//   --target-arg=ARG   one argument for it (repeat, in order), e.g. --target-arg=libfuzzer
//                      --target-arg=varint
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAP_SIZE 65536
#define MAX_INPUT (4 << 20) // bytes of input the shared memory holds; keep -max_len below
#define MAX_ARGS 32

// libFuzzer treats this section as extra coverage counters (cleared by it before each input).
__attribute__((used, section("__libfuzzer_extra_counters"))) static uint8_t extra_counters[MAP_SIZE];

// Every edge-map slot any input has hit, for the report at exit: libFuzzer's own "cov" counts only
// the driver's PCs; the managed edges show up in its "ft" (features) and in this count.
static uint64_t edges_seen[MAP_SIZE / 64];

static uint8_t *shm_base;
static int control_fd = -1; // we write lengths here
static int status_fd = -1;  // we read statuses here
static pid_t child = -1;

static void die(const char *what) {
  fprintf(stderr, "poip-driver: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int write_all(int fd, const void *buf, size_t n) {
  const uint8_t *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

// 0 on success, -1 on end of stream or error.
static int read_all(int fd, void *buf, size_t n) {
  uint8_t *p = buf;
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue; // libFuzzer's -timeout alarm
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static void report_child_gone(void) {
  int status = 0;
  if (child > 0 && waitpid(child, &status, 0) == child) {
    if (WIFEXITED(status))
      fprintf(stderr, "poip-driver: .NET target exited with code %d\n", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
      fprintf(stderr, "poip-driver: .NET target killed by signal %d\n", WTERMSIG(status));
  } else {
    fprintf(stderr, "poip-driver: .NET target is gone\n");
  }
  child = -1;
}

static void note_edges(const uint8_t *map) {
  const uint64_t *words = (const uint64_t *)map;
  for (size_t w = 0; w < MAP_SIZE / 8; w++) {
    if (words[w] == 0) continue;
    for (size_t b = 0; b < 8; b++)
      if (map[w * 8 + b] != 0) edges_seen[(w * 8 + b) / 64] |= 1ull << ((w * 8 + b) % 64);
  }
}

static void report_edges(void) {
  size_t n = 0;
  for (size_t i = 0; i < MAP_SIZE / 64; i++) n += (size_t)__builtin_popcountll(edges_seen[i]);
  fprintf(stderr, "poip-driver: managed edge-map slots hit: %zu of %d\n", n, MAP_SIZE);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *target = NULL;
  char *target_argv[MAX_ARGS + 2];
  int n_args = 0;
  for (int i = 1; i < *argc; i++) {
    const char *a = (*argv)[i];
    if (strncmp(a, "--target=", 9) == 0) {
      target = a + 9;
    } else if (strncmp(a, "--target-arg=", 13) == 0) {
      if (n_args == MAX_ARGS) {
        fprintf(stderr, "poip-driver: too many --target-arg\n");
        exit(1);
      }
      target_argv[1 + n_args++] = (char *)(a + 13);
    }
  }
  if (target == NULL) {
    fprintf(stderr, "poip-driver: usage: %s --target=PATH [--target-arg=ARG ...] [libFuzzer flags] [corpus dirs]\n", (*argv)[0]);
    exit(1);
  }
  target_argv[0] = (char *)target;
  target_argv[1 + n_args] = NULL;

  int shm_id = shmget(IPC_PRIVATE, MAP_SIZE + MAX_INPUT, IPC_CREAT | IPC_EXCL | 0600);
  if (shm_id < 0) die("shmget");
  shm_base = shmat(shm_id, NULL, 0);
  if (shm_base == (void *)-1) {
    shmctl(shm_id, IPC_RMID, NULL);
    die("shmat");
  }

  int control[2], status[2]; // [0] read end, [1] write end
  if (pipe2(control, O_CLOEXEC) != 0 || pipe2(status, O_CLOEXEC) != 0) die("pipe2");

  char shm_env[32], control_env[32], status_env[32];
  snprintf(shm_env, sizeof shm_env, "%d", shm_id);
  snprintf(control_env, sizeof control_env, "%d", control[0]);
  snprintf(status_env, sizeof status_env, "%d", status[1]);

  pid_t parent = getpid();
  child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    // The .NET process must not outlive the driver (libFuzzer _Exits on timeouts and crashes).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    // Its two pipe ends survive exec; every other descriptor of ours is close-on-exec.
    fcntl(control[0], F_SETFD, 0);
    fcntl(status[1], F_SETFD, 0);
    setenv("__LIBFUZZER_SHM_ID", shm_env, 1);
    setenv("__LIBFUZZER_CONTROL_PIPE_ID", control_env, 1);
    setenv("__LIBFUZZER_STATUS_PIPE_ID", status_env, 1);
    execv(target, target_argv);
    fprintf(stderr, "poip-driver: exec %s: %s\n", target, strerror(errno));
    _exit(127);
  }
  close(control[0]);
  close(status[1]);
  control_fd = control[1];
  status_fd = status[0];
  signal(SIGPIPE, SIG_IGN); // a dead target shows up as a failed write, not a signal

  int32_t ready = -1;
  if (read_all(status_fd, &ready, sizeof ready) != 0 || ready != 0) {
    shmctl(shm_id, IPC_RMID, NULL);
    fprintf(stderr, "poip-driver: the .NET target did not report ready (is it calling SharpFuzz.Fuzzer.LibFuzzer.Run?)\n");
    report_child_gone();
    exit(1);
  }
  // Both sides are attached: the segment now goes away with the last detach, even on a kill.
  shmctl(shm_id, IPC_RMID, NULL);
  fprintf(stderr, "poip-driver: .NET target %s ready (pid %d)\n", target, (int)child);
  atexit(report_edges);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MAX_INPUT) return -1; // not run, not kept
  if (child < 0) abort();
  memset(shm_base, 0, MAP_SIZE);
  memcpy(shm_base + MAP_SIZE, data, size);
  int32_t length = (int32_t)size, status = -1;
  if (write_all(control_fd, &length, sizeof length) != 0 || read_all(status_fd, &status, sizeof status) != 0) {
    report_child_gone();
    abort();
  }
  memcpy(extra_counters, shm_base, MAP_SIZE);
  note_edges(shm_base);
  if (status != 0) {
    fprintf(stderr, "poip-driver: the .NET target reported status %d (an exception escaped the target; see above)\n", (int)status);
    report_child_gone();
    abort();
  }
  return 0;
}
