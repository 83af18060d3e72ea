// replay_main.cpp — runs a fuzz target over every file in the given
// directories (the seed corpus), so the targets are exercised by every
// build, not only by libFuzzer builds.
#include <dirent.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "berth/base/fs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  int n = 0;
  for (int i = 1; i < argc; ++i) {
    auto names = berth::fs::list_dir(argv[i]);
    if (!names) {
      std::fprintf(stderr, "replay: %s\n", names.error().what().c_str());
      return 1;
    }
    for (const auto& name : *names) {
      auto data = berth::fs::read_file(std::string(argv[i]) + "/" + name);
      if (!data) continue;
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data->data()), data->size());
      ++n;
    }
  }
  std::printf("replayed %d inputs\n", n);
  return n > 0 ? 0 : 1;
}
