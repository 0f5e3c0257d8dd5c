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

// An error's one line names `flag`.
parsed parse_args(std::vector<std::string> args, const char* flag = "--cc") {
  CLI::App app{"test", "kbt-test"};
  parsed p;
  add_common_options(app, p.opts);
  args.insert(args.begin(), "kbt-test");
  testing::internal::CaptureStderr();
  p.exit = parse(app, args);
  const std::string err = testing::internal::GetCapturedStderr();
  if (p.exit == 2) {
    EXPECT_NE(err.find(flag), std::string::npos) << err;
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

// RFC 791 §3.2 leaves the reassembly timeout to the host: Linux's 30 s by
// default, what --ip-frag-timeout says otherwise, in nanoseconds.
TEST(AppOptions, IpFragTimeoutReachesTheStackConfig) {
  const parsed d = parse_args({});
  ASSERT_FALSE(d.exit.has_value());
  EXPECT_EQ(to_stack_config(d.opts, "kbt-test").ip_frag_timeout_ns, 30'000'000'000ULL);
  const parsed p = parse_args({"--ip-frag-timeout", "2.5"});
  ASSERT_FALSE(p.exit.has_value());
  EXPECT_EQ(to_stack_config(p.opts, "kbt-test").ip_frag_timeout_ns, 2'500'000'000ULL);
}

TEST(AppOptions, IpFragTimeoutRefusesOutOfRange) {
  for (const char* v : {"0", "-1", "3601", "soon"}) {
    SCOPED_TRACE(v);
    EXPECT_EQ(parse_args({"--ip-frag-timeout", v}, "--ip-frag-timeout").exit, 2);
  }
}

}  // namespace
}  // namespace kbt::apps
