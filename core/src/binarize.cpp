// The binarizers: recurrent binarization with a per-vector scale (raw, center), the learned
// binarizer's encode path (mlp, through its private model), and the model BLOB.
#include "bebr/binarize.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>

#include "bebr/error.hpp"
#include "kernels/kernels.hpp"
#include "train/mlp_model.hpp"

namespace bebr {
namespace {

using detail::MlpModel;

constexpr int kMaxScaleIterations = 16;

// The largest scale a code can store (FLT_MAX): the scale is a float32, and every finite input
// must give a finite code. The scale is computed in double and clamped here; the digits are
// then fitted to the clamped scale. Reconstructions reach (2 - 2^(1-K)) kMaxScale, beyond any
// raw component, so only centred components near 2 FLT_MAX saturate.
constexpr double kMaxScale = 3.4028234663852886e38;

// The float32 a per-code offset is stored as; throws when it is not finite (a vector so large
// that <v, mu> + |mu|^2 / 2 leaves float range), so that no code is stored that cannot be
// compared.
float offset_f32(double offset) {
  if (!(std::fabs(offset) <= kMaxScale))
    throw Error(Errc::invalid_argument,
                "vector is too large for this model's codes: its offset <v, mean> + |mean|^2 / 2 exceeds "
                "float32 range; expected smaller components");
  return static_cast<float>(offset);
}

// Greedy recurrent binarization of one coordinate: plane k takes the sign of the residual and
// subtracts alpha * 2^-k. Returns the digits, plane 0 as the most significant bit.
std::uint32_t quantise(double r, double alpha, std::uint32_t bits) noexcept {
  std::uint32_t n = 0;
  double step = alpha;
  for (std::uint32_t k = 0; k < bits; ++k) {
    const bool plus = r >= 0;  // sign(0) := +1
    n = 2 * n + (plus ? 1u : 0u);
    r -= plus ? step : -step;
    step *= 0.5;
  }
  return n;
}

}  // namespace

Binarizer::Binarizer(CodeShape shape, std::vector<float> mean)
    : shape_(shape), input_dim_(shape.dim), mean_(std::move(mean)) {
  double h = 0;
  for (float m : mean_) h += double{m} * double{m};
  mean_half_norm2_ = h / 2;
}

namespace detail {
struct DeferredLoad {
  std::function<Binarizer()> load;
  std::mutex mutex;
  std::shared_ptr<const Binarizer> loaded;
};
}  // namespace detail

Binarizer Binarizer::deferred(CodeShape shape, std::uint32_t input_dim, std::function<Binarizer()> load) {
  Binarizer b(shape, {});
  b.input_dim_ = input_dim;
  b.deferred_ = std::make_shared<detail::DeferredLoad>();
  b.deferred_->load = std::move(load);
  return b;
}

bool Binarizer::loaded() const noexcept {
  if (!deferred_) return true;
  const std::lock_guard<std::mutex> lock(deferred_->mutex);
  return deferred_->loaded != nullptr;
}

const Binarizer& Binarizer::resolved() const {
  const std::lock_guard<std::mutex> lock(deferred_->mutex);
  if (!deferred_->loaded) {
    auto b = std::make_shared<const Binarizer>(deferred_->load());
    if (!(b->shape() == shape_) || b->input_dim() != input_dim_)
      throw Error(Errc::corrupt, "the model loaded for these codes has another shape than they were made with");
    deferred_->loaded = std::move(b);
  }
  return *deferred_->loaded;
}

Binarizer Binarizer::raw(std::uint32_t dim, std::uint32_t bits) {
  if (dim < 1 || dim > kMaxDim)
    throw Error(Errc::invalid_argument,
                "dimension must be in 1.." + std::to_string(kMaxDim) + ", got " + std::to_string(dim));
  if (bits < 1 || bits > kMaxBits)
    throw Error(Errc::invalid_argument, "bits must be in 1..8, got " + std::to_string(bits));
  return Binarizer(CodeShape{dim, bits, BinarizerKind::raw, 0}, {});
}

Binarizer Binarizer::center(std::vector<float> mean, std::uint32_t bits) {
  Binarizer b = raw(static_cast<std::uint32_t>(mean.size()), bits);  // validates dim and bits
  for (float m : mean)
    if (!std::isfinite(m)) throw Error(Errc::invalid_argument, "model mean must be finite");
  b = Binarizer(CodeShape{b.shape_.dim, bits, BinarizerKind::center, 0}, std::move(mean));
  // Every code stores <v, mu> + |mu|^2 / 2 as a float32: a mean that overflows it alone would
  // make every code of the model unfindable.
  if (!(b.mean_half_norm2_ <= kMaxScale))
    throw Error(Errc::invalid_argument, "model mean is too large: |mean|^2 / 2 exceeds float32 range");
  b.shape_.model_id = model_id_of(b.serialize());
  return b;
}

// One plane: the digits are the signs of r whatever the scale, and the least-squares scale for
// them is alpha = sum_j r_j u_j / m = sum_j |r_j| / m: one pass, no iteration. The sum runs in
// four interleaved partial sums, (s0 + s1) + (s2 + s3) with s_i over j = i mod 4.
void Binarizer::encode_one_bit(std::span<const float> x, std::uint8_t* body) const {
  const std::uint32_t m = shape_.dim;
  const bool centred = shape_.kind == BinarizerKind::center;
  const float* mean = centred ? mean_.data() : nullptr;
  std::uint8_t* planes = body + kScalarBytes;
  double part[4] = {0, 0, 0, 0};
  if (const auto simd = kernels().encode_one_bit) {
    std::uint64_t words[kMaxDim / 64];
    simd(x.data(), mean, m, words, part);
    for (std::size_t w = 0; w < plane_words(m); ++w) store_u64(planes + 8 * w, words[w]);
  } else {
    std::uint64_t word = 0;
    for (std::uint32_t j = 0; j < m; ++j) {
      const double r = double{x[j]} - (mean ? double{mean[j]} : 0.0);
      part[j % 4] += std::fabs(r);
      word |= std::uint64_t{r >= 0} << (j % 64);  // sign(0) := +1
      if (j % 64 == 63 || j + 1 == m) {
        store_u64(planes + 8 * (j / 64), word);
        word = 0;
      }
    }
  }
  double alpha = std::min(((part[0] + part[1]) + (part[2] + part[3])) / m, kMaxScale);
  if (!(alpha > 0)) {  // the zero vector (after centring): every sign +1, scale 0
    alpha = 0;
    for (std::size_t w = 0; w < plane_words(m); ++w) {
      const std::uint32_t left = m - static_cast<std::uint32_t>(64 * w);
      store_u64(planes + 8 * w, left >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << left) - 1);
    }
  }
  const float scale = static_cast<float>(alpha);
  double offset = 0;
  if (centred) {
    for (std::uint32_t j = 0; j < m; ++j) {
      const bool plus = (load_u64(planes + 8 * (j / 64)) >> (j % 64)) & 1u;
      offset += double{scale} * (plus ? 1.0 : -1.0) * mean[j];
    }
    offset += mean_half_norm2_;
  }
  store_f32(body, scale);
  store_f32(body + 4, offset_f32(offset));
}

