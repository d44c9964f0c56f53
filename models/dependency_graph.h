// The persistence-dependency graph of one trace under one model (Boost.Graph).
//
// Vertices: the start of the log (vertex 0, always durable), then every entry that is a barrier of the
// model or changes content, in log order. Edges, x -> y:
//   kDurableOnlyIf   x is durable only if y is: a window member -> its barrier; a barrier -> the
//                    previous barrier and -> every member of the window it closes; for `prefix`, a
//                    member -> the member logged just before it in its window.
//   kOverwrittenBy   x's content is invisible whenever y is durable: y is the first later member of
//                    the same window whose sectors cover all of x's (same-sector overwrites).
//
// The durable sets a model allows at "any crash point" are exactly the ideals of the kDurableOnlyIf
// edges (sets closed under following them). Each barrier's window is its non-barrier in-neighbours:
// they are independent of each other (2^n ideals) or, for `prefix`, a chain (n+1 ideals). The
// segmenter (plan.h) enumerates and counts windows from here; kOverwrittenBy edges tell it which
// states are certainly identical (a state keeping x and y is the image of the state keeping only y).
//
// reorder:K (beyond the contract) keeps this graph and reads its windows differently: for a crash
// after barrier j, the K barriers before it are not honoured, so their kDurableOnlyIf edges do not hold
// and the states are the ideals of the graph where barriers j-K+1..j are plain members. Windows(K)
// gives, per barrier j, that merged window: its base is barrier j-K (the start of the log when j < K)
// and its members every content entry after it up to barrier j+1, the FUA barriers between included;
// its overwrites are found among all of those members.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

#include "models/model.h"
#include "models/rule.h"
#include "trace/log.h"

namespace torn::models {

enum class EdgeKind { kDurableOnlyIf, kOverwrittenBy };

struct VertexProps {
  size_t entry = kNoEntry;  // kNoEntry for the start of the log
  bool barrier = false;
};
struct EdgeProps {
  EdgeKind kind = EdgeKind::kDurableOnlyIf;
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, VertexProps,
                                    EdgeProps>;
using Vertex = Graph::vertex_descriptor;

struct Window {
  Vertex barrier = 0;                // vertex 0 for the window before the first barrier
  size_t barrier_entry = kNoEntry;   // its entry, kNoEntry for the start of the log
  size_t base_entry = kNoEntry;      // the barrier every state keeps: barrier_entry, or for reorder:K
                                     // the barrier K before it (kNoEntry: the start of the log)
  bool merged = false;               // reorder:K: members span more than one window of the graph
  size_t end = 0;                    // the next barrier's entry (or the log's size): the window is
                                     // the entries (barrier_entry, end)
  std::vector<size_t> members;       // content entries of the window, in log order
  bool chain = false;                // members form a chain (prefix) rather than being independent
};

class DependencyGraph {
 public:
  static DependencyGraph Build(const trace::Log& log, const Rule& rule);

  const Graph& graph() const { return g_; }
  // One window per barrier (and the start of the log), in log order, read off the edges; with
  // `reorder` K > 0, each merged with the K windows before it (above).
  std::vector<Window> Windows(uint32_t reorder = 0) const;
  // kOverwrittenBy edges among the members of `w`, as (x, y) entry pairs (for a merged window, the
  // same rule applied to all its members).
  std::vector<std::pair<size_t, size_t>> Overwrites(const Window& w) const;

 private:
  Graph g_;
  const trace::Log* log_ = nullptr;
  size_t log_size_ = 0;
  bool chain_ = false;  // windows are chains (prefix)
};

}  // namespace torn::models
