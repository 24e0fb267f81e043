// The SQL functions through the real thing: libsqlite3 with the built extension loaded.
// Oracles: double-precision math on bebr_decode output, and the core library's own parser.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "db.hpp"
#include "testing.hpp"

using bebr::testing::Db;
using bebr::testing::floats_of;

using bebr::testing::exact_distance;

TEST_CASE("bebr_sdc_distance equals the float computation on bebr_decode", "[sql]") {
  Db db;
  std::mt19937_64 rng(99);
  // A center model per dimension, trained through SQL on shifted random vectors.
  db.exec("CREATE TABLE train(dim INTEGER, v BLOB)");
  const std::vector<std::uint32_t> dims = {1, 3, 64, 65, 100, 384, 768, 1030};
  for (std::uint32_t dim : dims)
    for (int i = 0; i < 20; ++i)
      db.prepare("INSERT INTO train VALUES (?1, ?2)")
          .bind(1, (long long)dim)
          .bind(2, bebr::testing::random_vector(rng, dim, 0.7f))
          .step();

  for (std::uint32_t dim : dims) {
    for (int bits = 1; bits <= 8; ++bits) {
      const std::string model = "m" + std::to_string(dim) + "_" + std::to_string(bits);
      db.exec("SELECT bebr_train('" + model + "', 'SELECT v FROM train WHERE dim = " + std::to_string(dim) +
              "', '{\"kind\":\"center\",\"bits\":" + std::to_string(bits) + "}')");
      for (const std::string& binarizer : {std::to_string(bits), "'" + model + "'"}) {
        auto s =
            db.prepare("WITH c(a, b) AS (SELECT bebr_binarize(?1, " + binarizer + "), bebr_binarize(?2, " + binarizer +
                       ")) "
                       "SELECT bebr_decode(a), bebr_decode(b), bebr_sdc_distance(a, b), bebr_sdc_distance(a, b, 'ip'), "
                       "bebr_sdc_distance(a, b, 'l2'), bebr_sdc_distance(a, b, 'cosine') FROM c");
        s.bind(1, bebr::testing::random_vector(rng, dim, 0.7f)).bind(2, bebr::testing::random_vector(rng, dim, 0.7f));
        REQUIRE(s.step());
        const auto va = floats_of(s.blob(0)), vb = floats_of(s.blob(1));
        REQUIRE(va.size() == dim);
        INFO("dim " << dim << " bits " << bits << " binarizer " << binarizer);
        const double na = std::sqrt(-exact_distance(va, va, "ip")), nb = std::sqrt(-exact_distance(vb, vb, "ip"));
        CHECK(s.real(2) == Approx(exact_distance(va, vb, "cosine")).margin(2e-6));
        CHECK(s.real(5) == s.real(2));
        CHECK(s.real(3) == Approx(exact_distance(va, vb, "ip")).margin(2e-6 * na * nb));
        const double l2 = exact_distance(va, vb, "l2");
        CHECK(s.real(4) * s.real(4) == Approx(l2 * l2).margin(4e-6 * (na * na + nb * nb)));
      }
    }
  }
}

TEST_CASE("JSON text and float32 BLOB vectors give the same code", "[sql]") {
  Db db;
  auto s = db.prepare("SELECT bebr_binarize('[0.25, -1.5, 3, 0]', 3) = bebr_binarize(?1, 3)");
  s.bind(1, std::vector<float>{0.25f, -1.5f, 3.f, 0.f});
  REQUIRE(s.step());
  CHECK(s.integer(0) == 1);
}

TEST_CASE("bebr_distance is the exact float distance", "[sql]") {
  Db db;
  std::mt19937_64 rng(5);
  for (const std::string metric : {"cosine", "ip", "l2"}) {
    const auto a = bebr::testing::random_vector(rng, 300), b = bebr::testing::random_vector(rng, 300);
    auto s = db.prepare("SELECT bebr_distance(?1, ?2, '" + metric + "')");
    s.bind(1, a).bind(2, b);
    REQUIRE(s.step());
    CHECK(s.real(0) == Approx(exact_distance(a, b, metric)).epsilon(1e-5).margin(1e-5));
  }
}

TEST_CASE("NULL in gives NULL out", "[sql]") {
  Db db;
  for (const char* sql :
       {"SELECT bebr_binarize(NULL)", "SELECT bebr_binarize(NULL, 2)", "SELECT bebr_binarize('[1]', NULL)",
        "SELECT bebr_decode(NULL)", "SELECT bebr_sdc_distance(NULL, bebr_binarize('[1]'))",
        "SELECT bebr_sdc_distance(bebr_binarize('[1]'), bebr_binarize('[1]'), NULL)",
        "SELECT bebr_hamming(bebr_binarize('[1]'), NULL)", "SELECT bebr_distance(NULL, '[1]')"}) {
    INFO(sql);
    auto s = db.prepare(sql);
    REQUIRE(s.step());
    CHECK(s.is_null(0));
  }
}

TEST_CASE("mutated code BLOBs never crash: a value or a clear error", "[sql][fuzz]") {
  Db db;
  const std::uint64_t seed = 1234;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  auto make = db.prepare("SELECT bebr_binarize(?1, ?2)");
  make.bind(1, bebr::testing::random_vector(rng, 70)).bind(2, 3LL);
  REQUIRE(make.step());
  const std::vector<std::uint8_t> good = make.blob(0);
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<std::uint8_t> b = good;
    switch (trial % 4) {
      case 0: b[rng() % b.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
      case 1: b.resize(rng() % b.size()); break;
      case 2: b.push_back(static_cast<std::uint8_t>(rng())); break;
      default:
        for (auto& x : b)
          if (rng() % 8 == 0) x = static_cast<std::uint8_t>(rng());
    }
    for (const char* sql :
         {"SELECT bebr_sdc_distance(?1, ?2, 'l2')", "SELECT bebr_hamming(?1, ?2)", "SELECT bebr_decode(?1)"}) {
      auto s = db.prepare(sql);
      s.bind(1, b).bind(2, good);
      try {
        s.step();
      } catch (const std::runtime_error& e) {
        const std::string msg = e.what();
        CHECK((msg.rfind("bebr_", 0) == 0 && msg.find("internal") == std::string::npos));
      }
    }
  }
}