void Binarizer::encode_body(std::span<const float> x, std::uint8_t* body) const {
  if (deferred_) return resolved().encode_body(x, body);
  const std::uint32_t m = shape_.dim, bits = shape_.bits;
  if (x.size() != input_dim_)
    throw Error(Errc::mismatch,
                "expected a vector of " + std::to_string(input_dim_) + " floats, got " + std::to_string(x.size()));
  if (mlp_) return encode_mlp(x, body);
  const bool centred = shape_.kind == BinarizerKind::center;
  const double c = double((1u << bits) - 1), s = double(1u << (bits - 1));
  if (bits == 1) {
    encode_one_bit(x, body);
    return;
  }

  double alpha = 0;
  std::vector<double> r(m);
  double sq = 0;
  for (std::uint32_t j = 0; j < m; ++j) {
    r[j] = double{x[j]} - (centred ? double{mean_[j]} : 0.0);
    sq += r[j] * r[j];
  }
  // Start from the step of the best uniform quantiser of a Gaussian with the same RMS (level
  // spacing alpha / 2^(K-2)); the iterations then fit alpha to the actual values. A start
  // that clips too much (e.g. mean |r| at 6 bits) converges far too slowly.
  alpha = std::min(std::sqrt(sq / m) * kGaussianStep[bits - 1] * std::ldexp(1.0, int(bits) - 2), kMaxScale);

  // Alternate: digits nearest to r / alpha (greedy recurrence), then the least-squares alpha for
  // those digits. Each step lowers |r - alpha u|^2; stop when the digits settle.
  std::vector<std::uint8_t> n(m, static_cast<std::uint8_t>(c)), prev(m);
  for (int it = 0; it < kMaxScaleIterations && alpha > 0; ++it) {
    for (std::uint32_t j = 0; j < m; ++j) n[j] = static_cast<std::uint8_t>(quantise(r[j], alpha, bits));
    double num = 0, den = 0;
    for (std::uint32_t j = 0; j < m; ++j) {
      const double u = (2.0 * n[j] - c) / s;
      num += r[j] * u;
      den += u * u;
    }
    alpha = std::min(num / den, kMaxScale);
    if (it > 0 && n == prev) break;
    prev = n;
  }
  if (!(alpha > 0)) {  // the zero vector (after centring): every sign is +1, scale 0
    alpha = 0;
    std::fill(n.begin(), n.end(), static_cast<std::uint8_t>(c));
  }
  store_body(n.data(), alpha, body);
}

