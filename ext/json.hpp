// JSON text made by SQLite's own json functions, for what bebr_train and bebr_import_model return
// and store: the keys and values of an object are bound to one prepared json_object(...)
// statement, never spliced into SQL or JSON text, so quoting and escaping are SQLite's.
//
//   const std::string j = JsonObject().add("name", name).add("version", 3)
//                             .add_number("seconds", 1.25).add_json("history", history).text(db);
//   -> {"name":"m","version":3,"seconds":1.25,"history":{...}}
//
// Numbers that are not integers keep the text they always had, nine significant digits
// (json_number), so the stored options and history read as before and compare across versions;
// SQLite would print a REAL with fifteen digits and 1 as 1.0.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "common.hpp"

namespace bebr::ext {

// A finite v as a JSON number of nine significant digits ("%.9g": 0.001, 1e-05, 2); null when v
// is NaN or infinite (which JSON cannot hold).
std::string json_number(double v);
// A JSON array of json_number()s: "[0.5,0.25]".
std::string json_number_array(std::span<const double> v);

class JsonObject {
 public:
  JsonObject& add(std::string key, sqlite3_int64 v);
  JsonObject& add(std::string key, std::string text);  // a JSON string
  JsonObject& add(std::string key, const char* text) { return add(std::move(key), std::string(text)); }
  JsonObject& add_number(std::string key, double v);        // json_number(v)
  JsonObject& add_json(std::string key, std::string json);  // JSON text (an object, array, true...)
  // The object's text, keys in the order added; throws if SQLite cannot build it.
  std::string text(sqlite3* db) const;

 private:
  enum class Kind { integer, text, json };
  struct Field {
    std::string key;
    Kind kind;
    sqlite3_int64 i = 0;
    std::string s;
  };
  std::vector<Field> fields_;
};

}  // namespace bebr::ext
