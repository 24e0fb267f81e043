// The learned binarizer's training and model: the soft contrastive loss's gradient, a small
// training run that must lower its loss and beat `center` on a synthetic set with known
// structure, determinism, the model BLOB round trip, bad options and interruption.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "bebr/binarize.hpp"
#include "bebr/distance.hpp"
#include "bebr/error.hpp"
#include "bebr/model.hpp"
#include "bebr/train.hpp"
#include "train/loss.hpp"
#include "train/mlp_model.hpp"

using namespace bebr;
namespace mlp = bebr::detail::mlp;
using bebr::detail::MlpModel;
using M = mlp::Matrix<double>;

namespace {

// Known structure: the first `rank` coordinates carry all the similarity (vectors near one of
// `clusters` centres there), every other coordinate is faint noise around a common offset. Sign
// bits of centred coordinates spend most bits on the noise; a learned transform can spend them
// on the signal. Queries come from the same distribution.
std::vector<float> synthetic(std::mt19937_64& rng, std::size_t rows, std::uint32_t d, std::uint32_t clusters,
                             std::uint32_t rank) {
  std::mt19937_64 fixed(99);  // the same centres and offset for every call
  std::normal_distribution<float> g;
  std::vector<float> centres(std::size_t{clusters} * rank), offset(d);
  for (float& v : centres) v = g(fixed);
  for (float& v : offset) v = 1.f + std::abs(g(fixed));
  std::vector<float> out(rows * d);
  for (std::size_t i = 0; i < rows; ++i) {
    const std::uint32_t c = static_cast<std::uint32_t>(rng() % clusters);
    for (std::uint32_t j = 0; j < d; ++j)
      out[i * d + j] = offset[j] + (j < rank ? centres[c * rank + j] + 0.5f * g(rng) : 0.02f * g(rng));
  }
  return out;
}

// Recall@10 of ranking `base` for each query by SDC cosine between the binarizer's codes,
// against exact float cosine of `truth_queries` (default: the queries). The queries may be coded
// by another binarizer `qb` (of another dimension `qd`) compatible with b.
double recall_at_10(const Binarizer& b, const std::vector<float>& base, const std::vector<float>& queries,
                    std::uint32_t d, const Binarizer* qb = nullptr, const std::vector<float>* coded_queries = nullptr,
                    std::uint32_t qd = 0) {
  const std::size_t n = base.size() / d, nq = queries.size() / d;
  std::vector<std::vector<std::uint8_t>> codes;
  for (std::size_t i = 0; i < n; ++i) codes.push_back(b.encode_blob({base.data() + i * d, d}));
  const auto cosine = [&](const float* a, const float* c) {
    double ab = 0, aa = 0, cc = 0;
    for (std::uint32_t j = 0; j < d; ++j)
      ab += double{a[j]} * c[j], aa += double{a[j]} * a[j], cc += double{c[j]} * c[j];
    return ab / std::sqrt(aa * cc);
  };
  double hits = 0;
  std::vector<std::size_t> by_float(n), by_code(n);
  std::vector<double> f(n), s(n);
  for (std::size_t q = 0; q < nq; ++q) {
    const float* x = queries.data() + q * d;
    const std::vector<std::uint8_t> qc =
        qb ? qb->encode_blob({coded_queries->data() + q * qd, qd}) : b.encode_blob({x, d});
    CodeView qv = parse_code(qc, "query");
    qv.shape.model_id = b.shape().model_id;  // compatible: compared as the base's codes
    for (std::size_t i = 0; i < n; ++i) {
      f[i] = cosine(x, base.data() + i * d);
      s[i] = sdc_distance(qv, parse_code(codes[i], "code"), Metric::cosine);
    }
    std::iota(by_float.begin(), by_float.end(), 0);
    std::iota(by_code.begin(), by_code.end(), 0);
    std::partial_sort(by_float.begin(), by_float.begin() + 10, by_float.end(),
                      [&](auto a, auto c) { return f[a] > f[c]; });
    std::partial_sort(by_code.begin(), by_code.begin() + 10, by_code.end(),
                      [&](auto a, auto c) { return s[a] < s[c] || (s[a] == s[c] && a < c); });
    for (int i = 0; i < 10; ++i)
      hits += std::count(by_code.begin(), by_code.begin() + 10, by_float[static_cast<std::size_t>(i)]);
  }
  return hits / (10.0 * double(nq));
}

// A rows x cols matrix of standard normal entries.
M gaussian(Eigen::Index rows, Eigen::Index cols, std::mt19937_64& rng) {
  std::normal_distribution<double> g;
  M m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = g(rng);
  return m;
}

// Central differences of loss() with respect to every entry of x, against `analytic`.
template <class Loss>
void check_gradient(M& x, const M& analytic, Loss loss) {
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double keep = x.data()[i], h = 1e-6;
    x.data()[i] = keep + h;
    const double up = loss();
    x.data()[i] = keep - h;
    const double down = loss();
    x.data()[i] = keep;
    CHECK(analytic.data()[i] == Approx((up - down) / (2 * h)).epsilon(1e-5).margin(1e-7));
  }
}

}  // namespace

