#include "safe_open.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "errors.hpp"

namespace peerwire::storage::internal {
namespace {

namespace fs = std::filesystem;

// Opens the directory holding the last component, walking the others without following links.
storage_result<unique_fd> open_parent(const fs::path& root, std::span<const std::string> comps,
                                      bool create) {
  if (create) {
    // The save directory itself is the user's choice, so following links in it is fine.
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) return sys_error(ec.value(), "create directory", root);
  }
  unique_fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys_error(errno, "open directory", root);
  for (std::size_t i = 0; i + 1 < comps.size(); ++i) {
    const char* name = comps[i].c_str();
    if (create && ::mkdirat(dir.get(), name, 0777) != 0 && errno != EEXIST) {
      return sys_error(errno, "create directory", join_path(root, comps.first(i + 1)));
    }
    unique_fd next(::openat(dir.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      int err = errno;
      fs::path where = join_path(root, comps.first(i + 1));
      struct stat st {};
      // O_NOFOLLOW|O_DIRECTORY reports a symlink as ENOTDIR; tell the user what is there.
      if ((err == ENOTDIR || err == ELOOP) &&
          ::fstatat(dir.get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(st.st_mode)) {
          return make_storage_error(error_kind::unsafe_path,
                                    "refusing to follow the symbolic link " + where.string() +
                                        " (torrent data stays inside the save directory)");
        }
        return make_storage_error(error_kind::unsafe_path,
                                  where.string() + " is in the way: it should be a directory");
      }
      return sys_error(err, "open directory", where);
    }
    dir = std::move(next);
  }
  return dir;
}

// The common case in one system call: openat2 resolves the whole path below the save
// directory and fails (ELOOP) on any symlink in it, which the walk in open_parent does one
// component at a time (about eight calls per open in a torrent of nested directories).
// Invalid on any failure, or where openat2 is missing (Linux < 5.6): the caller then walks,
// creating directories and naming exactly what is in the way.
unique_fd open_beneath(const fs::path& root, std::span<const std::string> comps, int flags,
                       mode_t mode) {
#ifdef SYS_openat2
  unique_fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return {};
  std::string relative;
  for (const auto& c : comps) {
    if (!relative.empty()) relative += '/';
    relative += c;
  }
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return unique_fd(
      static_cast<int>(::syscall(SYS_openat2, dir.get(), relative.c_str(), &how, sizeof how)));
#else
  (void)root, (void)comps, (void)flags, (void)mode;
  return {};
#endif
}

}  // namespace

unique_fd::~unique_fd() {
  if (fd_ >= 0) ::close(fd_);
}

unique_fd& unique_fd::operator=(unique_fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

fs::path join_path(const fs::path& root, std::span<const std::string> components) {
  fs::path p = root;
  for (const auto& c : components) p /= c;
  return p;
}

namespace {

// The slow path: component by component (creating directories when writing), so that what
// is in the way is named exactly.
storage_result<unique_fd> walk_and_open(const fs::path& root,
                                        std::span<const std::string> components, bool write,
                                        int flags, mode_t mode, const fs::path& path) {
  auto dir = open_parent(root, components, write);
  if (!dir) {
    if (dir.error().kind == error_kind::missing) {
      // Name the file the caller asked for, not the first directory that is absent.
      return storage_error{error_kind::missing, ENOENT, path.string() + " is missing"};
    }
    return dir.error();
  }
  unique_fd fd(::openat(dir->get(), components.back().c_str(), flags, mode));
  if (!fd) {
    int err = errno;
    if (err == ELOOP) {
      return make_storage_error(error_kind::unsafe_path,
                                "refusing to follow the symbolic link " + path.string() +
                                    " (torrent data stays inside the save directory)");
    }
    if (err == EISDIR) {
      return make_storage_error(error_kind::unsafe_path,
                                path.string() + " is a directory where the torrent has a file");
    }
    if (err == ENOENT && !write) {
      return storage_error{error_kind::missing, err, path.string() + " is missing"};
    }
    return sys_error(err, write ? "open for writing" : "open", path);
  }
  return fd;
}

}  // namespace

storage_result<unique_fd> open_torrent_file(const fs::path& root,
                                            std::span<const std::string> components,
                                            const open_spec& spec) {
  // O_NONBLOCK: opening a FIFO planted where a file belongs must not hang the disk thread
  // (it is rejected just below); regular files ignore the flag.
  int flags = O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (spec.write ? O_RDWR | O_CREAT : O_RDONLY);
  mode_t mode = spec.executable ? 0777 : 0666;
  fs::path path = join_path(root, components);
  unique_fd fd = open_beneath(root, components, flags, mode);
  if (!fd) {
    auto walked = walk_and_open(root, components, spec.write, flags, mode, path);
    if (!walked) return walked.error();
    fd = std::move(*walked);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error(errno, "inspect", path);
  if (!S_ISREG(st.st_mode)) {
    return make_storage_error(error_kind::unsafe_path,
                              path.string() + " is not a regular file; refusing to use it");
  }
  if (spec.write && st.st_size != spec.size) {
    if (spec.preallocate && st.st_size < spec.size) {
      // Mode 0 allocates [0, size) around the data already there and sets the size. A full
      // disk is an error now (kind disk_full: the torrent pauses and retries). Any other
      // refusal (no fallocate here: EOPNOTSUPP, ENOSYS, or EINVAL from some FUSE and FAT
      // drivers) gets the sparse file below, which reports real trouble itself.
      if (::fallocate(fd.get(), 0, 0, spec.size) == 0) return fd;
      if (classify_errno(errno) == error_kind::disk_full) return sys_error(errno, "allocate", path);
    }
    if (::ftruncate(fd.get(), spec.size) != 0) return sys_error(errno, "resize", path);
  }
  return fd;
}

unique_fd open_direct_writer(const fs::path& root, std::span<const std::string> components,
                             int fd) {
  const int flags = O_WRONLY | O_DIRECT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
  unique_fd direct = open_beneath(root, components, flags, 0);
  if (!direct) {
    auto walked = walk_and_open(root, components, false, flags, 0, join_path(root, components));
    if (!walked) return {};
    direct = std::move(*walked);
  }
  struct stat a {
  }, b{};
  if (!direct || ::fstat(direct.get(), &a) != 0 || ::fstat(fd, &b) != 0 || a.st_dev != b.st_dev ||
      a.st_ino != b.st_ino) {
    return {};  // refused (EINVAL: no O_DIRECT here), or replaced between the two opens
  }
  return direct;
}

namespace {

// lstat of root/components..., the directories walked without following links: 0 with `st`
// filled, ENOENT when the file or a directory on the way is absent, another errno otherwise.
int stat_beneath(const fs::path& root, std::span<const std::string> components, struct stat& st) {
  auto dir = open_parent(root, components, false);
  if (!dir) return dir.error().kind == error_kind::missing ? ENOENT : EIO;
  return ::fstatat(dir->get(), components.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 ? 0
                                                                                         : errno;
}

}  // namespace

bool file_absent(const fs::path& root, std::span<const std::string> components) {
  struct stat st {};
  return stat_beneath(root, components, st) == ENOENT;
}

file_stamp stamp_file(const fs::path& root, std::span<const std::string> components) {
  struct stat st {};
  if (stat_beneath(root, components, st) != 0 || !S_ISREG(st.st_mode)) return {};
  return {st.st_size, std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
}

}  // namespace peerwire::storage::internal
