#include "models/dependency_graph.h"

#include <algorithm>
#include <map>

namespace torn::models {
namespace {

void AddEdge(Graph& g, Vertex x, Vertex y, EdgeKind kind) { boost::add_edge(x, y, EdgeProps{kind}, g); }

// Calls link(x, y) for each earlier member x whose sectors lie inside the later member y's, y being
// the first such member. `open` maps a start sector to the members (entries) not yet covered.
template <typename Link>
void FindOverwrites(const trace::Log& log, std::multimap<uint64_t, size_t>& open, size_t y, Link link) {
  const trace::Entry& e = log.entry(y);
  uint64_t lo = e.sector, hi = e.sector + e.nr_sectors;
  for (auto it = open.lower_bound(lo); it != open.end() && it->first < hi;) {
    const trace::Entry& x = log.entry(it->second);
    if (x.sector + x.nr_sectors <= hi) {
      link(it->second, y);
      it = open.erase(it);
    } else {
      ++it;
    }
  }
  open.emplace(lo, y);
}

}  // namespace

DependencyGraph DependencyGraph::Build(const trace::Log& log, const Rule& rule) {
  DependencyGraph d;
  d.log_size_ = log.size();
  d.log_ = &log;
  d.chain_ = rule.window == WindowKind::kPrefixes;
  Graph& g = d.g_;
  Vertex barrier = boost::add_vertex(VertexProps{kNoEntry, true}, g);
  std::vector<Vertex> window;
  std::multimap<uint64_t, size_t> open;  // members not yet overwritten, by start sector
  std::map<size_t, Vertex> vertex_of;    // the window's members
  for (size_t i = 0; i < log.size(); ++i) {
    const trace::Entry& e = log.entry(i);
    bool is_barrier = rule.is_barrier(e);
    if (!is_barrier && !e.changes_content()) continue;
    Vertex v = boost::add_vertex(VertexProps{i, is_barrier}, g);
    if (is_barrier) {
      AddEdge(g, v, barrier, EdgeKind::kDurableOnlyIf);
      for (Vertex m : window) AddEdge(g, v, m, EdgeKind::kDurableOnlyIf);
      window.clear();
      open.clear();
      vertex_of.clear();
      barrier = v;
      continue;
    }
    AddEdge(g, v, barrier, EdgeKind::kDurableOnlyIf);
    if (rule.window == WindowKind::kPrefixes && !window.empty())
      AddEdge(g, v, window.back(), EdgeKind::kDurableOnlyIf);
    vertex_of[i] = v;
    FindOverwrites(log, open, i, [&](size_t x, size_t y) {
      AddEdge(g, vertex_of[x], vertex_of[y], EdgeKind::kOverwrittenBy);
    });
    window.push_back(v);
  }
  return d;
}

std::vector<Window> DependencyGraph::Windows(uint32_t reorder) const {
  std::vector<Window> out;
  for (Vertex b : boost::make_iterator_range(boost::vertices(g_))) {
    if (!g_[b].barrier) continue;
    Window w;
    w.barrier = b;
    w.barrier_entry = w.base_entry = g_[b].entry;
    for (auto e : boost::make_iterator_range(boost::in_edges(b, g_))) {
      Vertex m = boost::source(e, g_);
      if (g_[e].kind != EdgeKind::kDurableOnlyIf || g_[m].barrier) continue;
      w.members.push_back(g_[m].entry);
    }
    w.chain = chain_;
    std::sort(w.members.begin(), w.members.end());
    if (!out.empty()) out.back().end = w.barrier_entry;
    out.push_back(std::move(w));
  }
  if (!out.empty()) out.back().end = log_size_;
  if (reorder == 0) return out;
  // reorder:K: window j's members are those of windows j-K..j and the content barriers j-K+1..j.
  std::vector<Window> merged = out;
  for (size_t j = 0; j < out.size(); ++j) {
    size_t from = j >= reorder ? j - reorder : 0;
    Window& w = merged[j];
    w.base_entry = out[from].barrier_entry;
    w.merged = from < j;
    w.members.clear();
    for (size_t i = from; i <= j; ++i) {
      if (i > from && log_->entry(out[i].barrier_entry).changes_content()) w.members.push_back(out[i].barrier_entry);
      w.members.insert(w.members.end(), out[i].members.begin(), out[i].members.end());
    }
  }
  return merged;
}

std::vector<std::pair<size_t, size_t>> DependencyGraph::Overwrites(const Window& w) const {
  std::vector<std::pair<size_t, size_t>> out;
  if (w.merged) {
    std::multimap<uint64_t, size_t> open;
    for (size_t m : w.members) FindOverwrites(*log_, open, m, [&](size_t x, size_t y) { out.emplace_back(x, y); });
    std::sort(out.begin(), out.end());
    return out;
  }
  for (auto e : boost::make_iterator_range(boost::in_edges(w.barrier, g_))) {
    Vertex x = boost::source(e, g_);
    if (g_[e].kind != EdgeKind::kDurableOnlyIf || g_[x].barrier) continue;
    for (auto o : boost::make_iterator_range(boost::out_edges(x, g_)))
      if (g_[o].kind == EdgeKind::kOverwrittenBy)
        out.emplace_back(g_[x].entry, g_[boost::target(o, g_)].entry);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace torn::models
