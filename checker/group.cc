// One group of the check (run.h, stages classify and judge): its members, their class keys, their
// verdicts, stored together.
//
// A group is a generated state that keeps its window's fixed units durable (models/model.h,
// CrashState::covers); its members start as the group itself. A member is a state plus the fixed
// entries it stands in for: it stands for every state that differs from it only in those entries
// (less the previous segment's state, and less a state split off as a member of its own). Rules:
//   1. the data oracle's exact state (oracles/data.h: the state at a manifest's mark) gets a member of
//      its own when a member's set holds it: its data verdict is judged against the whole manifest;
//   2. each member is analyzed on its image (classes/class_key.h) and the window's proof is checked
//      again for its fixed entries (classes/unit_proof.h); entries it fails for are split off: the
//      member becomes 2^k members, one per subset of them, each checked the same way (at most
//      kMaxSplit entries at once; beyond, the member stands for itself alone and the states it gave
//      up are counted as not covered);
//   3. a member whose key was judged before reuses that class's verdicts (waiting for them if they are
//      being judged); else it is judged by the oracles on its image, which is then put back.
#include <algorithm>

#include <fmt/core.h>

#include "checker/run_context.h"
#include "ext4/image_view.h"
#include "oracles/durable.h"

namespace torn::checker {
namespace {

using oracles::DurableView;
using oracles::Verdict;

constexpr size_t kMaxSplit = 12;

struct Member {
  models::CrashState state;
  std::vector<size_t> fixed;      // entries it stands in for, sorted
  bool may_hold_previous = false; // its set may hold the previous segment's state (the group's did)
  bool exact_checked = false;     // rule 1 done
  bool without_exact = false;     // the data rule's exact state was split off from its set
};

bool Dropped(const models::CrashState& s, size_t entry) {
  return std::binary_search(s.dropped.begin(), s.dropped.end(), entry);
}

void SetDurable(models::CrashState& s, size_t entry, bool durable) {
  auto it = std::lower_bound(s.dropped.begin(), s.dropped.end(), entry);
  bool dropped = it != s.dropped.end() && *it == entry;
  if (durable && dropped) s.dropped.erase(it);
  if (!durable && !dropped) s.dropped.insert(it, entry);
}

// Whether the member's set holds the previous segment's state: every unit of the window dropped.
bool HoldsPrevious(const Context& c, const Member& m) {
  if (!m.may_hold_previous) return false;
  for (const models::Unit& u : c.states->units(m.state.segment))
    if (!std::binary_search(m.fixed.begin(), m.fixed.end(), u.entry) && !Dropped(m.state, u.entry)) return false;
  return true;
}

models::BigCount Covers(const Context& c, const Member& m) {
  models::BigCount n = models::BigCount(1) << m.fixed.size();
  if (HoldsPrevious(c, m)) n -= 1;
  if (m.without_exact) n -= 1;
  return n;
}

// Rule 1: the data rule's exact state, if the member's set holds it (and it is not the previous
// segment's), as a member of its own; the rest of the set as another.
bool SplitExact(const Context& c, Member& m, std::deque<Member>& work) {
  m.exact_checked = true;
  if (!c.setup->data || m.fixed.empty()) return false;
  oracles::DataPlan::Applies a = c.setup->data->For(DurableView(m.state));
  if (!a.rule) return false;
  Member exact = m;
  for (size_t e : m.fixed) SetDurable(exact.state, e, e <= a.rule->mark_entry);
  if (!c.setup->data->For(DurableView(exact.state)).exact) return false;
  exact.fixed.clear();
  exact.may_hold_previous = false;
  bool exact_is_previous = HoldsPrevious(c, Member{exact.state, m.fixed, m.may_hold_previous}) &&
                           std::all_of(m.fixed.begin(), m.fixed.end(), [&](size_t e) { return Dropped(exact.state, e); });
  if (exact_is_previous) return false;
  Member rest = m;
  rest.without_exact = true;
  if (rest.state.dropped == exact.state.dropped) SetDurable(rest.state, m.fixed.front(), Dropped(rest.state, m.fixed.front()));
  if (Covers(c, rest) > 0) work.push_front(std::move(rest));
  work.push_front(std::move(exact));
  return true;
}

// Rule 2: the member split over the fixed entries `bad`, one member per subset of them.
void Split(const Member& m, const std::vector<size_t>& bad, std::deque<Member>& work) {
  std::vector<Member> parts;
  for (uint64_t mask = 0; mask < (uint64_t{1} << bad.size()); ++mask) {
    Member p = m;
    p.fixed.clear();
    std::set_difference(m.fixed.begin(), m.fixed.end(), bad.begin(), bad.end(), std::back_inserter(p.fixed));
    for (size_t k = 0; k < bad.size(); ++k) SetDurable(p.state, bad[k], mask >> k & 1);
    // The exact state, if split off, lies where the bad entries are as it has them; another part does
    // not lose it.
    if (m.without_exact) {
      p.without_exact = false;
      p.exact_checked = false;
    }
    parts.push_back(std::move(p));
  }
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) work.push_front(std::move(*it));
}

store::StoredState Record(const Context& c, const Member& m, uint64_t id) {
  store::StoredState rec;
  rec.state_id = id;
  rec.model = c.model;
  rec.segment = m.state.segment;
  rec.crash_point = m.state.crash_point;
  rec.base_end = m.state.base_end;
  rec.dropped.assign(m.state.dropped.begin(), m.state.dropped.end());
  nlohmann::json torn = nlohmann::json::array();
  for (const auto& t : m.state.torn) torn.push_back({{"entry", t.entry}, {"sectors", t.sectors}});
  rec.torn_json = torn.dump();
  rec.covers = Covers(c, m).str();
  rec.fixed.assign(m.fixed.begin(), m.fixed.end());
  return rec;
}

void AddVerdict(store::StoredState& rec, const Verdict& v, uint64_t owner) {
  std::string output = v.output;
  if (owner != rec.state_id) output = fmt::format("(verdict of state {}: the same class)\n", owner);
  rec.verdicts.push_back({std::string(oracles::OracleName(v.oracle)), v.ok, v.detail, output});
}

// Rule 3 for one member whose image is in place: its class's verdicts (judging them if it is the
// first), or a place in the queue of the lab VM's mount verdict.
Status JudgeMember(Context& c, StateImage& image, const classes::ClassKey& key,
                   const oracles::DataPlan::Applies& applies, std::shared_ptr<PendingGroup> group, size_t k) {
  store::StoredState& rec = group->members[k];
  std::shared_ptr<ClassVerdicts> cls;
  bool mine = false;
  {
    std::unique_lock lock(c.mu);
    auto& slot = c.by_class[key];
    if (!slot || !c.options->dedupe) {
      slot = std::make_shared<ClassVerdicts>();
      slot->owner = rec.state_id;
      mine = true;
    }
    cls = slot;
    if (!mine) {
      c.cv_class.wait(lock, [&] { return cls->done || !c.error.ok(); });
      if (!cls->done) return c.error;
    }
  }
  if (mine) {
    std::optional<TempFile> vm_copy;
    auto judged = JudgeImage(c, image, applies, rec.state_id, vm_copy);
    // Whatever the oracles did, the image goes back to the state's bytes before the next move.
    Status restored = image.Restore();
    if (judged.ok() && !restored.ok()) judged = restored.with_context(fmt::format("state {}", rec.state_id));
    if (!judged.ok()) {
      std::lock_guard lock(c.mu);
      c.by_class.erase(key);  // nobody may wait for a verdict that will not come
      c.cv_class.notify_all();
      return judged.status();
    }
    std::lock_guard lock(c.mu);
    cls->verdicts = std::move(judged).value();
    cls->done = true;
    cls->mount_pending = vm_copy.has_value();
    c.cv_class.notify_all();
    ++c.distinct;
    if (vm_copy) {
      c.vm_mount->Add(std::move(*vm_copy), [&c, cls](Verdict v) {
        std::vector<std::pair<std::shared_ptr<PendingGroup>, size_t>> parked;
        {
          std::lock_guard lock(c.mu);
          cls->verdicts.push_back(v);
          cls->mount_pending = false;
          parked.swap(cls->parked);
        }
        for (auto& [g, member] : parked) {
          bool last;
          {
            std::lock_guard lock(c.mu);
            for (const Verdict& x : cls->verdicts) AddVerdict(g->members[member], x, cls->owner);
            last = --g->waiting == 0;
          }
          if (last) TORN_RETURN_IF_ERROR(FinishGroup(c, *g));
        }
        return Status::Ok();
      });
    }
  } else {
    rec.reused_from = cls->owner;
    ++c.reused;
  }
  std::lock_guard lock(c.mu);
  if (cls->mount_pending) {  // filled in when the lab VM has judged the class's image
    cls->parked.emplace_back(group, k);
    ++group->waiting;
    return Status::Ok();
  }
  for (const Verdict& v : cls->verdicts) AddVerdict(rec, v, cls->owner);
  return Status::Ok();
}

}  // namespace