TEST_CASE("the soft contrastive loss: value by hand and gradient by finite differences", "[train]") {
  std::mt19937_64 rng(11);
  M u = gaussian(5, 4, rng), x = gaussian(5, 3, rng);
  const M xn = mlp::l2_normalize<double>(x);
  const M target = mlp::softmax_rows<double>(xn * xn.transpose() / 0.5, true);
  for (Eigen::Index i = 0; i < 5; ++i) {
    CHECK(target(i, i) == 0);
    CHECK(target.row(i).sum() == Approx(1.0));
  }
  M du;
  const double loss = mlp::similarity_loss<double>(u, target, 0.3, du);
  // By hand: the mean over rows of sum_j T_ij log(T_ij / P_ij).
  const M un = mlp::l2_normalize<double>(u);
  double want = 0;
  for (Eigen::Index i = 0; i < 5; ++i) {
    double z = 0;
    for (Eigen::Index j = 0; j < 5; ++j)
      if (j != i) z += std::exp(un.row(i).dot(un.row(j)) / 0.3);
    for (Eigen::Index j = 0; j < 5; ++j)
      if (j != i) want += target(i, j) * std::log(target(i, j) / (std::exp(un.row(i).dot(un.row(j)) / 0.3) / z));
  }
  CHECK(loss == Approx(want / 5));
  M tmp;
  check_gradient(u, du, [&] { return mlp::similarity_loss<double>(u, target, 0.3, tmp); });
}

TEST_CASE("training lowers the loss and beats center on data with known structure", "[train]") {
  constexpr std::uint32_t d = 32;
  std::mt19937_64 rng(5);
  const std::vector<float> base = synthetic(rng, 1500, d, 40, 6), queries = synthetic(rng, 100, d, 40, 6);
  MeanAccumulator mean(d);
  for (std::size_t i = 0; i < base.size() / d; ++i) mean.add({base.data() + i * d, d});
  for (const std::uint32_t bits : {1u, 2u}) {
    INFO("bits " << bits);
    MlpOptions opt;
    opt.bits = bits;
    opt.epochs = 15;
    opt.threads = 1;
    const MlpTraining t = train_mlp(base, base.size() / d, d, opt, nullptr);
    REQUIRE(t.loss.size() == 15);
    CHECK(t.loss.back() < 0.7 * t.loss.front());
    const Binarizer& learned = t.model;
    const Binarizer centred = Binarizer::center(mean.mean(), bits);
    const double r_mlp = recall_at_10(learned, base, queries, d), r_center = recall_at_10(centred, base, queries, d);
    INFO("mlp " << r_mlp << " center " << r_center);
    CHECK(r_mlp >= r_center + 0.03);
  }
}

