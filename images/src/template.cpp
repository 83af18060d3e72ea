// template.cpp — OS templates: a busybox system built offline and a
// Debian/Ubuntu system built with debootstrap, each packed as one layer.
#include "berth/images/template.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

#include "berth/base/command.h"
#include "berth/base/fd.h"
#include "berth/base/fs.h"
#include "berth/images/build.h"
#include "berth/images/image.h"
#include "http.h"

namespace berth::images {
namespace {

const std::vector<std::string> kPath = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};

// Creates (or replaces) a file in a tree being built; it is packed and
// synced as a layer afterwards, so no fsync here.
Status create_file(const std::string& p, std::string_view text, mode_t mode) {
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd.valid()) return Error::os("create " + p);
  while (!text.empty()) {
    ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::os("write " + p);
    text.remove_prefix(static_cast<size_t>(n));
  }
  if (::fchmod(fd.get(), mode) < 0) return Error::os("chmod " + p);
  return ok();
}

Status put(const std::string& root, const std::string& rel, std::string_view text, mode_t mode = 0644) {
  std::string p = fs::join(root, rel);
  BERTH_TRY(fs::mkdir_p(p.substr(0, p.rfind('/')), 0755));
  return create_file(p, text, mode);
}

// A static binary has no PT_INTERP program header.
Status check_static(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::os("open " + path + " (install busybox-static)");
  Elf64_Ehdr eh;
  if (::pread(fd.get(), &eh, sizeof eh, 0) != sizeof eh || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64)
    return Error::msg(path + ": not a 64-bit ELF executable");
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    off_t off = static_cast<off_t>(eh.e_phoff + i * sizeof ph);
    if (::pread(fd.get(), &ph, sizeof ph, off) != sizeof ph) return Error::msg(path + ": truncated program headers");
    if (ph.p_type == PT_INTERP)
      return Error::msg(path + " is dynamically linked; a template needs a static busybox (install busybox-static)");
  }
  return ok();
}

// Unmounts whatever a failed debootstrap left mounted under `root`
// (its /proc and /sys), deepest first.
void unmount_under(const std::string& root) {
  std::vector<std::string> mps;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string a, b, c, d, mp;
    ss >> a >> b >> c >> d >> mp;
    if (mp.rfind(root + "/", 0) == 0) mps.push_back(mp);
  }
  std::sort(mps.begin(), mps.end(), [](const auto& x, const auto& y) { return x.size() > y.size(); });
  for (const auto& mp : mps) ::umount2(mp.c_str(), MNT_DETACH);
}

// A scratch directory in the store's tmp/ (removed by gc if we crash).
struct Scratch {
  std::string path;
  ~Scratch() {
    if (path.empty()) return;
    unmount_under(path);
    (void)fs::remove_tree(path);
  }
};

Result<std::string> make_scratch(const Store& store, const std::string& what, Scratch& s) {
  // Unique per build: berthd builds templates side by side in one process.
  static std::atomic<unsigned> serial{0};
  s.path = fs::join(store.root(), "tmp/" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(serial++));
  (void)fs::remove_tree(s.path);
  BERTH_TRY(fs::mkdir_p(s.path, 0755));
  return s.path;
}

