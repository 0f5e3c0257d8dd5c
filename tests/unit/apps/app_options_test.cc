// The flags every app shares (apps/common/app_options.hh): each app adds
// them to its parser with add_common_options, so what this parser takes and
// refuses, every app's does (interop-cli runs each binary).
#include "common/app_options.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/startup_error.hh"

namespace kbt::apps {
namespace {

struct parsed {
  std::optional<int> exit;
  common_options opts;
};

parsed parse_args(std::vector<std::string> args) {
  CLI::App app{"test", "kbt-test"};
  parsed p;
  add_common_options(app, p.opts);
  args.insert(args.begin(), "kbt-test");
  testing::internal::CaptureStderr();
  p.exit = parse(app, args);
  const std::string err = testing::internal::GetCapturedStderr();
  if (p.exit == 2) {
    EXPECT_NE(err.find("--cc"), std::string::npos) << err;
  }
  return p;
}

TEST(AppOptions, CcDefaultsToCubic) {
  const parsed p = parse_args({});
  ASSERT_EQ(p.exit, std::nullopt);
  EXPECT_EQ(to_stack_config(p.opts, "kbt-test").tcp.cc, tcp::cc_algorithm::cubic);
}

TEST(AppOptions, CcAcceptsNewrenoAndCubic) {
  for (const auto& [name, algo] : {std::pair{"newreno", tcp::cc_algorithm::newreno},
                                   std::pair{"cubic", tcp::cc_algorithm::cubic}}) {
    SCOPED_TRACE(name);
    const parsed p = parse_args({"--cc", name});
    ASSERT_EQ(p.exit, std::nullopt);
    EXPECT_EQ(to_stack_config(p.opts, "kbt-test").tcp.cc, algo);
  }
}

// "reno" is Linux's name for NewReno, but --cc takes exactly two names:
// a parse error (exit 2, one line naming --cc), as are other algorithms.
TEST(AppOptions, CcRejectsRenoAndUnknownNames) {
  for (const char* name : {"reno", "bbr", "CUBIC", ""}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(parse_args({"--cc", name}).exit, 2);
  }
  // A value set past the parser is refused at configuration too.
  common_options o;
  o.cc = "reno";
  EXPECT_THROW(to_stack_config(o, "kbt-test"), base::startup_error);
}

}  // namespace
}  // namespace kbt::apps
