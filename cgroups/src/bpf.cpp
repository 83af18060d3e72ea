// bpf.cpp — emits, loads and attaches the cgroup v2 device-filter program.
#include "berth/cgroups/bpf.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "berth/base/fd.h"

namespace berth::cgroups {
namespace {

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i;
  std::memset(&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

bpf_insn load_u32(uint8_t dst, int16_t off) { return insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, off, 0); }
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) { return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm); }
bpf_insn mov32_reg(uint8_t dst, uint8_t src) { return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn mov64_imm(uint8_t dst, int32_t imm) { return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
bpf_insn jne_imm(uint8_t dst, int32_t imm) { return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, imm); }
bpf_insn jne_reg(uint8_t dst, uint8_t src) { return insn(BPF_JMP | BPF_JNE | BPF_X, dst, src, 0, 0); }
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

int32_t access_bits(const std::string& access) {
  int32_t bits = 0;
  for (char c : access) {
    if (c == 'r') bits |= BPF_DEVCG_ACC_READ;
    if (c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
    if (c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
  }
  return bits;
}

constexpr int32_t all_access = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;

// Registers after the prologue: r2 type, r3 access, r4 major, r5 minor.
// Returns true when the rule matches every request.
bool emit_rule(const DeviceRule& rule, std::vector<bpf_insn>& out) {
  std::vector<bpf_insn> block;
  if (rule.type == 'c' || rule.type == 'b')
    block.push_back(jne_imm(BPF_REG_2, rule.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
  int32_t bits = access_bits(rule.access);
  if (bits != all_access) {
    // Match when the requested access is a subset of the rule's.
    block.push_back(mov32_reg(BPF_REG_1, BPF_REG_3));
    block.push_back(alu32_imm(BPF_AND, BPF_REG_1, bits));
    block.push_back(jne_reg(BPF_REG_1, BPF_REG_3));
  }
  if (rule.major) block.push_back(jne_imm(BPF_REG_4, static_cast<int32_t>(*rule.major)));
  if (rule.minor) block.push_back(jne_imm(BPF_REG_5, static_cast<int32_t>(*rule.minor)));
  bool unconditional = block.empty();
  block.push_back(mov64_imm(BPF_REG_0, rule.allow ? 1 : 0));
  block.push_back(exit_insn());
  // Every failed test jumps to the first instruction after this block.
  for (size_t i = 0; i < block.size(); ++i)
    if (BPF_CLASS(block[i].code) == BPF_JMP && BPF_OP(block[i].code) == BPF_JNE)
      block[i].off = static_cast<int16_t>(block.size() - 1 - i);
  out.insert(out.end(), block.begin(), block.end());
  return unconditional;
}

long sys_bpf(int cmd, bpf_attr& attr) {
  return ::syscall(__NR_bpf, cmd, &attr, sizeof attr);
}

// The ids of the device programs attached to the cgroup now.
Result<std::vector<uint32_t>> attached_programs(int cgroup_fd) {
  std::vector<uint32_t> ids(64);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
  attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (sys_bpf(BPF_PROG_QUERY, attr) < 0) return Error::os("query cgroup device programs");
  ids.resize(attr.query.prog_cnt);
  return ids;
}

Status detach(int cgroup_fd, uint32_t id) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_id = id;
  UniqueFd prog(static_cast<int>(sys_bpf(BPF_PROG_GET_FD_BY_ID, attr)));
  if (!prog) return errno == ENOENT ? ok() : Status(Error::os("open device program " + std::to_string(id)));
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  if (sys_bpf(BPF_PROG_DETACH, attr) < 0 && errno != ENOENT)
    return Error::os("detach device program " + std::to_string(id));
  return ok();
}

}  // namespace

std::vector<bpf_insn> device_filter_program(const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> out = {
      load_u32(BPF_REG_2, 0),                 // access_type
      alu32_imm(BPF_AND, BPF_REG_2, 0xffff),  // low half: device type
      load_u32(BPF_REG_3, 0),
      alu32_imm(BPF_RSH, BPF_REG_3, 16),      // high half: access
      load_u32(BPF_REG_4, 4),                 // major
      load_u32(BPF_REG_5, 8),                 // minor
  };
  for (auto it = rules.rbegin(); it != rules.rend(); ++it)
    if (emit_rule(*it, out)) return out;  // nothing after it is reachable
  out.push_back(mov64_imm(BPF_REG_0, 0));
  out.push_back(exit_insn());
  return out;
}

Status attach_device_filter(int cgroup_fd, const std::vector<bpf_insn>& program) {
  auto old = BERTH_TRY(attached_programs(cgroup_fd));
  static const char license[] = "Apache";
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<uint64_t>(program.data());
  attr.insn_cnt = static_cast<uint32_t>(program.size());
  attr.license = reinterpret_cast<uint64_t>(license);
  UniqueFd prog(static_cast<int>(sys_bpf(BPF_PROG_LOAD, attr)));
  if (!prog) return Error::os("load device filter program");
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, attr) < 0) return Error::os("attach device filter program");
  // The new filter is in force; only now drop the old ones.
  for (uint32_t id : old) BERTH_TRY(detach(cgroup_fd, id));
  return ok();
}

}  // namespace berth::cgroups
