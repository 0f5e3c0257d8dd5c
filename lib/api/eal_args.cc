#include "api/eal_args.hh"

#include <string_view>

namespace kbt::api {

std::vector<std::string> embedded_eal_default(const std::string& tap_iface) {
  // --no-huge needs no hugepage set-up; it excludes --in-memory, so
  // --no-shconf is what keeps several instances from sharing a config.
  return {"--no-huge",   "-m",  "512",        "--no-shconf",
          "--no-pci",    "-l",  "0",          "--vdev=net_tap0,iface=" + tap_iface,
          // net_tap reports at error level that it cannot add the multiq
          // qdisc used by rte_flow, which kbt does not use: quiet it here.
          "--log-level=pmd.net.tap:critical"};
}

command_line split_command_line(int argc, const char* const* argv) {
  command_line out;
  const std::string prog = argc > 0 ? argv[0] : "kbt";
  out.eal.push_back(prog);
  out.app.push_back(prog);

  int sep = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      sep = i;
      break;
    }
  }
  const int app_from = sep < 0 ? 1 : sep + 1;
  for (int i = 1; i < sep; ++i) out.eal.emplace_back(argv[i]);
  for (int i = app_from; i < argc; ++i) out.app.emplace_back(argv[i]);

  if (out.eal.size() == 1) {
    const auto def = embedded_eal_default();
    out.eal.insert(out.eal.end(), def.begin(), def.end());
    out.eal_defaulted = true;
  }
  return out;
}

}  // namespace kbt::api
