#include "support/hostile_corpus.h"

namespace fsdpshard::test {

struct HostileCorpusTest::Corpus {
  TempDir dir;
  nlohmann::json manifest;
};

std::unique_ptr<HostileCorpusTest::Corpus> HostileCorpusTest::corpus_;

void HostileCorpusTest::SetUpTestSuite() {
  auto corpus = std::make_unique<Corpus>();
  const auto made = run({python(), source_dir() + "/tests/hostile/make_hostile.py", corpus->dir.path()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  corpus->manifest = nlohmann::json::parse(read_file(corpus->dir.file("manifest.json")));
  corpus_ = std::move(corpus);
}

void HostileCorpusTest::TearDownTestSuite() { corpus_.reset(); }

void HostileCorpusTest::SetUp() { ASSERT_TRUE(corpus_) << "the hostile corpus could not be written"; }

const std::string& HostileCorpusTest::corpus_dir() { return corpus_->dir.path(); }

std::string HostileCorpusTest::corpus_file(const std::string& name) { return corpus_->dir.file(name); }

const nlohmann::json& HostileCorpusTest::corpus_manifest() { return corpus_->manifest; }

}  // namespace fsdpshard::test
