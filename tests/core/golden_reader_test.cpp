// golden_reader_test.cpp: the golden HDF5 reader refuses what it cannot
// trust (wrong format version, missing objects, wrong types) with one line
// naming the file, and reads what the oracle writes.
#include <gtest/gtest.h>

#include <H5Cpp.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/golden.h"
#include "core/sha256.h"

namespace fs = std::filesystem;

namespace gp {
namespace {

class GoldenReader : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gp_golden_reader_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // a small file with the given format version (or none when < 0)
  std::string make(const std::string& name, int version) {
    const std::string p = (dir_ / name).string();
    H5::H5File f(p, H5F_ACC_TRUNC);
    if (version >= 0) {
      H5::Attribute a = f.openGroup("/").createAttribute("format_version", H5::PredType::NATIVE_INT64, H5::DataSpace());
      int64_t v = version;
      a.write(H5::PredType::NATIVE_INT64, &v);
    }
    H5::Group g = f.createGroup("/model");
    hsize_t dims[2] = {2, 3};
    H5::DataSet d = g.createDataSet("x", H5::PredType::NATIVE_FLOAT, H5::DataSpace(2, dims));
    float x[6] = {1, 2, 3, 4, 5, 6};
    d.write(x, H5::PredType::NATIVE_FLOAT);
    hsize_t n = 3;
    H5::DataSet ids = g.createDataSet("ids", H5::PredType::NATIVE_INT32, H5::DataSpace(1, &n));
    int32_t iv[3] = {7, 8, 9};
    ids.write(iv, H5::PredType::NATIVE_INT32);
    H5::StrType st(H5::PredType::C_S1, H5T_VARIABLE);
    H5::Attribute s = g.createAttribute("text", st, H5::DataSpace());
    s.write(st, std::string("héllo"));
    return p;
  }

  static std::string what(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

TEST_F(GoldenReader, ReadsDatasetsAndAttributes) {
  GoldenFile g(make("ok.h5", kGoldenFormatVersion));
  const auto x = g.read_f32("/model/x");
  EXPECT_EQ(x.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(x.data[5], 6.0f);
  EXPECT_EQ(g.read_i32("/model/ids").data, (std::vector<int32_t>{7, 8, 9}));
  EXPECT_EQ(g.attr_string("/model", "text"), "héllo");
  EXPECT_EQ(g.children("/model"), (std::vector<std::string>{"ids", "x"}));
  EXPECT_EQ(g.dataset_kind("/model/x"), "float");
  EXPECT_EQ(g.dataset_kind("/model/ids"), "int");
}

TEST_F(GoldenReader, RefusesOtherFormatVersionsNamingTheRegenerateCommand) {
  const std::string p = make("v2.h5", kGoldenFormatVersion + 1);
  const std::string msg = what([&] { GoldenFile g(p); });
  EXPECT_NE(msg.find(p), std::string::npos) << msg;
  EXPECT_NE(msg.find(kGoldenRegenerate), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  const std::string none = make("none.h5", -1);
  EXPECT_NE(what([&] { GoldenFile g(none); }).find("format_version"), std::string::npos);
}

TEST_F(GoldenReader, MissingObjectsAndWrongTypesAreNamed) {
  GoldenFile g(make("ok.h5", kGoldenFormatVersion));
  EXPECT_NE(what([&] { g.read_f32("/model/nope"); }).find("/model/nope"), std::string::npos);
  EXPECT_NE(what([&] { g.read_f32("/nope/deeper/x"); }).find("/nope/deeper/x"), std::string::npos);
  EXPECT_NE(what([&] { g.read_f32("/model/ids"); }).find("not float"), std::string::npos);
  EXPECT_NE(what([&] { g.attr_double("/model", "text"); }).find("not a number"), std::string::npos);
  EXPECT_NE(what([&] { g.attr_string("/model", "absent"); }).find("absent"), std::string::npos);
}

TEST_F(GoldenReader, NotHdf5IsOneLineError) {
  const std::string p = (dir_ / "text.h5").string();
  std::ofstream(p) << "not hdf5 at all";
  const std::string msg = what([&] { GoldenFile g(p); });
  EXPECT_NE(msg.find(p), std::string::npos);
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  EXPECT_NE(what([&] { GoldenFile g((dir_ / "absent.h5").string()); }).find("absent.h5"), std::string::npos);
}

TEST_F(GoldenReader, ManifestCatchesAChangedFile) {
  const std::string p = make("m.h5", kGoldenFormatVersion);
  std::ofstream(dir_ / "MANIFEST.sha256") << sha256_file(p) << "  m.h5\n";
  EXPECT_NO_THROW(check_manifest(p));
  EXPECT_EQ(manifest_golden_files(dir_.string()), (std::vector<std::string>{p}));
  { std::ofstream(p, std::ios::app) << "x"; }
  const std::string msg = what([&] { check_manifest(p); });
  EXPECT_NE(msg.find("differs"), std::string::npos) << msg;
  EXPECT_NE(what([&] { check_manifest(make("unlisted.h5", 1)); }).find("not listed"), std::string::npos);
  std::ofstream(dir_ / "MANIFEST.sha256") << "garbage\n";
  EXPECT_NE(what([&] { check_manifest(p); }).find("MANIFEST.sha256"), std::string::npos);
}

TEST(Sha256, KnownVector) {
  const fs::path p = fs::temp_directory_path() / ("gp_sha_" + std::to_string(::getpid()));
  std::ofstream(p) << "abc";
  EXPECT_EQ(sha256_file(p.string()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  fs::remove(p);
}

}  // namespace
}  // namespace gp
