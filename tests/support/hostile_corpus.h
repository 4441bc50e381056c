// The hostile corpus (tests/hostile/make_hostile.py): malformed and malicious inputs with
// the error each must give (manifest.json "cases") and hostile command lines
// ("invocations"). A GoogleTest fixture to derive a suite from: the suite writes the
// corpus once, into a fresh temporary folder, and its tests fail (rather than crash)
// when that did not work.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "support/test_support.h"

namespace fsdpshard::test {

class HostileCorpusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;  // fails the test when the suite has no corpus

  // The folder the corpus lies in, a file of it, and its manifest.json.
  static const std::string& corpus_dir();
  static std::string corpus_file(const std::string& name);
  static const nlohmann::json& corpus_manifest();

 private:
  struct Corpus;
  static std::unique_ptr<Corpus> corpus_;
};

}  // namespace fsdpshard::test