void Binarizer::store_body(const std::uint8_t* n, double alpha, std::uint8_t* body) const {
  const std::uint32_t m = shape_.dim, bits = shape_.bits;
  const double c = double((1u << bits) - 1), s = double(1u << (bits - 1));
  const float scale = static_cast<float>(alpha);
  double offset = 0;
  if (!mean_.empty()) {
    for (std::uint32_t j = 0; j < m; ++j) offset += double{scale} * ((2.0 * n[j] - c) / s) * mean_[j];
    offset += mean_half_norm2_;
  }
  store_f32(body, scale);
  store_f32(body + 4, offset_f32(offset));

  std::uint8_t* planes = body + kScalarBytes;
  const std::size_t words = plane_words(m);
  std::memset(planes, 0, planes_bytes(shape_));
  for (std::uint32_t k = 0; k < bits; ++k) {
    for (std::size_t w = 0; w < words; ++w) {
      std::uint64_t word = 0;
      for (std::uint32_t b = 0; b < 64 && w * 64 + b < m; ++b)
        word |= std::uint64_t{(n[w * 64 + b] >> (bits - 1 - k)) & 1u} << b;
      store_u64(planes + 8 * (k * words + w), word);
    }
  }
}

void Binarizer::encode_mlp(std::span<const float> x, std::uint8_t* body) const {
  std::vector<std::uint8_t> n(shape_.dim);
  mlp_->digits(x, n.data());
  store_body(n.data(), mlp_->alpha, body);
}

std::vector<std::uint8_t> Binarizer::encode_blob(std::span<const float> x) const {
  if (deferred_) return resolved().encode_blob(x);
  std::vector<std::uint8_t> blob(blob_bytes(shape_));
  write_header(shape_, blob.data());
  encode_body(x, blob.data() + kHeaderBytes);
  return blob;
}

std::vector<float> Binarizer::decode(const CodeView& code) const {
  if (deferred_) return resolved().decode(code);
  if (!(code.shape == shape_)) throw Error(Errc::mismatch, "code was made by another binarizer");
  const std::uint32_t bits = shape_.bits;
  const double c = double((1u << bits) - 1), s = double(1u << (bits - 1));
  std::vector<float> v(shape_.dim);
  for (std::uint32_t j = 0; j < shape_.dim; ++j) {
    const double u = (2.0 * digit(code.planes, shape_, j) - c) / s;
    v[j] = static_cast<float>(double{code.scale} * u + (mean_.empty() ? 0.0 : double{mean_[j]}));
  }
  return v;
}

