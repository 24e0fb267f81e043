// Float vectors from SQL values: JSON text and float32 BLOBs.
#include "bebr/vector.hpp"

#include <bit>
#include <charconv>

#include <cctype>
#include <clocale>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bebr/error.hpp"

namespace bebr {
namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

[[noreturn]] void bad_json(std::size_t at, const std::string& expected, std::string_view text) {
  std::string got = at < text.size() ? "'" + std::string(text.substr(at, 12)) + "'" : "the end";
  throw Error(Errc::invalid_argument, "is not a JSON array of numbers; expected " + expected + " at offset " +
                                          std::to_string(at) + ", got " + got);
}

// The end of the JSON number (RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?) that
// starts at i, or throws naming what was expected where.
std::size_t json_number_end(std::string_view text, std::size_t i) {
  const auto digit = [&](std::size_t at) { return at < text.size() && text[at] >= '0' && text[at] <= '9'; };
  const auto digits = [&](std::size_t at, const char* after) {
    if (!digit(at)) bad_json(at, std::string("a digit") + after, text);
    while (digit(at)) ++at;
    return at;
  };
  if (i < text.size() && text[i] == '-') ++i;
  if (!digit(i)) bad_json(i, "a number", text);
  if (text[i] == '0') {
    ++i;
    if (digit(i)) bad_json(i, "no leading zero", text);
  } else {
    i = digits(i, "");
  }
  if (i < text.size() && text[i] == '.') i = digits(i + 1, " after '.'");
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    i = digits(i, " in the exponent");
  }
  return i;
}

// The float nearest to a JSON number (strtof: correctly rounded, and present
// in every C library, unlike floating-point std::from_chars), from a NUL-terminated copy whose
// '.' is the C locale's decimal point. Infinite when the number is beyond float range.
float json_number_value(std::string_view number) {
  std::string copy(number);
  const char point = *std::localeconv()->decimal_point;
  if (point != '.')
    for (char& c : copy)
      if (c == '.') c = point;
  return std::strtof(copy.c_str(), nullptr);
}

}  // namespace

std::vector<float> parse_json_vector(std::string_view text) {
  std::vector<float> out;
  std::size_t i = 0;
  const auto skip = [&] {
    while (i < text.size() && is_space(text[i])) ++i;
  };
  skip();
  if (i >= text.size() || text[i] != '[') bad_json(i, "'['", text);
  ++i;
  skip();
  if (i < text.size() && text[i] == ']') {
    ++i;
  } else {
    for (;;) {
      skip();
      const std::size_t end = json_number_end(text, i);
      const float value = json_number_value(text.substr(i, end - i));
      // A number that rounds to a finite float is taken (3.4028235e38, FLT_MAX as usually
      // printed, is); beyond that it would become Inf.
      if (!std::isfinite(value))
        throw Error(Errc::invalid_argument,
                    "has element " + std::to_string(out.size()) + " out of float32 range; expected finite floats");
      out.push_back(value);
      i = end;
      skip();
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == ']') {
        ++i;
        break;
      }
      bad_json(i, "',' or ']'", text);
    }
  }
  skip();
  if (i != text.size()) bad_json(i, "nothing after ']'", text);
  return out;
}

std::vector<float> floats_from_blob(std::span<const std::uint8_t> bytes) {
  std::vector<float> out(bytes.size() / 4);
  if constexpr (std::endian::native == std::endian::little) {
    if (!out.empty()) std::memcpy(out.data(), bytes.data(), 4 * out.size());
    return out;
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::uint8_t* p = bytes.data() + 4 * i;
    const std::uint32_t u =
        std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
    std::memcpy(&out[i], &u, 4);
  }
  return out;
}

std::vector<std::uint8_t> floats_to_blob(std::span<const float> x) {
  std::vector<std::uint8_t> out(4 * x.size());
  if constexpr (std::endian::native == std::endian::little) {
    if (!x.empty()) std::memcpy(out.data(), x.data(), out.size());
    return out;
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::uint32_t u;
    std::memcpy(&u, &x[i], 4);
    for (int b = 0; b < 4; ++b) out[4 * i + b] = static_cast<std::uint8_t>(u >> (8 * b));
  }
  return out;
}

long first_non_finite(std::span<const float> x) noexcept {
  // A float is NaN or infinite when its exponent bits are all ones. One branch-free pass (it
  // vectorises), then the index only when there is something to report.
  std::uint32_t any = 0;
  for (float f : x) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    any |= static_cast<std::uint32_t>((u & 0x7f800000u) == 0x7f800000u);
  }
  if (!any) return -1;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i])) return static_cast<long>(i);
  return -1;
}