Status busybox_tree(const std::string& root, const BusyboxTemplate& o) {
  for (const char* d : {"bin", "sbin", "usr/bin", "usr/sbin", "etc/init.d", "proc", "sys", "dev", "tmp", "run",
                        "root", "var/log", "var/run", "home"})
    BERTH_TRY(fs::mkdir_p(fs::join(root, d), 0755));
  ::chmod(fs::join(root, "tmp").c_str(), 01777);
  ::chmod(fs::join(root, "root").c_str(), 0700);
  BERTH_TRY(create_file(fs::join(root, "bin/busybox"), BERTH_TRY(fs::read_file(o.busybox, 64u << 20)), 0755));
  std::string list = BERTH_TRY_CTX(run_command({o.busybox, "--list-full"}), "list busybox applets");
  std::istringstream ss(list);
  std::string applet;
  while (std::getline(ss, applet)) {
    if (applet.empty() || applet == "bin/busybox" || applet.find("..") != std::string::npos) continue;
    std::string link = fs::join(root, applet);
    if (::symlink("/bin/busybox", link.c_str()) < 0 && errno != EEXIST) return Error::os("symlink " + link);
  }
  // busybox init: rcS once, then a syslogd kept running; SIGUSR2 powers
  // off (the init then leaves the container's pid namespace).
  BERTH_TRY(put(root, "etc/inittab",
                "::sysinit:/etc/init.d/rcS\n"
                "::respawn:/sbin/syslogd -n -O /var/log/messages\n"
                "::shutdown:/bin/sync\n"));
  BERTH_TRY(put(root, "etc/init.d/rcS",
                "#!/bin/sh\n"
                "# rcS — brings a busybox system container up.\n"
                "[ -d /proc/self ] || mount -t proc proc /proc\n"
                "[ -s /etc/hostname ] && hostname -F /etc/hostname 2>/dev/null\n"
                "[ -d /run ] && [ -d /var/log ] || mkdir -p /run /var/log\n"
                "[ -x /etc/rc.local ] && /etc/rc.local\n"
                "echo \"$(date +%s)\" > /run/berth-booted\n",
                0755));
  BERTH_TRY(put(root, "etc/hostname", o.hostname + "\n"));
  BERTH_TRY(put(root, "etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t" + o.hostname + "\n"));
  BERTH_TRY(put(root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"));
  BERTH_TRY(put(root, "etc/group", "root:x:0:\nnogroup:x:65534:\n"));
  BERTH_TRY(put(root, "etc/shadow", "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n", 0600));
  BERTH_TRY(put(root, "etc/os-release", "NAME=\"busybox\"\nID=busybox\nPRETTY_NAME=\"busybox system container\"\n"));
  return ok();
}

// What every Debian template has besides debootstrap's variant: systemd as
// init, with D-Bus (systemctl reboot/poweroff, systemd-run, logind and
// loginctl need the system bus) and PAM sessions; ip, ping, and the
// procps tools (free, top, ps) a user of a server expects.
constexpr const char* kDebianBase = "systemd-sysv,dbus,libpam-systemd,iproute2,iputils-ping,netbase,procps";

std::string template_key(const DebianTemplate& o) {
  std::vector<std::string> pk = o.packages;
  std::sort(pk.begin(), pk.end());
  // The base set and the fixups' revision are part of the key: a template
  // built by an older recipe is built again.
  std::string k = o.suite + "|" + o.mirror + "|" + o.variant + "|" + kDebianBase + "|fixups-5";
  for (const auto& p : pk) k += "|" + p;
  return sha256_of(k).hex();
}

}  // namespace

Status check_debian_template(const DebianTemplate& o) {
  auto word = [](const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '+' || c == '_';
    });
  };
  if (!word(o.suite)) return Error::msg("suite: \"" + o.suite + "\" is not a suite name");
  if (!word(o.variant)) return Error::msg("variant: \"" + o.variant + "\" is not a debootstrap variant");
  if (o.mirror.rfind("http://", 0) != 0 && o.mirror.rfind("https://", 0) != 0 && o.mirror.rfind("file:/", 0) != 0)
    return Error::msg("mirror: \"" + o.mirror + "\" is not an http(s):// or file:/ URL");
  for (size_t i = 0; i < o.packages.size(); ++i)
    if (!word(o.packages[i]) || o.packages[i][0] == '-')
      return Error::msg("packages[" + std::to_string(i) + "]: \"" + o.packages[i] + "\" is not a package name");
  return ok();
}

