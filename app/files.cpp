#include "files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace peerwire::app {
namespace {

std::string reason(int err) {
  return std::strerror(err);
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::optional<std::string> read_whole_file(const std::string& path, std::size_t limit,
                                           std::string& error) {
  int fd = path == "-" ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open " + path + ": " + reason(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (fd != STDIN_FILENO && ::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      ::close(fd);
      error = path + " is a directory, not a file";
      return std::nullopt;
    }
    if (S_ISREG(st.st_mode) && static_cast<std::size_t>(st.st_size) > limit) {
      ::close(fd);
      error = path + " is " + std::to_string(st.st_size) + " bytes, larger than the limit of " +
              std::to_string(limit) + " bytes";
      return std::nullopt;
    }
  }
  std::string data;
  if (fd != STDIN_FILENO && S_ISREG(st.st_mode)) data.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = "cannot read " + path + ": " + reason(errno);
      if (fd != STDIN_FILENO) ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > limit) {
      error = path + " is larger than the limit of " + std::to_string(limit) + " bytes";
      if (fd != STDIN_FILENO) ::close(fd);
      return std::nullopt;
    }
  }
  if (fd != STDIN_FILENO) ::close(fd);
  return data;
}

bool write_file_atomically(const std::string& path, std::string_view data, bool overwrite,
                           std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!overwrite && fs::exists(path, ec)) {
    error = path + " already exists (use --force to replace it)";
    return false;
  }
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot create " + tmp + ": " + reason(errno);
    return false;
  }
  bool ok = write_all(fd, data) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    error = "cannot write " + tmp + ": " + reason(saved);
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    saved = errno;
    ::unlink(tmp.c_str());
    error = "cannot rename " + tmp + " to " + path + ": " + reason(saved);
    return false;
  }
  return true;
}

}  // namespace peerwire::app
