// Compatibility shim, to be deleted when ext/ moves to bebr/search.hpp: SdcQuery, the shape of
// the search before the bound query and the scan state were split, as one object whose const
// methods run a scan. It owns a BoundQuery and one ScanState; new code uses those directly.
//
//   const bebr::SdcQuery q(query_code, bebr::Metric::cosine);
//   q.scan(block, bounds, valid, rowids, top, accept);
//   q.finish(top);
//
// It also still brings the kernel table (bebr/simd.hpp) to the files that call kernels directly.
#pragma once

#include <memory>

#include "bebr/search.hpp"
#include "bebr/simd.hpp"

namespace bebr {

class SdcQuery {
 public:
  SdcQuery(const CodeView& query, Metric metric) : query_(query, metric), state_(std::make_unique<ScanState>(query_)) {}
  SdcQuery(const SdcQuery&) = delete;
  SdcQuery& operator=(const SdcQuery&) = delete;

  void distances(const CodeBlock& block, double* out) const { state_->distances(block, out); }
  void finish(TopK& top) const { state_->finish(top); }
  bool hamming() const noexcept { return query_.hamming(); }
  template <class Accept>
  void scan(const CodeBlock& block, const KeyBounds& bounds, const std::uint64_t* valid, const std::int64_t* rowids,
            TopK& top, Accept&& accept) const {
    state_->scan(block, bounds, valid, rowids, top, accept);
  }
  template <class Accept, class Sink>
  void stream(const CodeBlock& block, const std::uint64_t* valid, const std::int64_t* rowids, Accept&& accept,
              Sink&& sink) const {
    state_->stream(block, valid, rowids, accept, sink);
  }

 private:
  BoundQuery query_;
  // Behind a pointer so that the const methods above may run it: the old shape's const object.
  std::unique_ptr<ScanState> state_;
};

}  // namespace bebr