TEST_CASE("a code narrower than its input starts from the principal directions", "[train]") {
  // All the similarity lies in 6 of 32 coordinates (and the norm, which normalising the rows
  // turns into one more direction). 4 planes over 8 code coordinates (32 bits) that start on that
  // subspace must come near center's 4 planes over all 32 (128 bits), far above center's 1 plane
  // over 32 (the same bits). A random 8-d projection does not (0.2 here), nor does a start whose
  // reconstruction blocks lift codes by other than the projection's pseudo-inverse.
  constexpr std::uint32_t d = 32, rank = 6;
  std::mt19937_64 rng(7);
  const std::vector<float> base = synthetic(rng, 1500, d, 40, rank), queries = synthetic(rng, 100, d, 40, rank);
  MeanAccumulator mean(d);
  for (std::size_t i = 0; i < base.size() / d; ++i) mean.add({base.data() + i * d, d});
  MlpOptions opt;
  opt.bits = 4;
  opt.code_dim = 8;
  opt.epochs = 1;
  opt.lr = 1e-9;  // untrained: the start alone
  opt.threads = 1;
  const Binarizer narrow = train_mlp(base, base.size() / d, d, opt, nullptr).model;
  const double r_narrow = recall_at_10(narrow, base, queries, d);
  const double r_center1 = recall_at_10(Binarizer::center(mean.mean(), 1), base, queries, d);
  const double r_center4 = recall_at_10(Binarizer::center(mean.mean(), 4), base, queries, d);
  INFO("mlp 4 x 8 " << r_narrow << ", center 1 x 32 " << r_center1 << ", center 4 x 32 " << r_center4);
  CHECK(r_narrow >= r_center1 + 0.3);
  CHECK(r_narrow >= r_center4 - 0.05);
  // The principal directions and their rotation are seeded like the rest: the same model again.
  CHECK(train_mlp(base, base.size() / d, d, opt, nullptr).model.serialize() == narrow.serialize());
}

TEST_CASE("an mlp model: seeded training, BLOB round trip, codes", "[train]") {
  constexpr std::uint32_t d = 16;
  std::mt19937_64 rng(6);
  const std::vector<float> base = synthetic(rng, 200, d, 8, 4);
  MlpOptions opt;
  opt.bits = 3;
  opt.code_dim = 40;
  opt.hidden = 12;
  opt.epochs = 2;
  opt.threads = 1;
  const Binarizer b = train_mlp(base, 200, d, opt, nullptr).model;
  const MlpModel* model = b.model();
  REQUIRE(model);
  CHECK(b.shape().dim == 40);
  CHECK(b.shape().bits == 3);
  CHECK(b.shape().kind == BinarizerKind::mlp);
  CHECK(b.input_dim() == d);
  // The same seed gives the same model, byte for byte.
  const std::vector<std::uint8_t> blob = b.serialize();
  CHECK(train_mlp(base, 200, d, opt, nullptr).model.serialize() == blob);
  opt.seed = 2;
  CHECK(train_mlp(base, 200, d, opt, nullptr).model.serialize() != blob);
  // Parse and serialize again: the same bytes, model id and codes.
  const Binarizer back = Binarizer::parse(blob);
  CHECK(back.serialize() == blob);
  CHECK(back.shape() == b.shape());
  // The header alone: the sizes, and the model id every code carries.
  const ModelHeader h = parse_model_header(blob);
  CHECK(h.kind == BinarizerKind::mlp);
  CHECK(h.dim == 40);
  CHECK(h.bits == 3);
  CHECK(h.input_dim == d);
  CHECK(h.hidden == 12);
  CHECK(h.compatible_id == 0);
  CHECK(h.alpha == model->alpha);
  CHECK(h.adapter_hidden == 0);
  CHECK(h.inner_dim == d);
  CHECK(b.model_header() == h);
  CHECK(back.model_header() == h);
  CHECK(model_id_of(blob) == b.shape().model_id);
  // Codes: the digits of the model's values, scale alpha, decoded to alpha u + mean.
  const mlp::Matrix<float> u = model->codes(Eigen::Map<const mlp::Matrix<float>>(base.data(), 200, d));
  for (std::size_t i = 0; i < 20; ++i) {
    const std::vector<std::uint8_t> code = back.encode_blob({base.data() + i * d, d});
    CHECK(code == b.encode_blob({base.data() + i * d, d}));
    const CodeView v = parse_code(code, "code");
    CHECK(v.scale == model->alpha);
    const std::vector<float> dec = back.decode(v);
    REQUIRE(dec.size() == 40);
    for (std::uint32_t j = 0; j < 40; ++j) {
      CHECK(digit(v.planes, v.shape, j) ==
            static_cast<std::uint32_t>(std::lround((u(Eigen::Index(i), j) * 4 + 7) / 2)));
      CHECK(dec[j] == Approx(model->alpha * u(Eigen::Index(i), j) + model->mean[j]).margin(1e-6));
    }
  }
  // A damaged BLOB: wrong length, reserved bytes, a NaN weight.
  std::vector<std::uint8_t> bad = blob;
  bad.pop_back();
  CHECK_THROWS_WITH(Binarizer::parse(bad), Catch::Contains("wrong length"));
  CHECK_NOTHROW(parse_model_header(bad));  // the header is whole; the parameters are not
  bad = blob;
  bad[36] = 1;
  CHECK_THROWS_WITH(Binarizer::parse(bad), Catch::Contains("reserved"));
  CHECK_THROWS_WITH(parse_model_header(bad), Catch::Contains("corrupt model BLOB: reserved word at offset 36"));
  bad = blob;
  store_f32(bad.data() + bad.size() - 4, std::numeric_limits<float>::quiet_NaN());
  CHECK_THROWS_WITH(Binarizer::parse(bad), Catch::Contains("not finite"));
  bad = blob;
  bad[5] = 7;
  CHECK_THROWS_WITH(Binarizer::parse(bad), Catch::Contains("unknown model kind"));
  CHECK_THROWS_WITH(parse_model_header(bad), Catch::Contains("corrupt model BLOB: unknown model kind 7"));
  CHECK_THROWS_WITH(parse_model_header(std::vector<std::uint8_t>(blob.begin(), blob.begin() + 39)),
                    Catch::Contains("corrupt model BLOB: wrong length"));
}

