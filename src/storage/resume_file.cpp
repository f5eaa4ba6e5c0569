// Resume files on disk: written so that a crash at any moment leaves either the old or the new
// file (temp file + fsync + rename + directory fsync), read with a size cap.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "errors.hpp"
#include "peerwire/resume.hpp"
#include "resume_limits.hpp"
#include "safe_open.hpp"

namespace peerwire::storage {

namespace fs = std::filesystem;
using internal::sys_error;
using internal::unique_fd;

namespace {

storage_result<void> write_all(int fd, std::string_view bytes, const fs::path& path) {
  while (!bytes.empty()) {
    ssize_t r = ::write(fd, bytes.data(), bytes.size());
    if (r < 0) {
      if (errno == EINTR) continue;
      return sys_error(errno, "write", path);
    }
    bytes.remove_prefix(static_cast<std::size_t>(r));
  }
  return {};
}

storage_result<void> write_synced(const fs::path& tmp, std::string_view bytes) {
  // O_NOFOLLOW: a link planted at the temp name must not redirect the write elsewhere.
  unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return sys_error(errno, "create", tmp);
  if (auto r = write_all(fd.get(), bytes, tmp); !r) return r;
  if (::fsync(fd.get()) != 0) return sys_error(errno, "sync", tmp);
  if (::close(fd.release()) != 0) return sys_error(errno, "close", tmp);
  return {};
}

}  // namespace

storage_result<void> save_resume_atomically(const fs::path& path, const resume_data& r) {
  fs::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return sys_error(ec.value(), "create directory", dir);

  fs::path tmp = path;
  tmp += ".tmp";
  if (auto w = write_synced(tmp, encode_resume(r)); !w) {
    ::unlink(tmp.c_str());
    return w;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return sys_error(err, "replace", path);
  }
  // The rename is only durable once the directory entry is on disk.
  unique_fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd || ::fsync(dfd.get()) != 0) return sys_error(errno, "sync directory", dir);
  return {};
}

std::optional<std::string> boot_id() {
  // Read once: it cannot change while we run.
  static const std::optional<std::string> id = []() -> std::optional<std::string> {
    unique_fd fd(::open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    char buf[80];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    std::string text(buf, static_cast<std::size_t>(n));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (text.empty() || text.size() > 64) return std::nullopt;
    return text;
  }();
  return id;
}

bool claims_trusted(const resume_data& r) {
  return r.unsynced_boot.empty() || r.unsynced_boot == boot_id();
}

result<std::optional<resume_data>> load_resume(const fs::path& path, const metainfo& m) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) {
    if (errno == ENOENT) return std::optional<resume_data>{};
    return make_error("cannot read resume file " + path.string() + ": " +
                      internal::errno_text(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error("resume file " + path.string() + " is not a regular file");
  }
  if (static_cast<std::uint64_t>(st.st_size) > internal::max_resume_size(m)) {
    return make_error("resume file " + path.string() + " is too large for this torrent");
  }
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < bytes.size()) {
    ssize_t r = ::pread(fd.get(), bytes.data() + got, bytes.size() - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      return make_error("cannot read resume file " + path.string() + ": " +
                        internal::errno_text(errno));
    }
    if (r == 0) break;  // shrank meanwhile: the decoder reports the truncation
    got += static_cast<std::size_t>(r);
  }
  bytes.resize(got);
  auto decoded = decode_resume(bytes, m);
  if (!decoded) return make_error(path.string() + ": " + decoded.error().describe());
  return std::optional<resume_data>(std::move(*decoded));
}

}  // namespace peerwire::storage