namespace detail {

// Ryu's shortest digits (what std::to_chars finds) are the fewest that round-trip, nearest the
// value among those; printf's correctly rounded digits at each length are that, except beside a
// power of two, where the float's rounding interval is lopsided and the neighbour in the last
// digit can round-trip when the nearest does not. Every text handed to strtof is digits and an
// exponent only, and every printf result is read for its digits only, so no locale enters.
std::string float_text_printf(float f) {
  if (f == 0) return std::signbit(f) ? "-0" : "0";
  const std::string sign = std::signbit(f) ? "-" : "";
  const float af = std::fabs(f);
  const double a = af;
  std::string digits;
  int e10 = 0;
  for (int p = 1; p <= 9 && digits.empty(); ++p) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*e", p - 1, a);
    std::string d;
    const char* s = buf;
    for (; *s && *s != 'e'; ++s)
      if (*s >= '0' && *s <= '9') d += *s;
    const int e = std::atoi(s + 1);
    const std::uint64_t m = std::strtoull(d.c_str(), nullptr, 10);
    std::uint64_t lo = 1;
    for (int i = 1; i < p; ++i) lo *= 10;
    for (const std::uint64_t c : {m, m - 1, m + 1}) {
      if (c < lo || c >= 10 * lo) continue;  // a neighbour of another length is another p's
      char t[48];
      std::snprintf(t, sizeof t, "%llue%d", static_cast<unsigned long long>(c), e - (p - 1));
      if (std::strtof(t, nullptr) == af) {
        digits = std::to_string(c);
        e10 = e;
        break;
      }
    }
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int p = static_cast<int>(digits.size());
  // std::to_chars's choice: printf's %f or %e with those digits, the shorter, %f on a tie; %f
  // of an integer prints it exactly, not the shortest digits padded with zeros.
  std::string fixed;
  if (e10 >= p - 1) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f", a);
    fixed = buf;
  } else if (e10 >= 0) {
    fixed = digits.substr(0, e10 + 1) + "." + digits.substr(e10 + 1);
  } else {
    fixed = "0." + std::string(-e10 - 1, '0') + digits;
  }
  std::string sci = digits.substr(0, 1) + (p > 1 ? "." + digits.substr(1) : "") + "e" + (e10 < 0 ? "-" : "+") +
                    (std::abs(e10) < 10 ? "0" : "") + std::to_string(std::abs(e10));
  return sign + (fixed.size() <= sci.size() ? fixed : sci);
}

}  // namespace detail

std::string float_text(float f) {
#if defined(__cpp_lib_to_chars)
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, f);
  return std::string(buf, r.ptr);
#else
  return detail::float_text_printf(f);
#endif
}

}  // namespace bebr

// NumPy .npy (numpy.lib.format): magic "\x93NUMPY", major and minor version bytes, the header
// length (u16 in v1, u32 in v2 and v3), then a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (1000, 768), }
// padded with spaces to a 64-byte boundary, then the values.
namespace bebr {
namespace {

[[noreturn]] void bad_npy(const std::string& what) {
  throw Error(Errc::invalid_argument, "is a .npy file with " + what);
}

// A reader of the header dict: the few Python literals numpy writes there.
struct DictReader {
  std::string_view s;
  std::size_t i = 0;
  void skip() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  bool eat(char c) {
    skip();
    if (i < s.size() && s[i] == c) return ++i, true;
    return false;
  }
  void need(char c) {
    if (!eat(c)) bad_npy(std::string("a malformed header; expected '") + c + "' at offset " + std::to_string(i));
  }
  std::string string() {
    skip();
    if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) bad_npy("a malformed header; expected a quoted string");
    const char q = s[i++];
    const std::size_t end = s.find(q, i);
    if (end == std::string_view::npos) bad_npy("a malformed header; expected a closing quote");
    std::string out(s.substr(i, end - i));
    i = end + 1;
    return out;
  }
  std::string word() {
    skip();
    const std::size_t at = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    return std::string(s.substr(at, i - at));
  }
  // A tuple of non-negative integers, each at most 2^48 (far beyond any BLOB).
  std::vector<std::uint64_t> tuple() {
    need('(');
    std::vector<std::uint64_t> out;
    while (!eat(')')) {
      skip();
      std::uint64_t v = 0;
      const std::size_t at = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9' && v <= (std::uint64_t{1} << 48))
        v = 10 * v + static_cast<std::uint64_t>(s[i++] - '0');
      if (i == at || v > (std::uint64_t{1} << 48)) bad_npy("a malformed shape; expected integers");
      out.push_back(v);
      if (!eat(',')) {
        need(')');
        break;
      }
    }
    return out;
  }
};

}  // namespace