namespace {

// Asks the mirror for the suite's Release file before debootstrap runs, so
// that a mirror out of reach (berthd's network namespace may have no route
// to the archive) is said in one line naming it, not in debootstrap's log.
Status probe_mirror(const DebianTemplate& o) {
  std::string hint = "; give a mirror reachable from berthd's network namespace with --mirror";
  std::string release = o.mirror + (o.mirror.back() == '/' ? "" : "/") + "dists/" + o.suite + "/Release";
  if (o.mirror.rfind("file:", 0) == 0) {
    std::string path = release.substr(5);
    while (path.size() > 1 && path[0] == '/' && path[1] == '/') path.erase(0, 1);
    if (::access(path.c_str(), R_OK) < 0)
      return Error(errno, "mirror " + o.mirror + ": no suite " + o.suite + " (" + path + " is not readable)");
    return ok();
  }
  http::Handle h;
  http::Request req;
  req.method = "HEAD";
  req.url = release;
  req.connect_seconds = 10;
  req.total_seconds = 20;
  auto r = http::perform(h, req, http::Tls{}, nullptr);
  if (!r) return Error(r.error().code(), "mirror " + o.mirror + " cannot be reached (" + r.error().what() + ")" + hint);
  if (r->status == 404) return Error(ENOENT, "mirror " + o.mirror + " has no suite " + o.suite + " (" + release + ": 404)");
  if (r->status < 200 || r->status >= 400)
    return Error(EPROTO, "mirror " + o.mirror + ": " + release + " answered " + std::to_string(r->status) + hint);
  return ok();
}

// Leaves the tree as a container wants it: its own machine id at first
// boot, resolv.conf and hostname written by whoever runs it, no package
// files kept.
Status debian_fixups(const std::string& root, const DebianTemplate& o) {
  BERTH_TRY(put(root, "etc/machine-id", ""));
  // A persistent journal, as a server keeps one: `journalctl -b -1` shows
  // how the last boot ended (systemd-tmpfiles sets its owner and mode).
  BERTH_TRY(fs::mkdir_p(fs::join(root, "var/log/journal"), 02755));
  // sshd's host keys are made at each container's first boot, never shared
  // by every container of the template.
  if (fs::exists(fs::join(root, "usr/sbin/sshd"))) {
    for (const auto& f : BERTH_TRY(fs::list_dir(fs::join(root, "etc/ssh"))))
      if (f.rfind("ssh_host_", 0) == 0) ::unlink(fs::join(root, "etc/ssh/" + f).c_str());
    // Ed25519 and ECDSA only: an RSA key took 1.7 s of the first boot's
    // 2.2 (and more with guests booting side by side).
    BERTH_TRY(put(root, "etc/ssh/sshd_config.d/berth-host-keys.conf",
                  "# berth: the host keys each container makes at its first boot\n"
                  "HostKey /etc/ssh/ssh_host_ed25519_key\nHostKey /etc/ssh/ssh_host_ecdsa_key\n"));
    BERTH_TRY(put(root, "etc/systemd/system/berth-ssh-keys.service",
                  "[Unit]\nDescription=SSH host keys of this container\n"
                  "ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key\nBefore=ssh.service\n\n"
                  "[Service]\nType=oneshot\n"
                  "ExecStart=/usr/bin/ssh-keygen -q -N \"\" -t ed25519 -f /etc/ssh/ssh_host_ed25519_key\n"
                  "ExecStart=/usr/bin/ssh-keygen -q -N \"\" -t ecdsa -f /etc/ssh/ssh_host_ecdsa_key\n\n"
                  "[Install]\nWantedBy=multi-user.target ssh.service\n"));
    BERTH_TRY(fs::mkdir_p(fs::join(root, "etc/systemd/system/ssh.service.wants"), 0755));
    std::string link = fs::join(root, "etc/systemd/system/ssh.service.wants/berth-ssh-keys.service");
    ::unlink(link.c_str());
    if (::symlink("/etc/systemd/system/berth-ssh-keys.service", link.c_str()) < 0) return Error::os("symlink " + link);
  }
  // systemd-networkd configures the guest's network: berthd writes its
  // files (/etc/systemd/network/10-berth-ethN.network) at each start, so
  // the address, routes and DNS survive a reboot from inside and the
  // guest's own `networkctl`/`systemctl restart systemd-networkd` apply them.
  BERTH_TRY_CTX(run_command({"chroot", root, "systemctl", "enable", "--quiet", "systemd-networkd.service"}),
                "enable systemd-networkd");
  ::unlink(fs::join(root, "var/lib/dbus/machine-id").c_str());
  ::unlink(fs::join(root, "etc/resolv.conf").c_str());
  BERTH_TRY(put(root, "etc/hostname", o.suite + "\n"));
  std::string debs = fs::join(root, "var/cache/apt/archives");
  if (fs::exists(debs))
    for (const auto& f : BERTH_TRY(fs::list_dir(debs)))
      if (f.size() > 4 && f.compare(f.size() - 4, 4, ".deb") == 0) ::unlink(fs::join(debs, f).c_str());
  if (!fs::exists(fs::join(root, "sbin/init")) && !fs::exists(fs::join(root, "usr/sbin/init")))
    return Error::msg("the built system has no /sbin/init");
  return ok();
}

Result<Descriptor> cached(const Store& store, std::string_view tag, const std::string& key) {
  auto image = load_image(store, tag);
  if (!image) return std::move(image).error();
  const auto& labels = image->config.labels;
  auto it = std::find_if(labels.begin(), labels.end(), [](const auto& kv) { return kv.first == kTemplateKeyLabel; });
  if (it == labels.end() || it->second != key) return Error(ENOENT, "stale");
  return image->descriptor;
}

}  // namespace

