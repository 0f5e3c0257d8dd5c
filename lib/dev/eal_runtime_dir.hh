#pragma once
// What the EAL leaves in its runtime directory (/var/run/dpdk/PREFIX) when a
// primary process exits: rte_eal_cleanup closes the files but keeps them, and
// the directory itself, although no secondary can attach to a primary that
// is gone. The stack removes them at exit so that a run leaves nothing.
#include <string>

namespace kbt::dev {

// True for a file the EAL (22.11) keeps in the runtime directory after
// rte_eal_cleanup: config, hugepage_info and fbarray_*. They exist only
// without --no-shconf, where the lock on config keeps a second primary off
// the prefix. The sockets (mp_socket*, dpdk_telemetry.*) are not in the
// list: the EAL and telemetry unlink their own, and one of another process
// sharing a --no-shconf prefix must stay.
bool is_eal_runtime_file(const std::string& name) noexcept;

// Removes the EAL's files from `dir`, then `dir` if that left it empty.
// Anything else in it is kept, and so is the directory. Returns the number
// of entries removed (the directory counts as one).
int remove_eal_runtime_dir(const std::string& dir) noexcept;

// Telemetry unlinks its socket from an atexit handler that rte_eal_init
// registers, so the directory is not empty yet when the stack is released.
// Called before rte_eal_init, this registers a handler that runs after
// telemetry's (handlers run in reverse order) and removes the directory
// last named by rmdir_at_exit, if it is empty by then.
void arm_rmdir_at_exit() noexcept;
void rmdir_at_exit(const std::string& dir) noexcept;

}  // namespace kbt::dev
