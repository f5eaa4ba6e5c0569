#include "commands.hpp"
#include "exit_codes.hpp"
namespace peerwire::app {
int run_create(const create_cli_options&) {
  return exit_usage;
}
}  // namespace peerwire::app
