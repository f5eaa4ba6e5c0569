// Small text helpers for human and JSON output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace peerwire::app {

// "1.50 GiB", "512 KiB", "17 B"
std::string human_size(std::int64_t bytes);
// "1,234,567"
std::string grouped(std::int64_t n);
// "2026-11-25 07:23:35 UTC"
std::string utc_time(std::int64_t unix_seconds);
// Replaces invalid UTF-8 with U+FFFD so any torrent-supplied text is valid in JSON.
std::string valid_utf8(std::string_view s);
// For terminal output: valid UTF-8 with control characters shown as '?', so a hostile name
// cannot move the cursor or change colours.
std::string printable(std::string_view s);

// JSON text of a value with DEL and C1 control characters (U+007F..U+009F) escaped as well,
// which the serializer leaves raw although terminals act on some of them (0x9b is CSI).
std::string json_text(const boost::json::value& v);

}  // namespace peerwire::app
