// One group of the check (run.h, stages classify and judge): its members, their class keys, their
// verdicts, stored together.
//
// The members of a group and their covers are classes/members.h's (rule 1: the data oracle's exact
// state is a member of its own; rule 2: the window's proof checked again on each member's image, a
// failing entry splits it). What is left here is rule 3: a member whose key was judged before reuses
// that class's verdicts (waiting for them if they are being judged); else it is judged by the oracles
// on its image, which is then put back.
#include <algorithm>

#include <fmt/core.h>

#include "checker/run_context.h"
#include "classes/members.h"
#include "ext4/image_view.h"
#include "oracles/durable.h"
#include "triage/signature.h"

namespace torn::checker {
namespace {

using oracles::DurableView;
using oracles::Verdict;

store::StoredState Record(const Context& c, const classes::GroupMembers& members, const classes::Member& m,
                          uint64_t id) {
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
  rec.covers = members.Covers(m).str();
  rec.fixed.assign(m.fixed.begin(), m.fixed.end());
  return rec;
}

void AddVerdict(const Context& c, store::StoredState& rec, const Verdict& v, uint64_t owner) {
  // --match reads the class's output: the member's own names only the state judged (match.h).
  if (c.match) c.match->Note(rec.state_id, oracles::OracleName(v.oracle), v.ok, v.detail, v.output);
  std::string output = v.output;
  if (owner != rec.state_id) output = fmt::format("(verdict of state {}: the same class)\n", owner);
  rec.verdicts.push_back({std::string(oracles::OracleName(v.oracle)), v.ok, v.detail, output, v.signature});
}

// Each verdict's signature, once per judged class (or group, for ordering): its members copy it.
void Sign(Verdict& v) {
  if (!v.ok && v.signature.empty()) v.signature = triage::SignatureOf(v);
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
    std::optional<VmRequest> vm;
    auto judged = JudgeImage(c, image, applies, rec.state_id, vm);
    // Whatever the oracles did, the image goes back to the state's bytes before the next move.
    Status restored = image.Restore();
    if (judged.ok() && !restored.ok()) judged = restored.with_context(fmt::format("state {}", rec.state_id));
    if (!judged.ok()) {
      std::lock_guard lock(c.mu);
      c.by_class.erase(key);  // nobody may wait for a verdict that will not come
      c.cv_class.notify_all();
      return judged.status();
    }
    for (Verdict& v : *judged) Sign(v);
    std::lock_guard lock(c.mu);
    cls->verdicts = std::move(judged).value();
    cls->done = true;
    cls->mount_pending = vm.has_value();
    c.cv_class.notify_all();
    ++c.distinct;
    if (vm) {
      auto replay = vm->replay;
      auto hook = replay ? oracles::JudgeAfterKernel(*replay) : nullptr;  // fsck and data after the kernel
      auto done = [&c, cls, keep_mount = vm->keep_mount, replay](Verdict mount, std::vector<Verdict> after) {
        std::vector<Verdict> vs;
        if (replay) vs = oracles::KernelReplayVerdicts(mount, std::move(after), *replay);
        if (keep_mount) vs.push_back(std::move(mount));
        for (Verdict& v : vs) Sign(v);
        std::vector<std::pair<std::shared_ptr<PendingGroup>, size_t>> parked;
        {
          std::lock_guard lock(c.mu);
          for (Verdict& v : vs) cls->verdicts.push_back(std::move(v));
          cls->mount_pending = false;
          parked.swap(cls->parked);
        }
        for (auto& [g, member] : parked) {
          bool last;
          {
            std::lock_guard lock(c.mu);
            for (const Verdict& x : cls->verdicts) AddVerdict(c, g->members[member], x, cls->owner);
            last = --g->waiting == 0;
          }
          if (last) TORN_RETURN_IF_ERROR(FinishGroup(c, *g));
        }
        return Status::Ok();
      };
      c.vm_mount->Add(std::move(vm->copy), std::move(done), std::move(hook));
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
  for (const Verdict& v : cls->verdicts) AddVerdict(c, rec, v, cls->owner);
  return Status::Ok();
}

}  // namespace

Status JudgeGroup(Context& c, StateImage* image, const models::CrashState& g) {
  auto group = std::make_shared<PendingGroup>();
  std::optional<Verdict> ordering;
  if (c.setup->ordering) ordering = c.setup->ordering->Check(DurableView(g));
  if (ordering) Sign(*ordering);
  const classes::WindowFacts* facts = c.reducer ? c.reducer->facts(g.segment) : nullptr;

  std::vector<const oracles::DataPlan*> plans;
  if (c.setup->data) plans.push_back(&*c.setup->data);
  classes::GroupMembers members(*c.states, g, std::move(plans), facts);
  while (std::optional<classes::Member> next = members.Next()) {
    classes::Member& m = *next;
    store::StoredState rec = Record(c, members, m, MemberId(g.id, group->members.size()));
    if (ordering)
      rec.verdicts.push_back({"ordering", ordering->ok, ordering->detail, ordering->output, ordering->signature});
    if (ordering && c.match) c.match->Note(rec.state_id, "ordering", ordering->ok, ordering->detail, ordering->output);
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
    // The window's proof, again, on this member (without a reduction it has no fixed entries).
    classes::Reproof proof = members.Prove(m, a);
    if (proof.outcome == classes::Reproof::Outcome::kSplit) continue;
    if (proof.outcome == classes::Reproof::Outcome::kAlone) {
      rec.covers = members.Covers(m).str();
      rec.fixed.clear();
      std::lock_guard lock(c.mu);
      c.lost_states += proof.lost;
      c.lost_notes.push_back(fmt::format("state {}: the class proof failed for {} writes (first: {}); "
                                         "it stands for itself alone",
                                         rec.state_id, proof.failed, proof.why));
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
