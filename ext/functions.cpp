// The scalar SQL functions (docs/sql.md has each with its errors):
//
//   SELECT bebr_version(), bebr_debug();
//   SELECT bebr_binarize('[0.5, -1, 2, 0]');               -- raw, 1 bit per dimension
//   SELECT bebr_binarize(:vec, 4);                          -- raw, 4 bits per dimension
//   SELECT bebr_binarize(:vec, 'bible_c');                  -- a model trained with bebr_train
//   SELECT bebr_decode(:code);                              -- reconstruction, float32 BLOB
//   SELECT bebr_sdc_distance(:a, :b), bebr_sdc_distance(:a, :b, 'l2');
//   SELECT bebr_hamming(bebr_binarize('[1,-2,3,4]'), bebr_binarize('[1,2,3,4]'));   -- 1
//   SELECT bebr_distance('[1,0]', '[0,1]');                 -- exact float cosine distance: 1.0
//   SELECT bebr_distance(:vec, :code);                      -- to the code's reconstruction
//
// NULL in any argument gives NULL.
#include <cstring>

#include "bebr/simd_levels.hpp"
#include "bebr/vector.hpp"
#include "common.hpp"

namespace bebr::ext {
namespace {

bool any_null(int argc, sqlite3_value** argv) noexcept {
  for (int i = 0; i < argc; ++i)
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) return true;
  return false;
}

void result_blob(sqlite3_context* ctx, const void* data, std::size_t n) {
  sqlite3_result_blob64(ctx, data, n, SQLITE_TRANSIENT);
}

void fn_version(sqlite3_context* ctx, int, sqlite3_value**) noexcept {
  sqlite3_result_text(ctx, BEBR_VERSION, -1, SQLITE_STATIC);
}

void fn_debug(sqlite3_context* ctx, int, sqlite3_value**) noexcept {
  guard_scalar(ctx, "bebr_debug", [&] {
    const auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& x : v) {
        if (!s.empty()) s += ' ';
        s += x;
      }
      return s;
    };
    std::string text = std::string("version ") + BEBR_VERSION + "\nsimd compiled: " + join(compiled_levels()) +
                       "\nsimd available: " + join(available_levels()) + "\nsimd active: " + active_level() + " (" +
                       active_reason() + ")" + "\nsqlite: " + sqlite3_libversion() +
                       " (built against " SQLITE_VERSION ")" + "\ncompiler: " __VERSION__ "\nlimits: dim 1.." +
                       std::to_string(kMaxDim) + ", bits 1..8, code format v" + std::to_string(kFormatVersion);
    sqlite3_result_text(ctx, text.c_str(), -1, SQLITE_TRANSIENT);
  });
}

struct AuxBinarizer {
  std::shared_ptr<const Binarizer> b;
};

void fn_binarize(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  guard_scalar(ctx, "bebr_binarize", [&] {
    if (any_null(argc, argv)) return sqlite3_result_null(ctx);
    const std::vector<float> x = vector_arg(argv[0], "first argument");
    std::shared_ptr<const Binarizer> b;
    if (argc == 1) {
      b = std::make_shared<Binarizer>(Binarizer::raw(static_cast<std::uint32_t>(x.size()), 1));
    } else if (sqlite3_value_type(argv[1]) == SQLITE_INTEGER) {
      const sqlite3_int64 bits = sqlite3_value_int64(argv[1]);
      if (bits < 1 || bits > kMaxBits) fail("bits must be in 1..8; got " + std::to_string(bits));
      b = std::make_shared<Binarizer>(
          Binarizer::raw(static_cast<std::uint32_t>(x.size()), static_cast<std::uint32_t>(bits)));
    } else if (sqlite3_value_type(argv[1]) == SQLITE_TEXT) {
      // The model is looked up once per statement: SQLite keeps aux data for constant arguments.
      if (auto* aux = static_cast<AuxBinarizer*>(sqlite3_get_auxdata(ctx, 1))) {
        b = aux->b;
      } else {
        const std::string name(reinterpret_cast<const char*>(sqlite3_value_text(argv[1])),
                               static_cast<std::size_t>(sqlite3_value_bytes(argv[1])));
        b = load_model_by_name(sqlite3_context_db_handle(ctx), name);
        sqlite3_set_auxdata(ctx, 1, new AuxBinarizer{b}, [](void* p) { delete static_cast<AuxBinarizer*>(p); });
      }
      if (b->input_dim() != x.size())
        throw Error(Errc::mismatch, "first argument has " + std::to_string(x.size()) + " floats; expected " +
                                        std::to_string(b->input_dim()) + ", the dimension of the model");
    } else {
      fail(std::string("second argument must be bits (an integer 1..8) or a model name (text); got ") +
           type_name(argv[1]));
    }
    const std::vector<std::uint8_t> blob = b->encode_blob(x);
    result_blob(ctx, blob.data(), blob.size());
  });
}

void fn_decode(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  guard_scalar(ctx, "bebr_decode", [&] {
    if (any_null(argc, argv)) return sqlite3_result_null(ctx);
    const CodeView code = code_arg(argv[0], "first argument");
    std::vector<float> v;
    if (code.shape.kind == BinarizerKind::raw) {
      v = Binarizer::raw(code.shape.dim, code.shape.bits).decode(code);
    } else {
      v = load_model_by_id(sqlite3_context_db_handle(ctx), connection_of(ctx), code.shape.model_id)->decode(code);
    }
    const std::vector<std::uint8_t> bytes = floats_to_blob(v);
    result_blob(ctx, bytes.data(), bytes.size());
  });
}

