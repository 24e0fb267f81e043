// Recall@10 against exact cosine ground truth on the real datasets of ../shared/data: bebr
// (center, SDC) at 1, 2 and 4 bits against Hamming on sign bits (what sqlite-vec's bit[] and
// FAISS's binary indexes compute). A dataset that is absent gets a row saying so.
#include <cstdio>
#include <set>

#include "harness.hpp"
#include "testing.hpp"

namespace bebr::bench {

void recall(const Options& o) {
  const std::pair<const char*, std::size_t> sets[] = {
      {"bible-web-bge-large-1024", 1024}, {"sap-fiori-docs-minilm-384", 384}, {"fashion-mnist-784", 784}};
  std::printf("\n### Recall@10 against exact float search (held-out queries, no rescore)\n\n");
  std::printf("| dataset | bebr center 1 bit | 2 bits | 4 bits | sqlite-vec bit[] (Hamming, sign bits) |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: |\n");
  for (const auto& [name, dim] : sets) {
    const auto d = testing::load_dataset(name, dim);
    if (!d) {
      std::printf("| %s | skipped: not under %s | | | |\n", name, testing::data_dir().c_str());
      continue;
    }
    const std::size_t nq = std::min<std::size_t>(d->q, 1000);
    Db db(":memory:", {o.ext, o.vec0});
    db.exec("CREATE TABLE base(id INTEGER PRIMARY KEY, v BLOB)");
    db.prepare("INSERT INTO base SELECT i, vector FROM bebr_vectors(?1, " + std::to_string(dim) + ")")
        .bind_static(1, d->base.data(), d->base.size() * 4)
        .drain();
    const auto score = [&](const std::string& sql) {
      auto q = db.prepare(sql);
      double hits = 0;
      for (std::size_t i = 0; i < nq; ++i) {
        q.bind_static(1, d->queries.data() + i * dim, dim * 4);
        std::set<long long> truth(d->gt.begin() + static_cast<std::ptrdiff_t>(i * 100),
                                  d->gt.begin() + static_cast<std::ptrdiff_t>(i * 100 + 10));
        while (q.step()) hits += truth.count(q.integer(0));
        q.reset();
      }
      return hits / (10.0 * nq);
    };
    double r[3];
    for (int b = 0; b < 3; ++b) {
      const std::string bits = std::to_string(1 << b), m = "c" + bits;
      db.exec("SELECT bebr_train('" + m + "', 'SELECT v FROM base', '{\"kind\":\"center\",\"bits\":" + bits + "}')");
      db.exec("DROP TABLE IF EXISTS t; CREATE VIRTUAL TABLE t USING bebr(e float[" + std::to_string(dim) +
              "], model='" + m + "'); INSERT INTO t(rowid, e) SELECT id, v FROM base");
      r[b] = score("SELECT rowid FROM t WHERE e MATCH ?1 AND k = 10");
    }
    db.exec("CREATE VIRTUAL TABLE h USING vec0(e bit[" + std::to_string(dim) +
            "]);"
            "INSERT INTO h(rowid, e) SELECT id, vec_quantize_binary(v) FROM base");
    const double h = score("SELECT rowid FROM h WHERE e MATCH vec_quantize_binary(?1) AND k = 10");
    std::printf("| %s (%zu x %zu, %zu queries) | %.3f | %.3f | %.3f | %.3f |\n", name, d->n, dim, nq, r[0], r[1], r[2],
                h);
    std::fflush(stdout);
  }
}

}  // namespace bebr::bench
