// cmd_cluster.cpp — the cluster verbs (`berth env|node|cluster ...`):
// berth-cluster's, which speaks to etcd, not to berthd. It is run from the
// directory this binary is in (installed), or from ../orchestrator/ (the
// build tree), else from PATH; `berth cluster events` and `berth cluster
// move` are its `events` and `move`.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "commands.h"

namespace berth::cli {

Error exec_cluster(Argv a) {
  if (a[0] == "cluster" && a.size() >= 2 && (a[1] == "events" || a[1] == "move")) a.erase(a.begin());
  std::string prog = "berth-cluster";
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<size_t>(n));
    dir.resize(dir.rfind('/') + 1);
    for (const char* sub : {"", "../orchestrator/"})
      if (::access((dir + sub + "berth-cluster").c_str(), X_OK) == 0) {
        prog = dir + sub + "berth-cluster";
        break;
      }
  }
  std::vector<char*> argv{prog.data()};
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  ::execvp(prog.c_str(), argv.data());
  return Error::msg("cluster commands need berth-cluster (" + prog + "): " + std::string(std::strerror(errno)));
}

}  // namespace berth::cli
