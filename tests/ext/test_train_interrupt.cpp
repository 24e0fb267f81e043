// Interrupting a training: sqlite3_interrupt from another thread, and a progress handler that
// interrupts in each phase of an mlp training.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "db.hpp"
#include "testing.hpp"

using bebr::testing::Db;

TEST_CASE("interrupting an mlp training (sqlite3_interrupt, as Ctrl-C in the shell) stores no model", "[train][mlp]") {
  Db db;
  bebr::testing::fill_items(db, 32, 400, 0.f, 14);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_interrupt(db.get());
  });
  const std::string error = db.error_of(
      "SELECT bebr_train('m', 'SELECT v FROM items', '{\"kind\":\"mlp\",\"epochs\":100000,\"progress\":false}')");
  stopper.join();
  CHECK_THAT(error, Catch::Contains("interrupt"));
  CHECK(db.error_of("SELECT count(*) FROM bebr_models").find("no such table") != std::string::npos);
  // The connection works afterwards.
  db.exec("SELECT bebr_train('m', 'SELECT v FROM items', '{\"kind\":\"mlp\",\"epochs\":1,\"progress\":false}')");
  auto n = db.prepare("SELECT count(*) FROM bebr_models");
  REQUIRE(n.step());
  CHECK(n.integer(0) == 1);
}

namespace {
// Counts the progress handler's calls; from call `stop_at` on (0: never) it interrupts, and it
// counts the calls that come after the first interrupting one.
struct Interrupter {
  long long calls = 0, stop_at = 0, after = 0;
  static int handler(void* p) {
    auto* c = static_cast<Interrupter*>(p);
    ++c->calls;
    if (!c->stop_at || c->calls < c->stop_at) return 0;
    if (c->calls > c->stop_at) ++c->after;
    return 1;
  }
};
}  // namespace

// A progress handler that interrupts after N of its calls acts as Ctrl-C arriving at that point.
// What an interrupted training says names where it stopped; the order of those places is the
// order of the phases, so a bisection over N finds the first interrupt of each phase. Each must
// return SQLITE_INTERRUPT, do no training work after it and store nothing.
TEST_CASE("an interrupt stops an mlp training in every phase, storing nothing", "[train][mlp]") {
  Db db;
  bebr::testing::fill_items(db, 32, 300, 0.f, 31);
  const std::string sql =
      "SELECT bebr_train('m', 'SELECT v FROM items', "
      "'{\"kind\":\"mlp\",\"dim\":16,\"epochs\":2,\"batch\":32,\"progress\":false}')";
  Interrupter c;
  sqlite3_progress_handler(db.get(), 1, Interrupter::handler, &c);
  db.exec(sql);  // a full run: how many calls there are in all
  const long long total = c.calls;
  db.exec("DROP TABLE bebr_models");
  const std::vector<std::string> places = {"interrupted; no model was stored", "training interrupted during the start",
                                           "training interrupted during the exact neighbours",
                                           "training interrupted during the steps"};
  // Where the training stops at call n: the index of its place (places.size() past them all).
  const auto stop_at = [&](long long n) {
    c = Interrupter{0, n, 0};
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    const int rc = sqlite3_step(s);
    const std::string msg = sqlite3_errmsg(db.get());
    sqlite3_finalize(s);
    c.stop_at = 0;
    if (rc == SQLITE_ROW) {
      db.exec("DROP TABLE bebr_models");
      return places.size();
    }
    INFO("interrupted at call " << n << " of " << total << ": " << msg);
    CHECK(rc == SQLITE_INTERRUPT);
    // No model stored (storing may have made the table, empty).
    if (const std::string absent = db.error_of("SELECT 1 FROM bebr_models"); absent.empty()) {
      auto n = db.prepare("SELECT count(*) FROM bebr_models");
      REQUIRE(n.step());
      CHECK(n.integer(0) == 0);
    } else {
      CHECK_THAT(absent, Catch::Contains("no such table"));
    }
    db.exec("DROP TABLE IF EXISTS bebr_models");
    auto mode = db.prepare("PRAGMA query_only");  // as it was before the training query
    REQUIRE(mode.step());
    CHECK(mode.integer(0) == 0);
    // Before the training phases (reading the options, the rows): "interrupted; no model...".
    std::size_t at = 0;
    for (std::size_t i = 1; i < places.size(); ++i)
      if (msg.find(places[i]) != std::string::npos) at = i;
    if (msg.find("bebr_models") != std::string::npos || msg.find("store the model") != std::string::npos ||
        msg.find("storing the model") != std::string::npos)
      at = places.size();  // storing, after the steps
    // Before bebr_train runs, the statement itself stops: SQLite's "interrupted".
    if (at == 0) CHECK_THAT(msg, Catch::EndsWith(places[0]) || Catch::Equals("interrupted"));
    // No work after it: at most two more calls, the calling statement's own as it halts and a
    // clean-up statement's (the PRAGMA that ends query_only); a training phase reports every
    // ~2^28 multiply-adds and each report calls the handler, so more work would show here.
    CHECK(c.after <= 2);
    return at;
  };
  for (std::size_t want = 0; want < places.size(); ++want) {
    long long lo = 1, hi = total;  // the first n that stops at `want` or later
    while (lo < hi) {
      const long long mid = lo + (hi - lo) / 2;
      if (stop_at(mid) >= want) hi = mid;
      else lo = mid + 1;
    }
    INFO(places[want]);
    CHECK(stop_at(lo) == want);
  }
}
