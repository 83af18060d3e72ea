// sealed_exe.h — CVE-2019-5736: no process this program puts into a
// container runs the host's binary file.
//
// The container init is a clone of the runtime and an exec child a fork of
// it, so until their execve they run whatever /proc/self/exe is; a process
// in the container that execs /proc/self/exe (a `#!/proc/self/exe` script)
// runs it there, dumpable, and the container can then write to it through
// /proc/PID/exe once it exits. The programs that enter containers
// (berth-runtime create/run/exec, berth-monitor) therefore re-execute
// themselves first from a copy of their binary that nothing can write.
#pragma once

#include "berth/base/error.h"
#include "berth/base/fd.h"

namespace berth::runtime {

/// Whether /proc/self/exe is a copy of this program that cannot be written:
/// a file on a read-only, nosuid, nodev overlayfs (the lower-only overlay
/// seal_self() makes has no upper layer to write to), or a memfd carrying
/// the write, grow, shrink and seal seals.
bool exe_is_sealed();

/// A sealed copy of this process's binary, as an fd to execveat(): a file
/// on a detached, read-only overlayfs whose only layers are the binary's
/// directory and a second, masked one (no bytes copied, nothing mounted
/// anywhere, gone once the last process running it exits), or when overlayfs
/// cannot be used (no CAP_SYS_ADMIN, no fsopen) a sealed memfd copy.
Result<UniqueFd> seal_self();

/// Re-executes this program from seal_self() with the same argv,
/// environment and open fds, unless it runs from a sealed copy already;
/// there it names the process after argv[0] (an execveat of an fd would
/// name it after the fd). Returns only when already sealed, or with the
/// error. Call first thing in main() of a program that enters containers.
Status reexec_sealed(char** argv);

/// The runtime library's own check before it clones or forks a process
/// into a container: an error naming CVE-2019-5736 when this process runs
/// a binary file that a container could write (its caller skipped
/// reexec_sealed()).
Status require_sealed_exe();

}  // namespace berth::runtime
