// The bebr_models table (ext/models.cpp) as the rest of ext/ uses it beyond what common.hpp
// declares (load_model_by_name, load_model_by_id, compatible_id_of, admit_compatible): storing a
// new version, the checks of a model name, and the registration of bebr_train (ext/train_fn.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "bebr/binarize.hpp"
#include "common.hpp"

namespace bebr::ext {

// A text argument's bytes (the caller has checked that it is text).
std::string text_of(sqlite3_value* v);

// Throws "model name must be 1..128 characters; got '<name>'" unless it is.
void check_model_name(const std::string& name);

// Stores `model` as the next version of `name` in main.bebr_models (created if absent) and
// returns that version. options, history: JSON text (history "" stores NULL); input_dim: the
// floats per input vector; rows: the training query's rows; seconds: the training's duration.
sqlite3_int64 store_model(sqlite3* db, const std::string& name, const Binarizer& model, std::uint32_t input_dim,
                          const std::string& options, std::uint64_t rows, double seconds, const std::string& history);

// Lives while a training query runs: bebr_train and bebr_import_model refuse to run inside one
// (refuse_in_training_query), so a training query can neither recurse into training nor write
// models. Per thread, as NestedSql (common.hpp): the query runs on the thread that trains.
class TrainingQueryScope {
 public:
  TrainingQueryScope() noexcept { ++active_; }
  ~TrainingQueryScope() { --active_; }
  TrainingQueryScope(const TrainingQueryScope&) = delete;
  TrainingQueryScope& operator=(const TrainingQueryScope&) = delete;
  static bool active() noexcept { return active_ > 0; }

 private:
  static inline thread_local int active_ = 0;
};
// Throws "<fn> cannot run inside a training query ..." while a training query runs.
void refuse_in_training_query(const char* fn);

// Registers bebr_train(name, select_sql [, options_json]) (ext/train_fn.cpp).
int register_train_function(sqlite3* db, const std::shared_ptr<Connection>& conn);

}  // namespace bebr::ext
