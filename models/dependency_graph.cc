#include "models/dependency_graph.h"

#include <algorithm>
#include <map>

namespace torn::models {
namespace {

void AddEdge(Graph& g, Vertex x, Vertex y, EdgeKind kind) { boost::add_edge(x, y, EdgeProps{kind}, g); }

// Adds x -> y kOverwrittenBy for each earlier member x whose sectors lie inside the later member y's,
// y being the first such member. `open` maps a start sector to the members not yet covered.
void LinkOverwrites(Graph& g, const trace::Log& log, std::multimap<uint64_t, Vertex>& open, Vertex y) {
  const trace::Entry& e = log.entry(g[y].entry);
  uint64_t lo = e.sector, hi = e.sector + e.nr_sectors;
  for (auto it = open.lower_bound(lo); it != open.end() && it->first < hi;) {
    const trace::Entry& x = log.entry(g[it->second].entry);
    if (x.sector + x.nr_sectors <= hi) {
      AddEdge(g, it->second, y, EdgeKind::kOverwrittenBy);
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
  d.chain_ = rule.window == WindowKind::kPrefixes;
  Graph& g = d.g_;
  Vertex barrier = boost::add_vertex(VertexProps{kNoEntry, true}, g);
  std::vector<Vertex> window;
  std::multimap<uint64_t, Vertex> open;  // members not yet overwritten, by start sector
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
      barrier = v;
      continue;
    }
    AddEdge(g, v, barrier, EdgeKind::kDurableOnlyIf);
    if (rule.window == WindowKind::kPrefixes && !window.empty())
      AddEdge(g, v, window.back(), EdgeKind::kDurableOnlyIf);
    LinkOverwrites(g, log, open, v);
    window.push_back(v);
  }
  return d;
}

std::vector<Window> DependencyGraph::Windows() const {
  std::vector<Window> out;
  for (Vertex b : boost::make_iterator_range(boost::vertices(g_))) {
    if (!g_[b].barrier) continue;
    Window w;
    w.barrier = b;
    w.barrier_entry = g_[b].entry;
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
  return out;
}

std::vector<std::pair<size_t, size_t>> DependencyGraph::Overwrites(const Window& w) const {
  std::vector<std::pair<size_t, size_t>> out;
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
