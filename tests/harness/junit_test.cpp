// junit_test.cpp: verify's JUnit XML is well-formed XML that CI reporters
// read (checked with Python's xml.etree), with every check, failure and
// backend not run.
#include <gtest/gtest.h>

#include <filesystem>

#include "harness/verify.h"
#include "tests/harness/run_goldpath.h"

namespace gp {
namespace {

// tests/failures/skipped of the <testsuites> root and of each failure's message, as Python parses them
Ran parse_with_python(const std::string& path) {
  const std::string py =
      "import sys, xml.etree.ElementTree as E\n"
      "r = E.parse(sys.argv[1]).getroot()\n"
      "cases = r.findall('.//testcase')\n"
      "assert int(r.get('tests')) == len(cases), (r.get('tests'), len(cases))\n"
      "f = [c.find('failure') for c in cases if c.find('failure') is not None]\n"
      "s = [c for c in cases if c.find('skipped') is not None]\n"
      "assert int(r.get('failures')) == len(f) and int(r.get('skipped')) == len(s)\n"
      "print(len(cases), len(f), len(s))\n"
      "for x in f: print('FAILURE', x.get('message'))\n"
      "for c in s: print('SKIPPED', c.get('name'), '|', c.find('skipped').get('message'))\n";
  return run_program("/usr/bin/python3", {"-c", py, path});
}

TEST_F(Scratch, JunitXmlEscapesAndCounts) {
  CheckResult ok{"m", "logits", "cuda", "logits", 0.1, 1e-6, 0.2, 1, true, false, ""};
  CheckResult bad{"m", "layer 3", "cuda", "x", 9, 1, 0.2, 1, false, false, "a <b> & \"c\"\nsecond line"};
  CheckResult skip{"m", "op attention/x", "cuda", "", 0, 0, 0, 0, true, true, "needs sm_80 & cuDNN"};
  const std::string p = write("v.xml", verify_junit_xml({ok, bad, skip}, {{"cuda-sim", "not selected"}}));
  const Ran r = parse_with_python(p);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("4 1 2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAILURE a <b> & \"c\"\n"), std::string::npos) << r.out;  // the first line of the story
  EXPECT_NE(r.out.find("SKIPPED op attention/x | needs sm_80 & cuDNN"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SKIPPED cuda-sim | not selected"), std::string::npos) << r.out;
}

TEST_F(Scratch, VerifyWritesJunitBesideTheTable) {
  const std::string p = (dir_ / "verify.xml").string();
  const Ran v = run_goldpath({"verify", "--model", "golden/models/tiny-phi3", "--junit", p});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find(" passed, "), std::string::npos) << v.out;  // the table as before
  ASSERT_TRUE(std::filesystem::exists(p));
  const Ran r = parse_with_python(p);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("SKIPPED cuda-sim | not selected"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("FAILURE"), std::string::npos) << r.out;
  // --format junit prints the same document
  const Ran j = run_goldpath({"verify", "--model", "golden/models/tiny-phi3", "--format", "junit"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(j.out, slurp(p));
  // a folder that does not exist is one line, and no file is left
  EXPECT_TRUE(fails_cleanly(run_goldpath({"verify", "--model", "golden/models/tiny-phi3", "--junit",
                                          (dir_ / "no/such/dir/v.xml").string()}),
                            "no/such/dir"));
}

}  // namespace
}  // namespace gp