bool is_npy(std::span<const std::uint8_t> bytes) noexcept {
  return bytes.size() >= 6 && std::memcmp(bytes.data(), "\x93NUMPY", 6) == 0;
}

NpyArray parse_npy(std::span<const std::uint8_t> bytes, std::size_t dim) {
  if (!is_npy(bytes) || bytes.size() < 10) bad_npy("a truncated header");
  const std::uint8_t major = bytes[6];
  if (major < 1 || major > 3) bad_npy("format version " + std::to_string(major) + "; expected 1, 2 or 3");
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + len_bytes) bad_npy("a truncated header");
  std::size_t header_len = 0;
  for (std::size_t b = 0; b < len_bytes; ++b) header_len |= std::size_t{bytes[8 + b]} << (8 * b);
  const std::size_t start = 8 + len_bytes;
  if (header_len > bytes.size() - start)
    bad_npy("a header of " + std::to_string(header_len) + " bytes; expected at most the " +
            std::to_string(bytes.size() - start) + " that follow");
  DictReader r{std::string_view(reinterpret_cast<const char*>(bytes.data() + start), header_len)};
  std::string descr;
  bool fortran = false, has_descr = false, has_fortran = false, has_shape = false;
  std::vector<std::uint64_t> shape;
  r.need('{');
  while (!r.eat('}')) {
    const std::string key = r.string();
    r.need(':');
    if (key == "descr") {
      descr = r.string(), has_descr = true;
    } else if (key == "fortran_order") {
      const std::string w = r.word();
      if (w != "True" && w != "False") bad_npy("a malformed fortran_order; expected True or False");
      fortran = w == "True", has_fortran = true;
    } else if (key == "shape") {
      shape = r.tuple(), has_shape = true;
    } else {
      bad_npy("an unknown header key '" + key + "'; expected descr, fortran_order and shape");
    }
    if (!r.eat(',')) {
      r.need('}');
      break;
    }
  }
  if (!has_descr || !has_fortran || !has_shape) bad_npy("a header missing descr, fortran_order or shape");
  NpyArray a;
  if (descr == "<f8") a.float64 = true;
  else if (descr != "<f4") bad_npy("dtype '" + descr + "'; expected '<f4' (float32) or '<f8' (float64)");
  if (fortran) bad_npy("fortran_order True; expected C order (numpy.ascontiguousarray)");
  std::uint64_t count = 1;
  for (std::uint64_t s : shape)
    count = s == 0 ? 0 : (count > (std::uint64_t{1} << 48) / s ? ~std::uint64_t{0} : count * s);
  const bool fits =
      (shape.size() == 1 && count != ~std::uint64_t{0} && count % dim == 0) || (shape.size() == 2 && shape[1] == dim);
  if (!fits)
    bad_npy("shape of " + std::to_string(shape.size()) + " dimensions" +
            (shape.size() == 2 ? " (rows of " + std::to_string(shape[1]) + ")" : std::string()) + "; expected (n, " +
            std::to_string(dim) + ") or (n * " + std::to_string(dim) + ",)");
  const std::size_t item = a.float64 ? 8 : 4;
  a.data_offset = start + header_len;
  a.dim = dim;
  // The row count in 64 bits until it is checked against the bytes: a 32-bit size_t (wasm32,
  // armhf) would cut a hostile 2^48 to 0.
  const std::uint64_t rows = shape.size() == 2 ? shape[0] : count / dim;
  const std::size_t have = bytes.size() - a.data_offset;
  if (rows > have / item / dim || rows * dim * item != have)
    bad_npy("" + std::to_string(have) + " data bytes; expected " + std::to_string(rows) + " x " +
            std::to_string(dim) + " values of " + std::to_string(item) + " bytes");
  a.rows = static_cast<std::size_t>(rows);
  return a;
}

std::vector<float> npy_row(std::span<const std::uint8_t> bytes, const NpyArray& a, std::size_t i) {
  const std::size_t item = a.float64 ? 8 : 4;
  const std::uint8_t* p = bytes.data() + a.data_offset + i * a.dim * item;
  if (!a.float64) return floats_from_blob({p, 4 * a.dim});
  std::vector<float> out(a.dim);
  for (std::size_t j = 0; j < a.dim; ++j) {
    std::uint64_t u = 0;
    for (int b = 0; b < 8; ++b) u |= std::uint64_t{p[8 * j + b]} << (8 * b);
    double d;
    std::memcpy(&d, &u, 8);
    out[j] = static_cast<float>(d);
    if (std::isfinite(d) && !std::isfinite(out[j]))
      throw Error(Errc::invalid_argument, "has row " + std::to_string(i) + " element " + std::to_string(j) +
                                              " out of float32 range; expected finite floats");
  }
  return out;
}

}  // namespace bebr