Status JudgeGroup(Context& c, StateImage* image, const models::CrashState& g) {
  auto group = std::make_shared<PendingGroup>();
  std::optional<Verdict> ordering;
  if (c.setup->ordering) ordering = c.setup->ordering->Check(DurableView(g));
  const classes::WindowFacts* facts = c.reducer ? c.reducer->facts(g.segment) : nullptr;

  std::deque<Member> work;
  Member first{g, {}, g.covers_previous};
  if (g.fixed) {
    std::span<const models::Unit> units = c.states->units(g.segment);
    const std::vector<uint8_t>& fixed = c.states->fixed(g.segment);
    for (size_t u = 0; u < units.size(); ++u)
      if (fixed[u]) first.fixed.push_back(units[u].entry);
  }
  work.push_back(std::move(first));
  std::vector<std::pair<Member, std::optional<classes::Analysis>>> done;
  while (!work.empty()) {
    Member m = std::move(work.front());
    work.pop_front();
    if (!m.exact_checked && SplitExact(c, m, work)) continue;
    store::StoredState rec = Record(c, m, MemberId(g.id, group->members.size()));
    if (ordering) rec.verdicts.push_back({"ordering", ordering->ok, ordering->detail, ordering->output});
    if (!image) {
      group->members.push_back(std::move(rec));
      continue;
    }
    TORN_RETURN_IF_ERROR(image->MoveTo(m.state, &c.states->segments()[m.state.segment])
                             .with_context(fmt::format("state {}", rec.state_id)));
    uint64_t digest = image->digest();
    rec.digest = fmt::format("{:016x}", digest);
    oracles::DataPlan::Applies applies;
    if (c.setup->data) applies = c.setup->data->For(DurableView(m.state));
    // The class key, with classes or without (then it is only recorded: states share verdicts by
    // their image's digest, and a test can check that equal keys got equal verdicts).
    ext4::ImageView view(image->fd(), image->bytes());
    classes::KeyOptions ko{.read_files = classes::ReadFiles(c.setup->data ? &*c.setup->data : nullptr,
                                                            m.state.crash_point, {}),
                           .data_key = applies.key(),
                           .raw_digest = digest};
    TORN_ASSIGN_OR_RETURN(classes::Analysis a, classes::Analyze(view, ko));
    rec.class_key = a.key.Hex();  // the raw image's key when the state could not be reduced
    classes::ClassKey key = c.reducer ? a.key : classes::RawKey(digest, applies.key());
    if (c.reducer && !m.fixed.empty()) {
      // The window's proof, again, on this member: entries it no longer holds for are split off.
      std::span<const models::Unit> units = c.states->units(m.state.segment);
      std::vector<uint8_t> try_units(units.size(), 0);
      for (size_t u = 0; u < units.size(); ++u)
        try_units[u] = std::binary_search(m.fixed.begin(), m.fixed.end(), units[u].entry);
      std::vector<classes::UnitProof> proofs = classes::ProveUnits(*facts, a, try_units);
      std::vector<size_t> bad;
      std::string why;
      for (size_t u = 0; u < units.size(); ++u) {
        if (!try_units[u] || proofs[u].kind != classes::UnitKind::kFree) continue;
        bad.push_back(units[u].entry);
        if (why.empty()) why = fmt::format("entry {}: {}", units[u].entry, proofs[u].why);
      }
      if (!bad.empty()) {
        if (bad.size() <= kMaxSplit) {
          Split(m, bad, work);
          continue;
        }
        // Too many to split: the member stands for itself alone.
        models::BigCount lost = Covers(c, m) - 1;
        m.fixed.clear();
        m.without_exact = false;
        rec.covers = "1";
        rec.fixed.clear();
        std::lock_guard lock(c.mu);
        c.lost_states += lost;
        c.lost_notes.push_back(fmt::format("state {}: the class proof failed for {} writes (first: {}); "
                                           "it stands for itself alone",
                                           rec.state_id, bad.size(), why));
      }
    }
    group->members.push_back(std::move(rec));
    TORN_RETURN_IF_ERROR(JudgeMember(c, *image, key, applies, group, group->members.size() - 1));
  }
  {
    std::lock_guard lock(c.mu);
    if (group->waiting > 0) return Status::Ok();  // stored by the last mount verdict (JudgeMember)
  }
  return FinishGroup(c, *group);
}

}  // namespace torn::checker
