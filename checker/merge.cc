// torn merge (merge.h): validate the inputs' runs as the shards of one check, then import them whole
// into OUT under the whole check's key.
#include "checker/merge.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "checker/shard.h"
#include "models/model.h"
#include "store/store.h"

namespace torn::checker {
namespace {

// One run of one input file, with its key taken apart.
struct InputRun {
  std::string path;
  store::Store* db = nullptr;
  store::StoredRun run;
  nlohmann::json base;          // the key without "shard"
  std::optional<Shard> shard;   // none: a whole check
  nlohmann::json plan;
  std::string Name() const { return shard ? fmt::format("{} (shard {})", path, shard->str()) : path; }
};

// The plan's fields every shard of a check has alike (their key's consequences); the others are the
// shard's own figures.
constexpr const char* kPerShard[] = {"generated", "shard", "lost_states", "lost_notes", "seconds",
                                     "verified", "mount_boots", "reused_after_replay", "trace", "windows"};

nlohmann::json Common(nlohmann::json plan) {
  for (const char* k : kPerShard) plan.erase(k);
  return plan;
}

// "another trace" or "other options (model, oracles)": how two run keys differ.
std::string KeyDifference(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.value("log_sha256", "") != b.value("log_sha256", "")) return "another trace (its log's SHA-256 differs)";
  std::vector<std::string> fields;
  for (const auto& [k, v] : a.items())
    if (!b.contains(k) || b[k] != v) fields.push_back(k);
  for (const auto& [k, v] : b.items())
    if (!a.contains(k)) fields.push_back(k);
  std::string list;
  for (const auto& f : fields) list += (list.empty() ? "" : ", ") + f;
  return "other options (" + list + ")";
}

// Lane-wise sum of RunDigest values (store_merge.cc, rule 3).
std::string AddDigests(const std::string& a, const std::string& b) {
  std::string out;
  for (size_t lane = 0; lane < 4; ++lane)
    out += fmt::format("{:016x}", std::stoull(a.substr(lane * 16, 16), nullptr, 16) +
                                      std::stoull(b.substr(lane * 16, 16), nullptr, 16));
  return out;
}

Status Exists(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return BadInput(path + ": no such database");
  return Status::Ok();
}

// Invariant 4: owners (states judged by the oracles) of one class key in two shards with different
// image verdicts.
Result<std::vector<std::string>> Disagreements(const std::vector<InputRun>& runs) {
  struct Owner {
    std::string shard;
    uint64_t state;
    std::string verdicts;
  };
  std::map<std::string, Owner> first;
  std::vector<std::string> out;
  for (const InputRun& in : runs) {
    if (!in.plan.value("classes", false)) return out;  // keys of raw images: nothing to compare
    TORN_ASSIGN_OR_RETURN(auto states, in.db->LoadStates(in.run.id, /*outputs=*/false));
    for (const auto& s : states) {
      if (s.reused_from || s.digest.empty() || s.class_key.empty()) continue;
      std::string verdicts;
      for (const auto& v : s.verdicts)
        if (v.oracle != "ordering") verdicts += fmt::format("{} {}{}; ", v.oracle, v.ok ? "ok" : "failed: ", v.detail);
      auto [it, fresh] = first.try_emplace(s.class_key, Owner{in.Name(), s.state_id, verdicts});
      if (!fresh && it->second.verdicts != verdicts)
        out.push_back(fmt::format("classes: class {} got other verdicts in {} (state {}: {}) than in {} (state {}: {}); "
                                  "check it with torn check --verify-classes",
                                  s.class_key.substr(0, 16), in.Name(), s.state_id, verdicts, it->second.shard,
                                  it->second.state, it->second.verdicts));
    }
  }
  return out;
}

// The whole check's plan from its shards' (sorted by shard): the common part, the figures summed.
nlohmann::json MergedPlan(const std::vector<InputRun>& shards, const std::vector<std::string>& warnings) {
  nlohmann::json plan = shards.front().plan;
  uint64_t generated = 0, verified = 0, boots = 0, reused = 0;
  double seconds = 0;
  models::BigCount lost = 0;
  std::vector<std::string> lost_notes;
  for (const InputRun& in : shards) {
    const nlohmann::json& p = in.plan;
    generated += p.value("generated", uint64_t{0});
    verified += p.value("verified", uint64_t{0});
    boots += p.value("mount_boots", uint64_t{0});
    reused += p.value("reused_after_replay", uint64_t{0});
    seconds += p.value("seconds", 0.0);
    lost += models::BigCount(p.value("lost_states", std::string("0")));
    for (const auto& n : p.value("lost_notes", std::vector<std::string>{})) lost_notes.push_back(n);
    if (&in != &shards.front())
      for (size_t w = 0; w < plan["windows"].size(); ++w)
        plan["windows"][w]["generated"] = plan["windows"][w]["generated"].get<uint64_t>() +
                                          p["windows"][w]["generated"].get<uint64_t>();
  }
  plan["generated"] = generated;
  plan["verified"] = verified;
  plan["mount_boots"] = boots;
  plan["reused_after_replay"] = reused;
  plan["seconds"] = seconds;
  plan["lost_states"] = lost.str();
  plan["lost_notes"] = lost_notes;
  plan["shard"] = "";
  for (const auto& w : warnings) plan["notes"].push_back(w);
  return plan;
}

}  // namespace

