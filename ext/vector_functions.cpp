// The vector utilities a sqlite-vec user reaches for (docs/sql.md, "Vector utilities"):
//
//   SELECT bebr_f32('[0.5, -1]');                  -- the float32 BLOB of a JSON vector
//   SELECT bebr_to_json(:vec), bebr_to_json(:code); -- JSON text; a code shows its reconstruction
//   SELECT bebr_length(:vec), bebr_length(:code);   -- dimensions
//   SELECT bebr_normalize(:vec);                    -- unit L2 norm, float32 BLOB
//   SELECT bebr_slice(:vec, 0, 256);                -- elements [0, 256): Matryoshka truncation
//
// Vectors in and out are validated like every bebr vector (finite, 1..16384 floats); a NULL
// argument gives NULL.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "bebr/vector.hpp"
#include "common.hpp"
#include "models.hpp"
#include "values.hpp"

namespace bebr::ext {
namespace {

bool any_null(int argc, sqlite3_value** argv) noexcept {
  for (int i = 0; i < argc; ++i)
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) return true;
  return false;
}

bool is_code_blob(sqlite3_value* v) noexcept {
  return sqlite3_value_type(v) == SQLITE_BLOB && sqlite3_value_bytes(v) >= 4 &&
         std::memcmp(sqlite3_value_blob(v), "BEBR", 4) == 0;
}

// A vector argument's floats, or a code argument's reconstruction (its model looked up by id).
std::vector<float> floats_of(sqlite3_context* ctx, sqlite3_value* v, const char* what) {
  if (!is_code_blob(v)) return vector_arg(v, what);
  const CodeView code = code_arg(v, what);
  if (code.shape.kind == BinarizerKind::raw) return Binarizer::raw(code.shape.dim, code.shape.bits).decode(code);
  return load_model_by_id(sqlite3_context_db_handle(ctx), connection_of(ctx), code.shape.model_id)->decode(code);
}

void result_vector(sqlite3_context* ctx, const std::vector<float>& x) {
  if (const long bad = first_non_finite(x); bad >= 0)
    fail("the result has NaN or Inf at element " + std::to_string(bad) + "; expected finite floats");
  const std::vector<std::uint8_t> bytes = floats_to_blob(x);
  sqlite3_result_blob64(ctx, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
}

void fn_f32(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  guard_scalar(ctx, "bebr_f32", [&] {
    if (any_null(argc, argv)) return sqlite3_result_null(ctx);
    if (is_code_blob(argv[0]))
      fail("first argument is a bebr code; expected a vector (bebr_decode gives a code's floats)");
    result_vector(ctx, vector_arg(argv[0], "first argument"));
  });
}

void fn_to_json(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  guard_scalar(ctx, "bebr_to_json", [&] {
    if (any_null(argc, argv)) return sqlite3_result_null(ctx);
    const std::vector<float> x = floats_of(ctx, argv[0], "first argument");
    std::string text = "[";
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (i) text += ',';
      text += bebr::float_text(x[i]);
    }
    text += ']';
    sqlite3_result_text64(ctx, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  });
}

void fn_length(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  guard_scalar(ctx, "bebr_length", [&] {
    if (any_null(argc, argv)) return sqlite3_result_null(ctx);
    if (is_code_blob(argv[0])) return sqlite3_result_int64(ctx, code_arg(argv[0], "first argument").shape.dim);
    sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(vector_arg(argv[0], "first argument").size()));
  });
}

void fn_normalize(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  guard_scalar(ctx, "bebr_normalize", [&] {
    if (any_null(argc, argv)) return sqlite3_result_null(ctx);
    if (is_code_blob(argv[0])) fail("first argument is a bebr code; expected a vector");
    std::vector<float> x = vector_arg(argv[0], "first argument");
    // In double, scaled by the largest magnitude first: no overflow or underflow for any
    // finite input (a float squared can leave float range; a double sum of them cannot).
    double top = 0;
    for (const float v : x) top = std::max(top, std::fabs(static_cast<double>(v)));
    if (top == 0) fail("first argument is the zero vector; expected a vector with a length to divide by");
    double sum = 0;
    for (const float v : x) sum += (v / top) * (v / top);
    const double norm = top * std::sqrt(sum);
    for (float& v : x) v = static_cast<float>(v / norm);
    result_vector(ctx, x);
  });
}

void fn_slice(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  guard_scalar(ctx, "bebr_slice", [&] {
    if (any_null(argc, argv)) return sqlite3_result_null(ctx);
    if (is_code_blob(argv[0])) fail("first argument is a bebr code; expected a vector");
    const std::vector<float> x = vector_arg(argv[0], "first argument");
    const auto index = [&](int i, const char* what) {
      if (sqlite3_value_type(argv[i]) != SQLITE_INTEGER)
        fail(std::string(what) + " must be an integer; got " + type_name(argv[i]));
      return sqlite3_value_int64(argv[i]);
    };
    const sqlite3_int64 start = index(1, "second argument (start)"), end = index(2, "third argument (end)");
    const auto n = static_cast<sqlite3_int64>(x.size());
    if (start < 0 || end > n || start >= end)
      fail("slice [" + std::to_string(start) + ", " + std::to_string(end) + ") of a vector of " + std::to_string(n) +
           " floats; expected 0 <= start < end <= " + std::to_string(n));
    result_vector(ctx, std::vector<float>(x.begin() + start, x.begin() + end));
  });
}

}  // namespace

int register_vector_functions(sqlite3* db, const std::shared_ptr<Connection>& conn) {
  constexpr int pure = SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  struct Entry {
    const char* name;
    int nargs;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  // bebr_to_json of a center or mlp code reads its model by content hash: still deterministic.
  const Entry entries[] = {{"bebr_f32", 1, fn_f32},
                           {"bebr_to_json", 1, fn_to_json},
                           {"bebr_length", 1, fn_length},
                           {"bebr_normalize", 1, fn_normalize},
                           {"bebr_slice", 3, fn_slice}};
  for (const Entry& e : entries)
    if (const int rc = create_function(db, e.name, e.nargs, pure, conn, e.fn); rc != SQLITE_OK) return rc;
  return SQLITE_OK;
}

}  // namespace bebr::ext
