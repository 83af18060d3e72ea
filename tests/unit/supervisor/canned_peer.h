// canned_peer.h — a stand-in for another berthd in unit tests: a unix
// socket of the test's own that answers each connection's request with
// the next canned answer, in order, and keeps the requests it read.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "berth/supervisor/unix_socket.h"

namespace berth::supervisor_test {

class CannedPeer {
public:
  explicit CannedPeer(std::vector<std::string> answers) {
    char tmpl[] = "/tmp/berth-peer-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/api.sock";
    auto l = supervisor::listen_unix(path_, 0600);
    EXPECT_TRUE(l) << l.error().what();
    listener_ = std::move(*l);
    thread_ = std::thread([this, answers = std::move(answers)] {
      for (const auto& answer : answers) {
        UniqueFd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!c.valid()) return;
        std::string req;
        char buf[4096];
        while (req.find("\r\n\r\n") == std::string::npos) {
          ssize_t n = ::read(c.get(), buf, sizeof buf);
          if (n <= 0) break;
          req.append(buf, static_cast<size_t>(n));
        }
        requests_.push_back(std::move(req));
        (void)supervisor::write_all(c.get(), answer);
      }
    });
  }
  explicit CannedPeer(std::string answer) : CannedPeer(std::vector<std::string>{std::move(answer)}) {}
  ~CannedPeer() {
    // A peer whose answers were not all asked for: unblock its accept.
    ::shutdown(listener_.get(), SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string address() const { return "unix:" + path_; }
  /// The requests read (heads), once every answer has gone out.
  std::vector<std::string> requests() {
    thread_.join();
    return requests_;
  }
  std::string request() { return requests().at(0); }

private:
  std::string dir_, path_;
  std::vector<std::string> requests_;
  UniqueFd listener_;
  std::thread thread_;
};

/// An HTTP/1.1 answer with a JSON or raw body and extra header lines.
inline std::string http_answer(int status, const std::string& body, const std::string& headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         headers + "\r\n" + body;
}

}  // namespace berth::supervisor_test