Result<MergeOutcome> MergeShards(const std::string& out, const std::vector<std::string>& inputs) {
  if (inputs.empty()) return BadInput("torn merge: give the shards' databases after OUT");
  std::vector<std::unique_ptr<store::Store>> dbs;
  std::vector<InputRun> runs;
  for (const std::string& path : inputs) {
    TORN_RETURN_IF_ERROR(Exists(path));
    TORN_ASSIGN_OR_RETURN(store::Store db, store::Store::Open(path));
    dbs.push_back(std::make_unique<store::Store>(std::move(db)));
    TORN_ASSIGN_OR_RETURN(auto stored, dbs.back()->Runs());
    if (stored.empty()) return BadInput(path + ": holds no run of torn check");
    for (auto& r : stored) {
      InputRun in{.path = path, .db = dbs.back().get(), .run = std::move(r)};
      in.base = nlohmann::json::parse(in.run.key, nullptr, false);
      if (!in.base.is_object()) return BadInput(fmt::format("{}: run {} has a key torn did not write", path, in.run.id));
      if (in.base.contains("shard")) {
        auto shard = ParseShard(in.base["shard"].get<std::string>());
        if (!shard.ok()) return BadInput(fmt::format("{}: run {}: {}", path, in.run.id, shard.status().message()));
        in.shard = *shard;
        in.base.erase("shard");
      }
      if (!in.run.finished)
        return BadInput(fmt::format("{} did not finish ({} states stored): run its torn check{} --db {} again to "
                                    "resume it, then merge",
                                    in.Name(), in.run.states, in.shard ? " --shard " + in.shard->str() : "", path));
      in.plan = nlohmann::json::parse(in.run.plan, nullptr, false);
      if (!in.plan.is_object())
        return BadInput(fmt::format("{} has no plan (stored by a torn from before torn merge): run its check again",
                                    in.Name()));
      runs.push_back(std::move(in));
    }
  }
  // One check.
  for (const InputRun& in : runs)
    if (in.base != runs.front().base)
      return BadInput(fmt::format("{} is not a part of the check in {}: {}", in.Name(), runs.front().Name(),
                                  KeyDifference(runs.front().base, in.base)));
  // The shards of one split, each once, all there; or one whole run.
  std::vector<InputRun> parts;
  auto whole = std::find_if(runs.begin(), runs.end(), [](const InputRun& r) { return !r.shard; });
  if (whole != runs.end()) {
    for (const InputRun& in : runs)
      if (&in != &*whole && !(in.path == whole->path && in.run.id == whole->run.id))
        return BadInput(fmt::format("{} holds the whole check (unsharded or merged) and {} overlaps it: merge the "
                                    "shards or the whole run, not both",
                                    whole->Name(), in.Name()));
    parts.push_back(*whole);
  } else {
    uint32_t n = runs.front().shard->count;
    std::vector<const InputRun*> by_index(n + 1, nullptr);
    for (const InputRun& in : runs) {
      if (in.shard->count != n)
        return BadInput(fmt::format("{} and {} come from splits into {} and {} shards: they overlap; merge the "
                                    "shards of one split",
                                    runs.front().Name(), in.Name(), n, in.shard->count));
      const InputRun*& slot = by_index[in.shard->index];
      if (slot && !(slot->path == in.path && slot->run.id == in.run.id))
        return BadInput(fmt::format("shard {} is given twice: in {} and in {}", in.shard->str(), slot->path, in.path));
      slot = &in;
    }
    std::string missing;
    for (uint32_t k = 1; k <= n; ++k)
      if (!by_index[k]) missing += (missing.empty() ? "" : ", ") + Shard{k, n}.str();
    if (!missing.empty()) return BadInput(fmt::format("shards missing: {} (of {} given)", missing, runs.size()));
    for (uint32_t k = 1; k <= n; ++k) parts.push_back(*by_index[k]);
  }
  for (const InputRun& in : parts)
    if (Common(in.plan) != Common(parts.front().plan))
      return BadInput(fmt::format("{} and {} planned different checks with the same options (were they made by "
                                  "different torn versions?)",
                                  parts.front().Name(), in.Name()));

  MergeOutcome outcome;
  std::string digest(64, '0');
  for (const InputRun& in : parts) {
    TORN_ASSIGN_OR_RETURN(std::string d, in.db->RunDigest(in.run.id));
    digest = AddDigests(digest, d);
    outcome.states += in.run.states;
    outcome.inputs.push_back(fmt::format("{}: {}, {} states, {:.1f} s", in.path,
                                         in.shard ? "shard " + in.shard->str() : std::string("the whole check"),
                                         in.run.states, in.plan.value("seconds", 0.0)));
  }
  if (parts.size() > 1) {
    TORN_ASSIGN_OR_RETURN(outcome.warnings, Disagreements(parts));
  }

  store::StoredRun merged = parts.front().run;
  merged.key = parts.front().base.dump();
  if (parts.size() > 1) {
    nlohmann::json options = nlohmann::json::parse(merged.options, nullptr, false);
    if (!options.is_object()) options = nlohmann::json::object();
    options.erase("shard");
    options["merged_from"] = nlohmann::json::array();
    for (const InputRun& in : parts) options["merged_from"].push_back(in.path + " " + in.shard->str());
    merged.options = options.dump();
    merged.plan = MergedPlan(parts, outcome.warnings).dump();
    merged.generated = 0;
    for (const InputRun& in : parts) merged.generated += in.run.generated;
  }

  TORN_ASSIGN_OR_RETURN(store::Store db, store::Store::Open(out));
  TORN_ASSIGN_OR_RETURN(auto have, db.Runs());
  for (const auto& r : have) {
    if (r.key != merged.key) continue;
    TORN_ASSIGN_OR_RETURN(std::string d, db.RunDigest(r.id));
    if (!r.finished || r.states != outcome.states || d != digest)
      return BadInput(fmt::format("{} already holds this check (run {}, {} states{}) with other results: merge into "
                                  "a new file",
                                  out, r.id, r.states, r.finished ? "" : ", not finished"));
    outcome.run_id = r.id;
    outcome.unchanged = true;
    return outcome;
  }
  std::vector<std::pair<store::Store*, int64_t>> sources;
  for (const InputRun& in : parts) sources.emplace_back(in.db, in.run.id);
  auto id = db.ImportRun(merged, sources);
  if (!id.ok()) return id.status().with_context("merging into " + out);
  outcome.run_id = *id;
  return outcome;
}

Result<int64_t> OnlyRun(const std::string& path) {
  TORN_RETURN_IF_ERROR(Exists(path));
  TORN_ASSIGN_OR_RETURN(store::Store db, store::Store::Open(path));
  TORN_ASSIGN_OR_RETURN(auto runs, db.Runs());
  if (runs.size() == 1) return runs.front().id;
  if (runs.empty()) return BadInput(path + ": holds no run of torn check");
  std::string list;
  for (const auto& r : runs) list += fmt::format("\n  run {}: {} states, key {}", r.id, r.states, r.key);
  return BadInput(path + " holds several runs; merge the one you mean into a file of its own:" + list);
}

}  // namespace torn::checker
