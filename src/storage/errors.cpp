#include "errors.hpp"

#include <cerrno>
#include <cstring>

namespace peerwire::storage {

const char* kind_name(error_kind k) {
  switch (k) {
    case error_kind::disk_full:
      return "disk full";
    case error_kind::permission:
      return "permission denied";
    case error_kind::missing:
      return "missing data";
    case error_kind::unsafe_path:
      return "unsafe path";
    case error_kind::io:
      return "I/O error";
    case error_kind::cancelled:
      return "cancelled";
    case error_kind::invalid_argument:
      return "invalid argument";
  }
  return "unknown";
}

namespace internal {
namespace {

// Words for the errors a user can act on; others are explained well enough by strerror.
const char* explanation(int err) {
  switch (err) {
    case ENOSPC:
      return "the disk is full";
    case EDQUOT:
      return "the disk quota is exceeded";
    case EFBIG:
      return "the file is larger than the file system or a process limit allows";
    case EACCES:
    case EPERM:
      return "permission denied";
    case EROFS:
      return "the file system is read-only";
    case ENOENT:
      return "it does not exist";
    default:
      return nullptr;
  }
}

}  // namespace

std::string errno_text(int err) {
  char buf[256];
  // glibc's GNU strerror_r returns a pointer that may or may not be buf.
  return ::strerror_r(err, buf, sizeof buf);
}

error_kind classify_errno(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return error_kind::disk_full;
    case EACCES:
    case EPERM:
    case EROFS:
      return error_kind::permission;
    case ENOENT:
      return error_kind::missing;
    case ELOOP:
      return error_kind::unsafe_path;
    default:
      return error_kind::io;
  }
}

storage_error sys_error(int err, std::string_view verb, const std::filesystem::path& path) {
  std::string msg = "cannot ";
  msg += verb;
  msg += ' ';
  msg += path.string();
  msg += ": ";
  if (const char* words = explanation(err)) {
    msg += words;
    msg += " (" + errno_text(err) + ")";
  } else {
    msg += errno_text(err);
  }
  return storage_error{classify_errno(err), err, std::move(msg)};
}

storage_error make_storage_error(error_kind kind, std::string message) {
  return storage_error{kind, 0, std::move(message)};
}

}  // namespace internal
}  // namespace peerwire::storage
