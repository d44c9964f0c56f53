#include "lab/modules.h"

#include <fstream>
#include <sstream>

namespace torn::lab {
namespace {

std::vector<std::string> Words(std::string_view line) {
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

Result<std::string> Slurp(const std::string& path, bool required) {
  std::ifstream in(path);
  if (!in) {
    if (required) return IoError(path + ": cannot read (run depmod for this kernel)");
    return std::string();
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string ModuleName(std::string_view p) {
  size_t slash = p.rfind('/');
  if (slash != std::string_view::npos) p.remove_prefix(slash + 1);
  for (std::string_view suffix : {".xz", ".zst", ".gz"}) {
    if (p.ends_with(suffix)) p.remove_suffix(suffix.size());
  }
  if (p.ends_with(".ko")) p.remove_suffix(3);
  std::string name(p);
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

ModuleIndex ParseModuleIndex(std::string_view dep, std::string_view softdep, std::string_view alias,
                             std::string_view builtin) {
  ModuleIndex index;
  for (std::string_view line : Lines(dep)) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string path(line.substr(0, colon));
    std::string name = ModuleName(path);
    index.path[name] = path;
    auto& d = index.deps[name];
    for (const std::string& w : Words(line.substr(colon + 1))) d.push_back(ModuleName(w));
  }
  for (std::string_view line : Lines(softdep)) {
    std::vector<std::string> w = Words(line);
    if (w.size() < 3 || w[0] != "softdep") continue;
    std::string name = ModuleName(w[1]);
    bool pre = false;
    for (size_t i = 2; i < w.size(); ++i) {
      if (w[i] == "pre:") pre = true;
      else if (w[i] == "post:") pre = false;
      else if (pre) index.softdep_pre[name].push_back(w[i]);
    }
  }
  for (std::string_view line : Lines(alias)) {
    std::vector<std::string> w = Words(line);
    if (w.size() != 3 || w[0] != "alias") continue;
    if (w[1].find_first_of("*?[") != std::string::npos) continue;
    index.alias[w[1]].push_back(ModuleName(w[2]));
  }
  for (std::string_view line : Lines(builtin)) {
    if (!line.empty()) index.builtin.insert(ModuleName(line));
  }
  return index;
}

Result<ModuleIndex> ReadModuleIndex(const std::string& dir) {
  TORN_ASSIGN_OR_RETURN(std::string dep, Slurp(dir + "/modules.dep", true));
  TORN_ASSIGN_OR_RETURN(std::string soft, Slurp(dir + "/modules.softdep", false));
  TORN_ASSIGN_OR_RETURN(std::string alias, Slurp(dir + "/modules.alias", false));
  TORN_ASSIGN_OR_RETURN(std::string builtin, Slurp(dir + "/modules.builtin", false));
  return ParseModuleIndex(dep, soft, alias, builtin);
}

namespace {

struct Resolver {
  const ModuleIndex& index;
  std::vector<ModuleFile> order;
  std::map<std::string, size_t> done;  // name -> index in order
  std::set<std::string> visiting;

  // Rule 2's soft dependency: a module name, or every module an alias names.
  std::vector<std::string> ResolveSoft(const std::string& s) const {
    std::string name = ModuleName(s);
    if (index.path.count(name) || index.builtin.count(name)) return {name};
    std::vector<std::string> out;
    if (auto a = index.alias.find(s); a != index.alias.end()) {
      for (const std::string& m : a->second) {
        if (index.path.count(m)) out.push_back(m);
      }
    }
    return out;
  }

  Status Visit(const std::string& name, bool optional) {
    if (index.builtin.count(name)) return Status::Ok();
    if (auto d = done.find(name); d != done.end()) {
      if (!optional) order[d->second].optional = false;  // a hard need makes it required
      return Status::Ok();
    }
    auto p = index.path.find(name);
    if (p == index.path.end()) return BadInput("kernel module " + name + " is neither built in nor in modules.dep");
    if (!visiting.insert(name).second) return BadInput("kernel module " + name + ": dependency cycle");
    if (auto s = index.softdep_pre.find(name); s != index.softdep_pre.end()) {
      for (const std::string& soft : s->second) {
        for (const std::string& m : ResolveSoft(soft)) TORN_RETURN_IF_ERROR(Visit(m, true));
      }
    }
    if (auto d = index.deps.find(name); d != index.deps.end()) {
      for (const std::string& dep : d->second) TORN_RETURN_IF_ERROR(Visit(dep, optional));
    }
    visiting.erase(name);
    done[name] = order.size();
    order.push_back({p->second, optional});
    return Status::Ok();
  }
};

}  // namespace

Result<std::vector<ModuleFile>> ResolveModules(const ModuleIndex& index,
                                               const std::vector<std::string>& names) {
  Resolver r{index, {}, {}, {}};
  for (const std::string& n : names) TORN_RETURN_IF_ERROR(r.Visit(ModuleName(n), false));
  return r.order;
}

}  // namespace torn::lab
