// bebr::Error: the one exception type of the core library.
//
// Cold paths (parsing, header checks, training) throw it; hot kernels never throw. The SQLite
// glue in ext/ turns it into an error message prefixed with the SQL function or module name:
//   throw bebr::Error(bebr::Errc::invalid_argument, "expected 1024 floats, got 3");
//   -> "bebr_binarize: expected 1024 floats, got 3"
#pragma once

#include <stdexcept>
#include <string>

namespace bebr {

enum class Errc {
  invalid_argument,  // the caller passed something malformed
  mismatch,          // two inputs that must agree (dimension, bits, model) do not
  not_found,         // an unknown model or metric
  corrupt,           // a BLOB that claims to be ours but is not valid
  interrupted,       // a long operation was interrupted
  internal,          // a broken invariant: a bug in bebr
};

class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

}  // namespace bebr
