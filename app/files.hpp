// Whole-file reading and atomic writing for the CLI.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace peerwire::app {

// Reads a whole file ("-" means standard input). On failure returns nullopt and sets `error`
// to a sentence naming the file and the reason. Files larger than `limit` bytes are refused
// without reading them.
std::optional<std::string> read_whole_file(const std::string& path, std::size_t limit,
                                           std::string& error);

// Writes via a temporary file in the same directory, fsync, then rename, so a crash never
// leaves a half-written file under the final name. Refuses to replace an existing file unless
// `overwrite`.
bool write_file_atomically(const std::string& path, std::string_view data, bool overwrite,
                           std::string& error);

}  // namespace peerwire::app