Result<Descriptor> build_busybox_template(const Store& store, std::string_view tag, const BusyboxTemplate& o) {
  std::string what = "build template " + std::string(tag);
  BERTH_TRY_CTX(check_static(o.busybox), what);
  Lease lease = BERTH_TRY_CTX(store.lease(), what);
  Scratch s;
  std::string root = BERTH_TRY_CTX(make_scratch(store, "busybox", s), what);
  BERTH_TRY_CTX(busybox_tree(root, o), what);
  WrittenLayer layer = BERTH_TRY_CTX(write_layer(store, LayerSource{root, false, std::nullopt}), what);
  NewImage spec;
  spec.entrypoint = {"/sbin/init"};
  spec.env = kPath;
  spec.stop_signal = "SIGUSR2";
  spec.labels = {{std::string(kTemplateLabel), "busybox"}, {std::string(kInitLabel), "busybox"}};
  spec.created_by = "berth build-template busybox";
  return BERTH_TRY_CTX(add_image(store, layer, spec, tag), what);
}

Result<Descriptor> build_debian_template(const Store& store, std::string_view tag, const DebianTemplate& o) {
  std::string what = "build template " + std::string(tag);
  BERTH_TRY_CTX(check_debian_template(o), what);
  std::string key = template_key(o);
  if (!o.rebuild)
    if (auto d = cached(store, tag, key)) return *d;
  BERTH_TRY_CTX(probe_mirror(o), what);
  Lease lease = BERTH_TRY_CTX(store.lease(), what);
  std::string cache = fs::join(fs::absolute(store.root()), "template-cache/debootstrap-" + o.suite);
  BERTH_TRY_CTX(fs::mkdir_p(cache, 0755), what);
  Scratch s;
  std::string root = BERTH_TRY_CTX(make_scratch(store, "debootstrap", s), what);
  std::string include = kDebianBase;
  for (const auto& p : o.packages) include += "," + p;
  CommandOptions co;
  co.inherit_output = o.verbose;
  co.output_limit = 64u << 10;
  BERTH_TRY_CTX(run_command({"debootstrap", "--variant=" + o.variant, "--include=" + include,
                             "--cache-dir=" + cache, o.suite, root, o.mirror},
                            co),
                what + ": debootstrap " + o.suite + " from " + o.mirror);
  BERTH_TRY_CTX(debian_fixups(root, o), what);
  unmount_under(root);
  WrittenLayer layer = BERTH_TRY_CTX(write_layer(store, LayerSource{root, false, std::nullopt}), what);
  NewImage spec;
  spec.entrypoint = {"/sbin/init"};
  spec.env = kPath;
  spec.env.emplace_back("container=oci");
  spec.stop_signal = "SIGRTMIN+3";
  spec.labels = {{std::string(kTemplateLabel), "debian-" + o.suite},
                 {std::string(kTemplateKeyLabel), key},
                 {std::string(kInitLabel), "systemd"}};
  spec.created_by = "debootstrap --variant=" + o.variant + " --include=" + include + " " + o.suite + " " + o.mirror;
  return BERTH_TRY_CTX(add_image(store, layer, spec, tag), what);
}

}  // namespace berth::images
