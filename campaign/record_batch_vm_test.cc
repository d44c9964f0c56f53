// Labelled vm: boots the lab VM.
#include "campaign/record_batch.h"

#include <gtest/gtest.h>

#include <iostream>

#include "base/temp_file.h"
#include "trace/expectations.h"
#include "trace/log.h"

namespace torn::campaign {
namespace {

// Three workloads in one boot, one trace each, with the runner's marks and promises.
TEST(RecordBatchVm, ThreeWorkloadsOneBoot) {
  auto dir = TempDir::Create("torn-batch-test-");
  ASSERT_TRUE(dir.ok());
  std::vector<BatchItem> items = {
      {"creat f0\nwrite f0 0 4096\nfsync f0\n", dir->path() + "/t0"},
      {"mkdir d0\ncreat d0/f0\nfsync d0\nrename d0/f0 d0/f1\nsync\n", dir->path() + "/t1"},
      {"creat f0\npwrite f0 0 4096 direct\nunlink nothere\n", dir->path() + "/t2"},
  };
  auto r = RecordBatch({}, items);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->items.size(), 3u);
  for (const auto& it : r->items) EXPECT_TRUE(it.status.ok()) << it.status.message() << "\n" << r->console;
  EXPECT_EQ(r->items[2].runner_exit, 1);
  ASSERT_EQ(r->items[2].op_failures.size(), 1u);
  auto log0 = trace::Log::Open(items[0].out);
  ASSERT_TRUE(log0.ok()) << log0.status().message();
  std::vector<std::string> marks;
  for (const auto& m : log0->marks()) marks.push_back(m.name);
  EXPECT_EQ(marks, (std::vector<std::string>{"mkfs", "op3-fsync", "end", "umount", "dm-log-writes-end"}));
  auto e0 = trace::ReadExpectations(items[0].out + "/expectations.json");
  ASSERT_TRUE(e0.ok());
  ASSERT_EQ(e0->at("op3-fsync").files.size(), 1u);
  EXPECT_EQ(e0->at("op3-fsync").files[0].size, 4096u);
  auto e1 = trace::ReadExpectations(items[1].out + "/expectations.json");
  ASSERT_TRUE(e1.ok());
  EXPECT_TRUE(e1->at("op3-fsync").files.at(0).any_content);
  EXPECT_EQ(e1->at("op5-sync").files.at(0).path, "d0/f1");
  std::cerr << "boot " << r->boot_seconds << " s, guest " << r->guest_seconds << " s, all " << r->seconds
            << " s\n";
}

}  // namespace
}  // namespace torn::campaign