void fn_sdc_distance(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  guard_scalar(ctx, "bebr_sdc_distance", [&] {
    if (any_null(argc, argv)) return sqlite3_result_null(ctx);
    const CodeView a = code_arg(argv[0], "first argument");
    CodeView b = code_arg(argv[1], "second argument");
    admit_compatible(sqlite3_context_db_handle(ctx), connection_of(ctx), a, b);
    const Metric m = argc > 2 ? metric_arg(argv[2], "third argument") : Metric::cosine;
    sqlite3_result_double(ctx, sdc_distance(a, b, m));
  });
}

void fn_hamming(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  guard_scalar(ctx, "bebr_hamming", [&] {
    if (any_null(argc, argv)) return sqlite3_result_null(ctx);
    const CodeView a = code_arg(argv[0], "first argument");
    CodeView b = code_arg(argv[1], "second argument");
    admit_compatible(sqlite3_context_db_handle(ctx), connection_of(ctx), a, b);
    sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(hamming_distance(a, b)));
  });
}

// A BLOB starting with the code magic: bebr_distance reads it as a code, not as floats.
bool looks_like_code(sqlite3_value* v) noexcept {
  return sqlite3_value_type(v) == SQLITE_BLOB && sqlite3_value_bytes(v) >= 4 &&
         std::memcmp(sqlite3_value_blob(v), "BEBR", 4) == 0;
}

// The reconstruction of a raw or center code, in the vectors' space (an mlp code lives in its
// learned coordinates, which a float vector is not in).
std::vector<float> code_reconstruction(sqlite3_context* ctx, const CodeView& code, const char* what) {
  if (code.shape.kind == BinarizerKind::raw) return Binarizer::raw(code.shape.dim, code.shape.bits).decode(code);
  if (code.shape.kind == BinarizerKind::mlp)
    throw Error(Errc::invalid_argument,
                std::string(what) +
                    " is an mlp code, whose learned coordinates a float vector is not in; expected a raw or center "
                    "code (for mlp codes compare codes: bebr_sdc_distance(bebr_binarize(vector, model), code))");
  return load_model_by_id(sqlite3_context_db_handle(ctx), connection_of(ctx), code.shape.model_id)->decode(code);
}

// bebr_distance(vector, vector | code [, metric]): the exact float distance; with a code, the
// asymmetric distance of the vector to the code's reconstruction, bebr_distance(v, bebr_decode(c)).
// Deterministic even then: a code names its model by a content hash.
void fn_distance(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  guard_scalar(ctx, "bebr_distance", [&] {
    if (any_null(argc, argv)) return sqlite3_result_null(ctx);
    if (looks_like_code(argv[0]))
      fail(
          "first argument is a bebr code; expected a vector (the code goes second: bebr_distance(vector, code), or "
          "compare two codes with bebr_sdc_distance)");
    const std::vector<float> a = vector_arg(argv[0], "first argument");
    std::vector<float> b;
    if (looks_like_code(argv[1])) {
      const CodeView code = code_arg(argv[1], "second argument");
      b = code_reconstruction(ctx, code, "second argument");
      if (a.size() != b.size())
        throw Error(Errc::mismatch, "first argument has " + std::to_string(a.size()) +
                                        " floats but the second is a code of dim " + std::to_string(b.size()) +
                                        "; expected a vector of the code's dimension");
    } else {
      b = vector_arg(argv[1], "second argument");
    }
    const Metric m = argc > 2 ? metric_arg(argv[2], "third argument") : Metric::cosine;
    if (a.size() != b.size())
      throw Error(Errc::mismatch, "vectors differ in dimension; first has " + std::to_string(a.size()) +
                                      ", second has " + std::to_string(b.size()));
    sqlite3_result_double(ctx, float_distance(a, b, m));
  });
}

}  // namespace

int register_functions(sqlite3* db, const std::shared_ptr<Connection>& conn) {
  constexpr int pure = SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  struct Entry {
    const char* name;
    int nargs;
    int flags;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  // bebr_binarize(vec, text) and bebr_decode read bebr_models, so they are not deterministic.
  const Entry entries[] = {
      {"bebr_version", 0, pure, fn_version},           {"bebr_debug", 0, SQLITE_INNOCUOUS, fn_debug},
      {"bebr_binarize", 1, pure, fn_binarize},         {"bebr_binarize", 2, SQLITE_INNOCUOUS, fn_binarize},
      {"bebr_decode", 1, SQLITE_INNOCUOUS, fn_decode}, {"bebr_sdc_distance", 2, pure, fn_sdc_distance},
      {"bebr_sdc_distance", 3, pure, fn_sdc_distance}, {"bebr_hamming", 2, pure, fn_hamming},
      {"bebr_distance", 2, pure, fn_distance},         {"bebr_distance", 3, pure, fn_distance},
  };
  for (const Entry& e : entries)
    if (const int rc = create_function(db, e.name, e.nargs, e.flags, conn, e.fn); rc != SQLITE_OK) return rc;
  return SQLITE_OK;
}

}  // namespace bebr::ext