Binarizer Binarizer::mlp(std::shared_ptr<const MlpModel> model) {
  const auto bad = [](const std::string& why) { throw Error(Errc::invalid_argument, "mlp model: " + why); };
  const MlpModel& md = *model;
  if (md.input_dim < 1 || md.input_dim > kMaxDim || md.code_dim < 1 || md.code_dim > kMaxDim || md.inner_dim < 1 ||
      md.inner_dim > kMaxDim)
    bad("dimensions must be in 1.." + std::to_string(kMaxDim));
  if (!md.adapter_hidden && md.inner_dim != md.input_dim) bad("without an adapter its inner and input dims must agree");
  if ((md.adapter_hidden != 0) != (md.compatible_with != 0)) bad("an adapter goes with a compatible model id");
  if (md.bits < 1 || md.bits > kMaxBits) bad("bits must be in 1..8");
  if (md.hidden < 1) bad("hidden width must be at least 1");
  if (!(std::isfinite(md.alpha) && md.alpha > 0)) bad("alpha must be finite and positive");
  if (md.mean.size() != md.code_dim || md.B.size() != md.bits - 1 || md.R.size() != md.bits - 1)
    bad("parameter shapes do not match its sizes");
  Binarizer b(CodeShape{md.code_dim, md.bits, BinarizerKind::mlp, 0}, md.mean);
  // A code's offset is alpha <u, mean> + |mean|^2 / 2 with |u_j| < 2, stored as a float32: a
  // model whose offsets can overflow it would store codes that can never be found.
  double mean_l1 = 0;
  for (float v : md.mean) mean_l1 += std::fabs(double{v});
  if (!(2.0 * double{md.alpha} * mean_l1 + b.mean_half_norm2_ <= kMaxScale))
    bad("its alpha and mean can give codes whose offset exceeds float32 range; expected 2 alpha |mean|_1 + "
        "|mean|^2 / 2 <= 3.4e38");
  b.input_dim_ = md.input_dim;
  b.mlp_ = std::move(model);
  b.shape_.model_id = model_id_of(b.serialize());
  return b;
}

// Model BLOB v1 (docs/format.md): "BEBM", version 1, kind, bits, reserved 0, dim (u32),
// reserved u32 0, then the kind's parameters (center: dim float32 of the mean). mlp: input dim
// (u32) in place of the reserved word, then hidden (u32), compatible model id (u32), alpha
// (f32), adapter hidden width (u32, 0: none), inner dim (u32), reserved u32 0, the code-space
// mean (dim f32), then every block's weights.
std::vector<std::uint8_t> Binarizer::serialize() const {
  if (deferred_) return resolved().serialize();
  std::vector<std::uint8_t> blob(kModelHeaderBytes, 0);
  std::memcpy(blob.data(), "BEBM", 4);
  blob[4] = 1;
  blob[5] = static_cast<std::uint8_t>(shape_.kind);
  blob[6] = static_cast<std::uint8_t>(shape_.bits);
  store_u32(blob.data() + 8, shape_.dim);
  const auto put = [&](const float* p, std::size_t n) {
    const std::size_t at = blob.size();
    blob.resize(at + 4 * n);
    for (std::size_t j = 0; j < n; ++j) store_f32(blob.data() + at + 4 * j, p[j]);
  };
  if (mlp_) {
    store_u32(blob.data() + 12, mlp_->input_dim);
    blob.resize(kMlpModelHeaderBytes, 0);
    store_u32(blob.data() + 16, mlp_->hidden);
    store_u32(blob.data() + 20, mlp_->compatible_with);
    store_f32(blob.data() + 24, mlp_->alpha);
    store_u32(blob.data() + 28, mlp_->adapter_hidden);
    store_u32(blob.data() + 32, mlp_->inner_dim);
  }
  put(mean_.data(), mean_.size());
  if (mlp_) mlp_->each_parameter([&](const float* p, Eigen::Index n) { put(p, static_cast<std::size_t>(n)); });
  return blob;
}

