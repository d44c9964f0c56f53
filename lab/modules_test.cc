#include "lab/modules.h"

#include <gtest/gtest.h>

namespace torn::lab {
namespace {

// A slice of Debian 6.1's modules.dep and modules.softdep (depmod lists transitive dependencies).
constexpr const char* kDep =
    "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko\n"
    "kernel/lib/crc16.ko:\n"
    "kernel/fs/mbcache.ko:\n"
    "kernel/fs/jbd2/jbd2.ko:\n"
    "kernel/crypto/crc32c_generic.ko:\n"
    "kernel/arch/x86/crypto/crc32c-intel.ko:\n"
    "kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko "
    "kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko "
    "kernel/drivers/virtio/virtio_ring.ko\n"
    "kernel/drivers/virtio/virtio_pci_legacy_dev.ko:\n"
    "kernel/drivers/virtio/virtio_pci_modern_dev.ko:\n"
    "kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko\n"
    "kernel/drivers/virtio/virtio_ring.ko:\n"
    "kernel/drivers/md/dm-mod.ko:\n"
    "kernel/drivers/md/dm-log-writes.ko: kernel/drivers/md/dm-mod.ko\n";
constexpr const char* kSoft = "# comment\nsoftdep ext4 pre: crypto-crc32c\nsoftdep jbd2 pre: crypto-crc32c\n";
constexpr const char* kAlias = "alias crypto-crc32c crc32c_intel\nalias crypto-crc32c crc32c_generic\nalias pci:v*d* virtio_pci\n";
constexpr const char* kBuiltin = "kernel/drivers/block/virtio_blk.ko\n";

size_t Pos(const std::vector<ModuleFile>& v, const std::string& s) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].path == s) return i;
  }
  return v.size();
}

TEST(Modules, Names) {
  EXPECT_EQ(ModuleName("kernel/drivers/md/dm-mod.ko"), "dm_mod");
  EXPECT_EQ(ModuleName("dm-log-writes"), "dm_log_writes");
  EXPECT_EQ(ModuleName("x/foo.ko.xz"), "foo");
}

TEST(Modules, DependenciesLoadFirst) {
  ModuleIndex index = ParseModuleIndex(kDep, kSoft, kAlias, kBuiltin);
  auto r = ResolveModules(index, {"virtio_pci", "dm-log-writes", "ext4"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& v = *r;
  EXPECT_LT(Pos(v, "kernel/drivers/virtio/virtio_ring.ko"), Pos(v, "kernel/drivers/virtio/virtio.ko"));
  EXPECT_LT(Pos(v, "kernel/drivers/virtio/virtio.ko"), Pos(v, "kernel/drivers/virtio/virtio_pci.ko"));
  EXPECT_LT(Pos(v, "kernel/drivers/md/dm-mod.ko"), Pos(v, "kernel/drivers/md/dm-log-writes.ko"));
  // The softdep through the alias: crc32c_generic before jbd2 and ext4.
  EXPECT_LT(Pos(v, "kernel/crypto/crc32c_generic.ko"), Pos(v, "kernel/fs/jbd2/jbd2.ko"));
  EXPECT_LT(Pos(v, "kernel/fs/jbd2/jbd2.ko"), Pos(v, "kernel/fs/ext4/ext4.ko"));
  // Both modules behind the alias, optional; everything else required.
  EXPECT_LT(Pos(v, "kernel/arch/x86/crypto/crc32c-intel.ko"), Pos(v, "kernel/fs/jbd2/jbd2.ko"));
  for (const ModuleFile& m : v) EXPECT_EQ(m.optional, m.path.find("crc32c") != std::string::npos) << m.path;
  EXPECT_EQ(v.size(), 13u);  // each once
}

TEST(Modules, BuiltinNeedsNothingUnknownIsAnError) {
  ModuleIndex index = ParseModuleIndex(kDep, kSoft, kAlias, kBuiltin);
  auto b = ResolveModules(index, {"virtio_blk"});
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->empty());
  auto u = ResolveModules(index, {"dm-thin-pool"});
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("dm_thin_pool"), std::string::npos);
}

TEST(Modules, AHardNeedMakesASoftDependencyRequired) {
  ModuleIndex index = ParseModuleIndex("a.ko:\nb.ko:\n", "softdep a pre: b\n", "", "");
  auto r = ResolveModules(index, {"a", "b"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<ModuleFile>{{"b.ko", false}, {"a.ko", false}}));
}

TEST(Modules, CycleIsReported) {
  ModuleIndex index = ParseModuleIndex("a.ko: b.ko\nb.ko: a.ko\n", "", "", "");
  EXPECT_FALSE(ResolveModules(index, {"a"}).ok());
}

}  // namespace
}  // namespace torn::lab
