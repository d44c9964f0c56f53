#include "oracles/mount_batch.h"

#include <algorithm>
#include <vector>

namespace torn::oracles {

MountBatcher::MountBatcher(VmMountOptions options, size_t batch, std::function<void(const Status&)> on_error)
    : options_(std::move(options)), batch_(std::max<size_t>(1, batch)), on_error_(std::move(on_error)) {
  thread_ = std::thread([this] { Loop(); });
}

MountBatcher::~MountBatcher() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    closing_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MountBatcher::Add(TempFile image, Done done, AfterKernel after) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;  // an error stopped the batcher; the run is failing already
    queue_.push_back({std::move(image), std::move(done), std::move(after)});
  }
  cv_.notify_all();
}

Status MountBatcher::Close() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  return error_;
}

uint64_t MountBatcher::boots() const {
  std::lock_guard lock(mu_);
  return boots_;
}

uint64_t MountBatcher::judged() const {
  std::lock_guard lock(mu_);
  return judged_;
}

void MountBatcher::Loop() {
  for (;;) {
    std::vector<Item> items;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopped_ || closing_ || queue_.size() >= batch_; });
      if (stopped_ || queue_.empty()) return;
      size_t n = std::min(batch_, queue_.size());
      for (size_t i = 0; i < n; ++i) {
        items.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<MountImage> images;
    for (const Item& it : items) images.push_back({it.image.path(), it.after});
    Status st;
    auto r = MountInVm(images, options_);
    if (!r.ok()) {
      st = r.status().with_context("mount oracle in the lab VM");
    } else if (r->verdicts.size() != items.size() || r->after.size() != items.size()) {
      st = Internal("mount oracle in the lab VM: " + std::to_string(r->verdicts.size()) + " verdicts for " +
                    std::to_string(items.size()) + " images");
    } else {
      {
        std::lock_guard lock(mu_);
        boots_ += r->boots;
        judged_ += items.size();
      }
      for (size_t i = 0; i < items.size() && st.ok(); ++i) st = items[i].done(std::move(r->verdicts[i]), std::move(r->after[i]));
    }
    if (!st.ok()) {
      {
        std::lock_guard lock(mu_);
        error_ = st;
        stopped_ = true;
        queue_.clear();
      }
      if (on_error_) on_error_(st);
      return;
    }
  }
}

}  // namespace torn::oracles
