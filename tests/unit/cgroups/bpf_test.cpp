// bpf_test.cpp — the device-filter emitter, run through a tiny eBPF interpreter.
#include "berth/cgroups/bpf.h"

#include <gtest/gtest.h>

#include <cstring>

namespace berth::cgroups {
namespace {

struct Request {
  char type;  // 'c' or 'b'
  uint32_t major, minor;
  const char* access;  // one or more of "rwm"
};

// Interprets exactly the instruction subset the emitter uses; fails the test
// on anything else, on a jump out of bounds, or on running off the end.
int run(const std::vector<bpf_insn>& prog, const Request& req) {
  uint32_t access = 0;
  for (const char* p = req.access; *p; ++p)
    access |= *p == 'r' ? BPF_DEVCG_ACC_READ : *p == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  bpf_cgroup_dev_ctx ctx;
  ctx.access_type = (access << 16) | (req.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
  ctx.major = req.major;
  ctx.minor = req.minor;
  uint64_t reg[11] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const bpf_insn& i = prog[pc];
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W: {
        EXPECT_EQ(i.src_reg, BPF_REG_1);
        uint32_t v;
        std::memcpy(&v, reinterpret_cast<const char*>(&ctx) + i.off, 4);
        reg[i.dst_reg] = v;
        break;
      }
      case BPF_ALU | BPF_AND | BPF_K: reg[i.dst_reg] = uint32_t(reg[i.dst_reg] & uint32_t(i.imm)); break;
      case BPF_ALU | BPF_RSH | BPF_K: reg[i.dst_reg] = uint32_t(reg[i.dst_reg]) >> i.imm; break;
      case BPF_ALU | BPF_MOV | BPF_X: reg[i.dst_reg] = uint32_t(reg[i.src_reg]); break;
      case BPF_ALU64 | BPF_MOV | BPF_K: reg[i.dst_reg] = uint64_t(int64_t(i.imm)); break;
      case BPF_JMP | BPF_JNE | BPF_K:
        if (reg[i.dst_reg] != uint64_t(int64_t(i.imm))) pc += i.off;
        break;
      case BPF_JMP | BPF_JNE | BPF_X:
        if (reg[i.dst_reg] != reg[i.src_reg]) pc += i.off;
        break;
      case BPF_JMP | BPF_EXIT: return int(reg[BPF_REG_0]);
      default: ADD_FAILURE() << "unexpected opcode " << int(i.code) << " at " << pc; return -1;
    }
    if (pc >= prog.size()) {
      ADD_FAILURE() << "jump out of bounds at " << pc;
      return -1;
    }
  }
  ADD_FAILURE() << "ran off the end";
  return -1;
}

DeviceRule rule(bool allow, char type, std::optional<int64_t> major, std::optional<int64_t> minor,
                const char* access = "rwm") {
  return DeviceRule{allow, type, major, minor, access};
}

const std::vector<DeviceRule> default_rules = {
    rule(false, 'a', std::nullopt, std::nullopt),
    rule(true, 'c', 1, 3),                     // /dev/null
    rule(true, 'c', 1, 5, "rw"),               // /dev/zero, no mknod
    rule(true, 'c', 136, std::nullopt, "rw"),  // pts
    rule(false, 'c', 136, 7),                  // ...except pts/7
    rule(true, 'b', 8, 0, "r"),
};

struct Case {
  Request req;
  int want;
};

class DeviceFilter : public ::testing::TestWithParam<Case> {};

TEST_P(DeviceFilter, LastMatchingRuleWins) {
  auto prog = device_filter_program(default_rules);
  EXPECT_EQ(run(prog, GetParam().req), GetParam().want)
      << GetParam().req.type << " " << GetParam().req.major << ":" << GetParam().req.minor << " "
      << GetParam().req.access;
}

INSTANTIATE_TEST_SUITE_P(
    Table, DeviceFilter,
    ::testing::Values(Case{{'c', 1, 3, "r"}, 1}, Case{{'c', 1, 3, "m"}, 1},
                      Case{{'c', 1, 5, "w"}, 1}, Case{{'c', 1, 5, "m"}, 0},
                      Case{{'c', 1, 4, "r"}, 0}, Case{{'b', 1, 3, "r"}, 0},
                      Case{{'c', 136, 2, "rw"}, 1}, Case{{'c', 136, 7, "r"}, 0},
                      Case{{'b', 8, 0, "r"}, 1}, Case{{'b', 8, 0, "w"}, 0},
                      Case{{'b', 8, 1, "r"}, 0}, Case{{'c', 10, 200, "rwm"}, 0}));

TEST(DeviceFilterShape, AllowAllStopsEarly) {
  // Rules before an unconditional one are unreachable and must not be emitted.
  auto prog = device_filter_program({rule(true, 'c', 1, 3), rule(true, 'a', std::nullopt, std::nullopt)});
  ASSERT_EQ(prog.size(), 6u + 2u);  // prologue + mov/exit
  EXPECT_EQ(run(prog, {'b', 9, 9, "rwm"}), 1);
}

TEST(DeviceFilterShape, EmptyDeniesEverything) {
  auto prog = device_filter_program({});
  ASSERT_EQ(prog.size(), 8u);
  EXPECT_EQ(run(prog, {'c', 1, 3, "r"}), 0);
}

TEST(DeviceFilterShape, BlockSizes) {
  // type + access(3) + major + minor + mov + exit, then the default deny.
  auto prog = device_filter_program({rule(true, 'c', 1, 3, "rw")});
  EXPECT_EQ(prog.size(), 6u + 8u + 2u);
  auto wildcard = device_filter_program({rule(true, 'c', std::nullopt, std::nullopt)});
  EXPECT_EQ(wildcard.size(), 6u + 3u + 2u);
}

}  // namespace
}  // namespace berth::cgroups