namespace {

// a * b + c, or nullopt where it would not fit in 64 bits.
std::optional<std::uint64_t> mul_add(std::uint64_t a, std::uint64_t b, std::uint64_t c) noexcept {
  if (b != 0 && a > (UINT64_MAX - c) / b) return std::nullopt;
  return a * b + c;
}

// The floats of one block of MlpModel::allocate's shapes: first (hidden x in, hidden), second
// (out x hidden, out), skip (out x in, out).
std::optional<std::uint64_t> block_floats(std::uint64_t in, std::uint64_t hidden, std::uint64_t out) noexcept {
  std::optional<std::uint64_t> n = mul_add(hidden, in, hidden);
  if (n) n = mul_add(out, hidden, *n + out);
  if (n) n = mul_add(out, in, *n + out);
  return n;
}

// The exact length of an mlp model BLOB whose header (already range-checked) is h, computed from
// the header alone so that a BLOB that lies about its sizes is refused before anything is
// allocated for it. nullopt: more than 64 bits (cannot happen within kMaxDim and kMaxHidden, and
// is refused the same way).
std::optional<std::uint64_t> mlp_blob_bytes(const ModelHeader& h) noexcept {
  const std::uint64_t d = h.inner_dim, m = h.dim, hid = h.hidden;
  std::optional<std::uint64_t> floats = m;  // the mean
  const auto add = [&](std::optional<std::uint64_t> blocks, std::uint64_t count) {
    if (floats && blocks) floats = mul_add(*blocks, count, *floats);
    else floats = std::nullopt;
  };
  if (h.adapter_hidden) add(block_floats(h.input_dim, h.adapter_hidden, d), 1);
  add(block_floats(d, hid, m), 1);
  add(block_floats(m, hid, d), h.bits - 1);  // B
  add(block_floats(d, hid, m), h.bits - 1);  // R
  return floats ? mul_add(*floats, 4, kMlpModelHeaderBytes) : std::nullopt;
}

}  // namespace

Binarizer Binarizer::parse(std::span<const std::uint8_t> blob) {
  const auto bad = [](const std::string& why) { throw Error(Errc::corrupt, "corrupt model BLOB: " + why); };
  const ModelHeader h = parse_model_header(blob);
  const auto floats = [&](std::size_t at, std::size_t n) {
    std::vector<float> v(n);
    for (std::size_t j = 0; j < n; ++j) {
      v[j] = load_f32(blob.data() + at + 4 * j);
      if (!std::isfinite(v[j])) bad("a parameter is not finite");
    }
    return v;
  };
  if (h.kind == BinarizerKind::center) return center(floats(kModelHeaderBytes, h.dim), h.bits);
  // The whole length first: a 40-byte BLOB may claim gigabytes of weights.
  const std::optional<std::uint64_t> want = mlp_blob_bytes(h);
  if (!want || *want != blob.size())
    bad("wrong length: header says " + (want ? std::to_string(*want) : std::string("more than 2^64")) +
        " bytes, BLOB has " + std::to_string(blob.size()));
  auto md = std::make_shared<MlpModel>();
  md->code_dim = h.dim;
  md->bits = h.bits;
  md->input_dim = h.input_dim;
  md->hidden = h.hidden;
  md->compatible_with = h.compatible_id;
  md->alpha = h.alpha;
  md->adapter_hidden = h.adapter_hidden;
  md->inner_dim = h.inner_dim;
  md->allocate();
  std::uint64_t shaped = kMlpModelHeaderBytes + 4 * std::uint64_t{h.dim};
  md->each_parameter([&](float*, Eigen::Index n) { shaped += 4 * static_cast<std::uint64_t>(n); });
  if (shaped != *want) throw Error(Errc::internal, "bebr internal error: model BLOB length and model shapes disagree");
  md->mean = floats(kMlpModelHeaderBytes, h.dim);
  std::size_t at = kMlpModelHeaderBytes + 4 * std::size_t{h.dim};
  md->each_parameter([&](float* p, Eigen::Index n) {
    const std::vector<float> v = floats(at, static_cast<std::size_t>(n));
    std::copy(v.begin(), v.end(), p);
    at += 4 * v.size();
  });
  return mlp(std::move(md));
}

ModelHeader Binarizer::model_header() const noexcept {
  ModelHeader h;
  h.kind = shape_.kind;
  h.dim = shape_.dim;
  h.bits = shape_.bits;
  h.input_dim = input_dim_;
  if (mlp_) {
    h.hidden = mlp_->hidden;
    h.compatible_id = mlp_->compatible_with;
    h.alpha = mlp_->alpha;
    h.adapter_hidden = mlp_->adapter_hidden;
    h.inner_dim = mlp_->inner_dim;
  }
  return h;
}

void MeanAccumulator::add(std::span<const float> x) noexcept {
  for (std::size_t j = 0; j < sum_.size() && j < x.size(); ++j) sum_[j] += x[j];
  ++rows_;
}

std::vector<float> MeanAccumulator::mean() const {
  std::vector<float> m(sum_.size());
  for (std::size_t j = 0; j < m.size(); ++j) m[j] = rows_ ? static_cast<float>(sum_[j] / double(rows_)) : 0.f;
  return m;
}

}  // namespace bebr
