// Runs a function in a forked child, for tests that change process-wide state (resource
// limits, user id, mount namespace) or get killed. The child reports an exit code and a text.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <utility>

namespace storage_test {

struct child_outcome {
  int exit_code = -1;  // -1 when killed by a signal
  std::string text;
};

// Exit code the child uses to say "cannot set this up here" (the test then skips).
inline constexpr int child_skip = 77;

inline child_outcome run_in_child(const std::function<std::pair<int, std::string>()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) return {-1, "pipe failed"};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    auto [code, text] = body();
    (void)!::write(fds[1], text.data(), text.size());
    ::_exit(code);
  }
  ::close(fds[1]);
  child_outcome out;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.text.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
  return out;
}

}  // namespace storage_test
