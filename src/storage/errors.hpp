// Turning errno into a storage_error: the kind decides what the torrent does (pause, recheck),
// the message tells the user which file and why in plain words.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "peerwire/storage.hpp"

namespace peerwire::storage::internal {

// The C library's text for an errno value (thread-safe).
std::string errno_text(int err);

error_kind classify_errno(int err);

// "cannot <verb> <path>: <what it means> (<errno text>)".
storage_error sys_error(int err, std::string_view verb, const std::filesystem::path& path);

storage_error make_storage_error(error_kind kind, std::string message);

}  // namespace peerwire::storage::internal