TEST_CASE("training: bad options and interruption", "[train]") {
  constexpr std::uint32_t d = 8;
  std::mt19937_64 rng(7);
  const std::vector<float> base = synthetic(rng, 50, d, 4, 2);
  const auto error_of = [&](auto change, std::size_t rows = 50) {
    MlpOptions o;
    change(o);
    try {
      train_mlp({base.data(), rows * d}, rows, d, o, nullptr);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error_of([](MlpOptions& o) { o.bits = 0; }), Catch::Contains("option bits must be in 1..8; got 0"));
  CHECK_THAT(error_of([](MlpOptions& o) { o.bits = 9; }), Catch::Contains("option bits must be in 1..8; got 9"));
  CHECK_THAT(error_of([](MlpOptions& o) { o.batch = 2; }), Catch::Contains("option batch must be in 4..65536"));
  CHECK_THAT(error_of([](MlpOptions& o) { o.lr = -1; }), Catch::Contains("option lr must be in (0, 1]"));
  CHECK_THAT(error_of([](MlpOptions& o) { o.lr = 2; }), Catch::Contains("option lr must be in (0, 1]"));
  CHECK_THAT(error_of([](MlpOptions& o) { o.tau = -1; }), Catch::Contains("option tau"));
  CHECK_THAT(error_of([](MlpOptions& o) { o.neighbours = 0; }), Catch::Contains("option neighbours"));
  CHECK_THAT(error_of([](MlpOptions& o) { o.code_dim = kMaxDim + 1; }), Catch::Contains("option dim"));
  CHECK_THAT(error_of([](MlpOptions&) {}, 1), Catch::Contains("at least 2 vectors"));
  MlpOptions o;
  o.epochs = 10;
  int calls = 0;
  CHECK_THROWS_WITH(train_mlp(base, 50, d, o,
                              [&](const MlpProgress& p) {
                                if (p.phase == MlpPhase::steps) CHECK(p.epochs == 10);
                                return ++calls < 4;
                              }),
                    Catch::Contains("interrupted"));
  CHECK(calls == 4);
}

// Every phase reports progress in bounded pieces of work and stops at the first false: the
// start (principal directions: code narrower than its input), the exact neighbours and the steps,
// of train_mlp and of train_compatible. Work is counted in rows between reports, never in time.
TEST_CASE("training: progress and interruption in every phase", "[train]") {
  constexpr std::uint32_t d = 96, rows = 3000;
  std::mt19937_64 rng(21);
  const std::vector<float> data = synthetic(rng, rows, d, 8, 2);
  const std::vector<float> old_data = synthetic(rng, rows, d / 2, 8, 2);
  MlpOptions o;
  o.bits = 2;
  o.code_dim = 32;  // < d: the start finds principal directions
  o.epochs = 2;
  o.batch = 64;
  o.hidden = 16;
  MlpOptions small = o;
  small.epochs = 1;
  small.hidden = 8;
  const Binarizer old = train_mlp({old_data.data(), old_data.size()}, rows, d / 2, small, nullptr).model;

  for (const bool compatible : {false, true}) {
    const auto run = [&](const MlpProgressFn& f) {
      if (compatible) return train_compatible(data, old_data, rows, d, old, o, f);
      return train_mlp(data, rows, d, o, f);
    };
    // A full run: the phases in order, each report's rows within the bound of its block.
    std::vector<MlpPhase> order;
    std::uint64_t last_done = 0;
    std::size_t reports = 0;
    run([&](const MlpProgress& p) {
      if (order.empty() || order.back() != p.phase) {
        order.push_back(p.phase);
        last_done = 0;
      }
      ++reports;
      if (p.phase != MlpPhase::steps) {
        CHECK(p.done <= p.total);
        CHECK(p.done >= last_done);
        // About 2^28 multiply-adds at most between two reports: a row of the neighbours' blocks
        // costs rows x d, one of the start's d x d.
        const std::uint64_t per_row = p.phase == MlpPhase::neighbours ? std::uint64_t{rows} * d : std::uint64_t{d} * d;
        CHECK((p.done - last_done) * per_row <= (std::uint64_t{1} << 28));
        last_done = p.done;
      }
      return true;
    });
    INFO("compatible " << compatible);
    REQUIRE(order == std::vector<MlpPhase>{MlpPhase::start, MlpPhase::neighbours, MlpPhase::steps});
    // Stopped at the n-th report of each phase: the error names the phase and no report follows.
    for (const MlpPhase phase : order)
      for (int n : {1, 2}) {
        int seen = 0, after = 0;
        bool stopped = false;
        try {
          run([&](const MlpProgress& p) {
            if (stopped) ++after;
            if (p.phase != phase || stopped) return true;
            if (++seen == n) stopped = true;
            return !stopped;
          });
          FAIL("not interrupted");
        } catch (const Error& e) {
          CHECK(e.code() == Errc::interrupted);
          CHECK_THAT(e.what(), Catch::Contains(std::string("during the ") + phase_name(phase)));
        }
        CHECK(stopped);
        CHECK(after == 0);
      }
  }
}

TEST_CASE("the cross-set loss: gradient by finite differences", "[train]") {
  std::mt19937_64 rng(12);
  M a = gaussian(4, 3, rng), b = gaussian(5, 3, rng);
  M logits = gaussian(4, 5, rng);
  const M target = mlp::softmax_rows<double>(logits, false);
  M da, tmp;
  mlp::cross_similarity_loss<double>(a, b, target, 0.4, da);
  check_gradient(a, da, [&] { return mlp::cross_similarity_loss<double>(a, b, target, 0.4, tmp); });
}

TEST_CASE("a compatible model's query codes search the old model's codes", "[train]") {
  // The simulated upgrade: new = normalise(Q old + noise), Q a random rotation, into 24 dims.
  constexpr std::uint32_t d = 32, dn = 24;
  std::mt19937_64 rng(8);
  const std::vector<float> base = synthetic(rng, 1500, d, 40, 8), queries = synthetic(rng, 100, d, 40, 8);
  Eigen::MatrixXf gauss(d, d);
  std::normal_distribution<float> g;
  for (Eigen::Index i = 0; i < gauss.size(); ++i) gauss.data()[i] = g(rng);
  const Eigen::MatrixXf q = Eigen::HouseholderQR<Eigen::MatrixXf>(gauss).householderQ();
  const auto upgrade = [&](const std::vector<float>& old) {
    const std::size_t n = old.size() / d;
    std::vector<float> out(n * dn);
    for (std::size_t i = 0; i < n; ++i) {
      const Eigen::VectorXf x = Eigen::Map<const Eigen::VectorXf>(old.data() + i * d, d).normalized();
      Eigen::VectorXf y = (q * x).head(dn);
      for (Eigen::Index j = 0; j < y.size(); ++j) y[j] += 0.01f * g(rng);
      y.normalize();
      std::copy(y.data(), y.data() + dn, out.begin() + static_cast<std::ptrdiff_t>(i * dn));
    }
    return out;
  };
  const std::vector<float> new_base = upgrade(base), new_queries = upgrade(queries);
  MlpOptions opt;
  opt.epochs = 10;
  opt.threads = 1;
  const Binarizer b1 = train_mlp(base, 1500, d, opt, nullptr).model;
  opt.hidden = 16;
  const MlpTraining t = train_compatible(new_base, base, 1500, dn, b1, opt, nullptr);
  CHECK(t.loss.back() < t.loss.front());
  const Binarizer& b2 = t.model;
  CHECK(b2.model_header().compatible_id == b1.shape().model_id);
  const ModelHeader h2 = parse_model_header(b2.serialize());
  CHECK(h2.compatible_id == b1.shape().model_id);
  CHECK(h2.adapter_hidden == 16);
  CHECK(h2.input_dim == dn);
  CHECK(h2.inner_dim == d);
  CHECK(h2 == b2.model_header());
  CHECK(b2.input_dim() == dn);
  CHECK(b2.shape().dim == b1.shape().dim);
  CHECK(b2.shape().model_id != b1.shape().model_id);
  CHECK(Binarizer::parse(b2.serialize()).serialize() == b2.serialize());
  const double same = recall_at_10(b1, base, queries, d);
  const double cross = recall_at_10(b1, base, queries, d, &b2, &new_queries, dn);
  INFO("v1/v1 " << same << " v2/v1 " << cross);
  CHECK(cross >= 0.9 * same);
  // Without the adapter's training the old model cannot read the new vectors at all.
  CHECK_THROWS(b1.encode_blob({new_queries.data(), dn}));
  CHECK_THROWS_WITH(train_compatible(new_base, new_base, 1500, dn, b2, opt, nullptr),
                    Catch::Contains("itself compatible with another"));
}

TEST_CASE("a center model's header: kind, sizes and the id its codes carry", "[train]") {
  const Binarizer c = Binarizer::center({1.f, -2.f, 0.5f}, 2);
  const std::vector<std::uint8_t> blob = c.serialize();
  const ModelHeader h = parse_model_header(blob);
  CHECK(h.kind == BinarizerKind::center);
  CHECK(h.dim == 3);
  CHECK(h.bits == 2);
  CHECK(h.input_dim == 3);
  CHECK(h.hidden == 0);
  CHECK(h.compatible_id == 0);
  CHECK(h == c.model_header());
  CHECK(model_id_of(blob) == c.shape().model_id);
  std::vector<std::uint8_t> bad = blob;
  bad.push_back(0);
  CHECK_THROWS_WITH(parse_model_header(bad), Catch::Contains("corrupt model BLOB: wrong length"));
  bad = blob;
  bad[12] = 1;
  CHECK_THROWS_WITH(parse_model_header(bad), Catch::Contains("corrupt model BLOB: reserved word at offset 12"));
  CHECK_THROWS_WITH(parse_model_header({}), Catch::Contains("corrupt model BLOB: bad magic"));
  CHECK(Binarizer::raw(5, 3).model_header().input_dim == 5);
}
