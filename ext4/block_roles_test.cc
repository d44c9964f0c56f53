// Block roles (block_roles.h) on real file systems: mke2fs in /dev/shm in several layouts, populated
// without mounting (mke2fs -d, debugfs -w, e2fsck -fyD to index the big directory), checked against
// e2fsprogs' own tools and against e2fsck's verdict:
//   - the roles agree with dumpe2fs (a block is claimed exactly when the bitmaps say it is in use),
//     with debugfs (blocks, stat, icheck: each file's data, tree and xattr blocks, the journal, the
//     quota and orphan files, and every inode-owned block's owner);
//   - random bytes over every sector the roles leave out change nothing in `e2fsck -fn` (exit code
//     and output), on every layout;
//   - random bytes over the blocks of any one metadata role do change it (each rule is load-bearing:
//     had the walk left those blocks out, the test above would fail);
//   - a journal with a transaction to replay keeps its log; the block a fifo's i_block[0] names is
//     read by e2fsck (check_is_really_dir); the caller's files are metadata; a damaged map or super
//     block makes the walk incomplete, naming where.
#include "ext4/block_roles.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "base/subprocess.h"
#include "base/temp_file.h"
#include "ext4/block_roles_testing.h"

namespace torn::ext4 {

void PrintTo(Role r, std::ostream* os) { *os << RoleName(r); }

namespace {

namespace rt = torn::ext4::testing;

// Runs a tool; the test fails (and the output is shown) when it does not exit 0 (or `ok_codes`).
std::string Tool(const std::vector<std::string>& argv, std::set<int> ok_codes = {0}) {
  auto r = RunChild({.argv = argv, .timeout = std::chrono::seconds(120)});
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return "";
  EXPECT_TRUE(r->status.how == ExitStatus::How::kExited && ok_codes.count(r->status.code))
      << QuoteArgv(argv) << ": " << r->status.describe() << "\n" << r->output;
  return r->output;
}

// debugfs with a command file (one command a line); -w when `write`.
std::string Debugfs(const std::string& image, const std::vector<std::string>& commands, bool write = false) {
  std::string cmdfile = image + ".cmds";
  {
    std::ofstream f(cmdfile);
    for (const auto& c : commands) f << c << "\n";
  }
  std::vector<std::string> argv = {"debugfs"};
  if (write) argv.push_back("-w");
  argv.insert(argv.end(), {"-f", cmdfile, image});
  std::string out = Tool(argv);
  ::unlink(cmdfile.c_str());
  return out;
}

std::vector<uint64_t> Numbers(const std::string& text, const std::regex& re) {
  std::vector<uint64_t> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back(std::stoull((*it)[1].str()));
  return out;
}

std::string Stat(const std::string& image, const std::string& what) { return Debugfs(image, {"stat " + what}); }

// Tree blocks (extent index/leaf blocks, indirect blocks) as debugfs's stat lists them.
const std::regex kTreeBlockRe(R"(\((?:ETB\d+|IND|DIND|TIND)\):(\d+))");

// Data blocks of a path or <inode>: what debugfs's `blocks` lists (the whole map: data and tree
// blocks) less the tree blocks stat shows.
std::vector<uint64_t> DataBlocks(const std::string& image, const std::string& what) {
  std::string out = Debugfs(image, {"blocks " + what});
  size_t at = out.find("debugfs: blocks");
  out = at == std::string::npos ? out : out.substr(out.find('\n', at) + 1);
  std::vector<uint64_t> all = Numbers(out, std::regex(R"((\d+))"));
  std::vector<uint64_t> tree = Numbers(Stat(image, what), kTreeBlockRe);
  std::erase_if(all, [&](uint64_t b) { return std::find(tree.begin(), tree.end(), b) != tree.end(); });
  return all;
}

void WriteRandom(const std::string& path, uint64_t bytes, uint64_t offset, std::mt19937_64& rng) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  if (!f) f.open(path, std::ios::out | std::ios::binary);
  f.seekp(std::streamoff(offset));
  for (uint64_t i = 0; i < bytes; ++i) f.put(char(rng()));
}

// The tree every layout is populated with (mke2fs -d copies it; holes stay holes).
void BuildTree(const std::string& root) {
  std::mt19937_64 rng(7);
  std::filesystem::create_directories(root + "/d/many");
  std::filesystem::create_directories(root + "/d/sub");
  for (int i = 0; i < 300; ++i)
    std::ofstream(root + "/d/many/an-entry-with-a-longish-name-" + std::to_string(i)) << i << "\n";
  std::ofstream(root + "/small") << "a small file\n";
  WriteRandom(root + "/medium", 40000, 0, rng);
  // Ten 4 KiB islands 64 KiB apart: ten extents (a tree of depth 1), or indirect blocks with holes.
  for (int i = 0; i < 10; ++i) WriteRandom(root + "/sparse", 4096, uint64_t(i) * 65536, rng);
  WriteRandom(root + "/big", 300 * 1024, 0, rng);  // past 12 + 256 KiB blocks: a double-indirect block
  WriteRandom(root + "/orphan", 4096, 0, rng);
  for (int i = 1; i < 8; ++i) WriteRandom(root + "/orphan", 2048, uint64_t(i) * 32768, rng);
  std::ofstream(root + "/empty");
  std::ofstream(root + "/d/sub/inner") << "inner\n";
  std::filesystem::create_symlink("small", root + "/fast");
  std::filesystem::create_symlink(std::string(200, 'x'), root + "/slow");
  std::filesystem::create_hard_link(root + "/small", root + "/hard");
}

struct Layout {
  std::string name;
  std::vector<std::string> mkfs;  // after "mke2fs -q -F"
  bool quota = false, orphan_file = false, ea_inode = false, mmp = false;
};

std::vector<Layout> Layouts() {
  return {
      {"ext4_1k_flexbg_csum_quota_orphanfile", {"-t", "ext4", "-b", "1024", "-O", "quota,orphan_file"}, true, true},
      {"ext4_4k_plain_mmp", {"-t", "ext4", "-b", "4096", "-O", "^flex_bg,^metadata_csum,^64bit"}, false, false,
       false, true},
      {"ext4_1k_inline_data", {"-t", "ext4", "-b", "1024", "-I", "256", "-O", "inline_data"}},
      {"ext3_1k_indirect", {"-t", "ext3", "-b", "1024"}},
      {"ext4_1k_meta_bg_64_groups", {"-t", "ext4", "-b", "1024", "-g", "1024", "-O", "meta_bg,^resize_inode,^64bit"}},
      {"ext4_4k_sparse_super2_ea_inode", {"-t", "ext4", "-b", "4096", "-g", "4096", "-O", "sparse_super2,ea_inode"},
       false, false, true},
  };
}

void PrintTo(const Layout& l, std::ostream* os) { *os << l.name; }

struct Fs {
  TempDir dir;
  std::string image, tree;
  Layout layout;
  uint32_t orphan_ino = 0;
};

// Builds (once per layout, kept for the process) a populated image: mke2fs -d, then debugfs for what
// -d does not make (an xattr block, an EA inode, a fifo and a device), e2fsck -fyD (indexes d/many,
// fixes the quota counts), then an orphan: /orphan unlinked with links_count 0 and s_last_orphan
// pointing at it, as a crash in the middle of an unlink of an open file leaves it.
const Fs& Image(const Layout& layout) {
  static std::map<std::string, std::unique_ptr<Fs>> cache;
  auto& slot = cache[layout.name];
  if (slot) return *slot;
  slot = std::make_unique<Fs>();
  Fs& fs = *slot;
  fs.layout = layout;
  fs.dir = TempDir::Create("torn-block-roles-", "/dev/shm").value();
  fs.tree = fs.dir.path() + "/tree";
  fs.image = fs.dir.path() + "/fs.img";
  BuildTree(fs.tree);
  std::vector<std::string> mk = {"mke2fs", "-q", "-F"};
  mk.insert(mk.end(), layout.mkfs.begin(), layout.mkfs.end());
  mk.insert(mk.end(), {"-d", fs.tree, fs.image, "64M"});
  Tool(mk);
  std::string val = fs.dir.path() + "/xattr-value", big = fs.dir.path() + "/big-xattr-value";
  std::ofstream(val) << std::string(600, 'v');
  std::ofstream(big) << std::string(4096, 'w');  // no room in a 4 KiB xattr block: an EA inode
  std::vector<std::string> cmds = {"ea_set -f " + val + " /medium user.block", "mknod fifo p",
                                   "mknod chardev c 8 1"};
  if (layout.ea_inode) cmds.push_back("ea_set -f " + big + " /small user.inode");
  Debugfs(fs.image, cmds, true);
  Tool({"e2fsck", "-fyD", fs.image}, {0, 1});
  std::smatch m;
  std::string st = Stat(fs.image, "/orphan");
  if (std::regex_search(st, m, std::regex(R"(Inode: (\d+))"))) fs.orphan_ino = uint32_t(std::stoul(m[1].str()));
  EXPECT_NE(fs.orphan_ino, 0u) << st;
  std::string ino = std::to_string(fs.orphan_ino);
  Debugfs(fs.image, {"unlink /orphan", "sif <" + ino + "> links_count 0", "ssv last_orphan " + ino}, true);
  // MMP last: every writer of an MMP file system waits out the update interval first.
  if (layout.mmp) Tool({"tune2fs", "-O", "mmp", "-E", "mmp_update_interval=1", fs.image});
  return fs;
}

BlockRoles Roles(const std::string& image, const BlockRolesOptions& options = {}) {
  auto r = rt::RolesOfImage(image, options);
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return {};
  EXPECT_TRUE(r->complete) << r->why;
  return std::move(r).value();
}

rt::FsckRun Fsck(const std::string& image, std::vector<std::string> args = {"-fn"}) {
  auto r = rt::RunE2fsck(args, image);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : rt::FsckRun{};
}

// Blocks dumpe2fs lists as free, by group ("Free blocks: a-b, c").
std::vector<bool> FreeBlocks(const std::string& image, uint64_t blocks) {
  std::vector<bool> free(blocks, false);
  std::string out = Tool({"dumpe2fs", image});
  std::regex line(R"(\n  Free blocks: ([^\n]*))"), range(R"((\d+)(?:-(\d+))?)");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator(); ++it) {
    std::string list = (*it)[1].str();
    for (auto r = std::sregex_iterator(list.begin(), list.end(), range); r != std::sregex_iterator(); ++r) {
      uint64_t a = std::stoull((*r)[1].str()), b = (*r)[2].matched ? std::stoull((*r)[2].str()) : a;
      for (uint64_t x = a; x <= b && x < blocks; ++x) free[x] = true;
    }
  }
  return free;
}

class BlockRolesLayout : public ::testing::TestWithParam<Layout> {};

TEST_P(BlockRolesLayout, ClaimedBlocksAreExactlyTheBlocksInUse) {
  const Fs& fs = Image(GetParam());
  BlockRoles roles = Roles(fs.image);
  ASSERT_TRUE(roles.complete);
  ASSERT_EQ(roles.extents.front().first, 0u);
  uint64_t covered = 0;
  for (const auto& e : roles.extents) {
    EXPECT_EQ(e.first, covered) << "extents must be sorted, disjoint and cover the file system";
    covered = e.first + e.count;
  }
  EXPECT_EQ(covered, roles.blocks);
  std::vector<bool> free = FreeBlocks(fs.image, roles.blocks);
  uint64_t first_data = roles.block_size == 1024 ? 1 : 0, wrong = 0;
  for (uint64_t b = first_data; b < roles.blocks; ++b) {
    bool claimed = roles.RoleOf(b) != Role::kUnreferenced;
    if (claimed == free[b] && wrong++ < 10)
      ADD_FAILURE() << "block " << b << ": " << RoleName(roles.RoleOf(b)) << " but "
                    << (free[b] ? "free" : "in use") << " in the bitmaps";
  }
  EXPECT_EQ(wrong, 0u);
  for (int r = 0; r < kRoleCount; ++r)
    if (uint64_t n = roles.BlocksWithRole(Role(r))) std::printf("  %8llu %s\n", (unsigned long long)n, RoleName(Role(r)).data());
}

TEST_P(BlockRolesLayout, RolesAgreeWithDebugfs) {
  const Fs& fs = Image(GetParam());
  BlockRoles roles = Roles(fs.image);
  ASSERT_TRUE(roles.complete);
  auto expect_all = [&](const std::vector<uint64_t>& blocks, Role want, const std::string& what) {
    EXPECT_FALSE(blocks.empty()) << what << ": no blocks";
    for (uint64_t b : blocks)
      EXPECT_EQ(roles.RoleOf(b), want) << what << " block " << b << " is " << RoleName(roles.RoleOf(b));
  };
  const bool inline_fs = GetParam().name.find("inline") != std::string::npos;
  for (const char* f : {"/medium", "/sparse", "/big", "/d/many/an-entry-with-a-longish-name-7"})
    if (!(inline_fs && std::string(f).find("many") != std::string::npos))
      expect_all(DataBlocks(fs.image, f), Role::kRegularData, f);
  expect_all(DataBlocks(fs.image, "/d/many"), Role::kDirectory, "/d/many");
  expect_all(DataBlocks(fs.image, "/"), Role::kDirectory, "/");
  expect_all(DataBlocks(fs.image, "/slow"), Role::kSymlink, "/slow");
  EXPECT_NE(Stat(fs.image, "/fast").find("Fast link dest"), std::string::npos);
  EXPECT_NE(Debugfs(fs.image, {"htree /d/many"}).find("Indirect levels"), std::string::npos)
      << "d/many should be an htree directory";

  // Tree blocks (extent index/leaf blocks, indirect blocks) and the xattr block, as stat shows them.
  const std::regex& tree_re = kTreeBlockRe;
  std::vector<uint64_t> trees;
  for (const char* f : {"/sparse", "/big"})
    for (uint64_t b : Numbers(Stat(fs.image, f), tree_re)) trees.push_back(b);
  expect_all(trees, Role::kTreeBlock, "tree blocks of /sparse and /big");
  expect_all(Numbers(Stat(fs.image, "/medium"), std::regex(R"(File ACL: (\d+))")), Role::kXattrBlock,
             "xattr block of /medium");
  // The orphan (no links, on s_last_orphan): e2fsck -n skips it, the kernel's orphan cleanup reads
  // its map to free it.
  std::string orphan = "<" + std::to_string(fs.orphan_ino) + ">";
  std::vector<uint64_t> orphan_trees = Numbers(Stat(fs.image, orphan), tree_re);
  expect_all(orphan_trees, Role::kTreeBlock, "tree blocks of the orphan");
  expect_all(DataBlocks(fs.image, orphan), Role::kRegularData, "the orphan's data");

  // The journal: block 0 its super block, the rest its log, empty (mke2fs wrote s_start = 0).
  std::vector<uint64_t> journal = DataBlocks(fs.image, "<8>");
  ASSERT_GT(journal.size(), 1000u);
  EXPECT_EQ(roles.RoleOf(journal[0]), Role::kJournalSuper);
  expect_all(std::vector<uint64_t>(journal.begin() + 1, journal.end()), Role::kJournalLog, "journal log");
  if (GetParam().quota) {
    expect_all(DataBlocks(fs.image, "<3>"), Role::kSpecialData, "user quota file");
    expect_all(DataBlocks(fs.image, "<4>"), Role::kSpecialData, "group quota file");
  }
  if (GetParam().orphan_file) expect_all(DataBlocks(fs.image, "<12>"), Role::kSpecialData, "orphan file");
  if (GetParam().ea_inode) {
    // The EA inode holding /small's 4 KiB value: its data is read (ext2fs_xattrs_read, the kernel's
    // xattr code), so it is special data, owned by an inode with EXT4_EA_INODE_FL.
    std::string flags;
    for (const auto& e : roles.extents)
      if (e.role == Role::kSpecialData && e.owner >= 11) flags = Stat(fs.image, "<" + std::to_string(e.owner) + ">");
    EXPECT_NE(flags.find("Flags: 0x2"), std::string::npos) << "no EA inode among the special data\n" << flags;
  }
  if (GetParam().mmp) {
    std::smatch m;
    std::string h = Tool({"dumpe2fs", "-h", fs.image});
    ASSERT_TRUE(std::regex_search(h, m, std::regex(R"(MMP block number:\s+(\d+))"))) << h;
    EXPECT_EQ(roles.RoleOf(std::stoull(m[1].str())), Role::kMmp);
  }

  // Every block the roles give an inode owner belongs to that inode according to debugfs's icheck.
  std::vector<std::pair<uint64_t, uint32_t>> owned;
  for (const auto& e : roles.extents) {
    if (e.owner == fs.orphan_ino) continue;  // icheck skips inodes without links
    if (e.role == Role::kRegularData || e.role == Role::kJournalLog || e.role == Role::kJournalSuper ||
        e.role == Role::kTreeBlock || e.role == Role::kXattrBlock || e.role == Role::kDirectory ||
        e.role == Role::kSymlink || e.role == Role::kSpecialData)
      for (uint64_t b = e.first; b < e.first + e.count; b += std::max<uint64_t>(1, e.count / 16))
        owned.push_back({b, e.owner});
  }
  ASSERT_FALSE(owned.empty());
  std::vector<std::string> cmds;
  for (size_t i = 0; i < owned.size(); i += 100) {
    std::string c = "icheck";
    for (size_t k = i; k < std::min(owned.size(), i + 100); ++k) c += " " + std::to_string(owned[k].first);
    cmds.push_back(c);
  }
  std::string out = Debugfs(fs.image, cmds);
  std::map<uint64_t, std::string> icheck;
  std::regex row(R"(\n(\d+)\t([^\n]+))");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), row); it != std::sregex_iterator(); ++it)
    icheck[std::stoull((*it)[1].str())] = (*it)[2].str();
  for (const auto& [b, owner] : owned)
    EXPECT_EQ(icheck[b], std::to_string(owner)) << "block " << b << " (" << RoleName(roles.RoleOf(b)) << ")";
}

// The property the class key rests on: what the roles leave out, e2fsck -fn never reads.
TEST_P(BlockRolesLayout, RandomBytesOverUnreadSectorsLeaveE2fsckUnchanged) {
  const Fs& fs = Image(GetParam());
  BlockRoles roles = Roles(fs.image);
  ASSERT_TRUE(roles.complete);
  rt::FsckRun before = Fsck(fs.image);
  EXPECT_NE(before.output.find("Pass 5"), std::string::npos) << before.output;
  // The orphan setup makes e2fsck -n report its blocks and inode (exit 4): a verdict with findings
  // must stay the same too.
  EXPECT_EQ(before.code, 4) << before.output;
  std::string copy = fs.dir.path() + "/scribbled.img";
  for (uint64_t seed : {1, 2}) {
    ASSERT_TRUE(rt::CopyImage(fs.image, copy).ok());
    auto n = rt::ScribbleUnread(copy, roles, seed);
    ASSERT_TRUE(n.ok()) << n.status().message();
    EXPECT_GT(*n * kSector, uint64_t(40) << 20) << "most of the image should be unread";
    rt::FsckRun after = Fsck(copy);
    EXPECT_EQ(after.code, before.code);
    EXPECT_EQ(after.output, before.output);
    // And the walk on the scribbled image gives the same roles (it read only metadata).
    BlockRoles again = Roles(copy);
    EXPECT_EQ(again.metadata.ranges(), roles.metadata.ranges());
  }
}

// Each metadata role is load-bearing: random bytes over its blocks change e2fsck -fn's verdict. Had
// a rule left those blocks out of the metadata, the test above would have scribbled them.
TEST_P(BlockRolesLayout, RandomBytesOverAnyMetadataRoleChangeE2fsck) {
  const Fs& fs = Image(GetParam());
  BlockRoles roles = Roles(fs.image);
  ASSERT_TRUE(roles.complete);
  rt::FsckRun before = Fsck(fs.image);
  std::string copy = fs.dir.path() + "/role.img";
  int tried = 0;
  for (Role role : {Role::kSuperBlock, Role::kGroupDescriptors, Role::kBlockBitmap, Role::kInodeBitmap,
                    Role::kInodeTable, Role::kMmp, Role::kJournalSuper, Role::kTreeBlock, Role::kXattrBlock,
                    Role::kDirectory, Role::kSymlink, Role::kSpecialData}) {
    std::vector<BlockExtent> blocks;
    for (const auto& e : roles.extents) {
      if (e.role != role) continue;
      // An EA inode's value is kept as metadata to be safe (e2fsck reads it through
      // ext2fs_xattrs_read only for inline-data and encrypted inodes; docs/block_roles.md), so
      // e2fsck -fn need not notice it here.
      if (role == Role::kSpecialData && e.owner >= 11 &&
          Stat(fs.image, "<" + std::to_string(e.owner) + ">").find("Flags: 0x2") != std::string::npos)
        continue;
      blocks.push_back(e);
    }
    if (blocks.empty()) continue;
    ++tried;
    ASSERT_TRUE(rt::CopyImage(fs.image, copy).ok());
    ASSERT_TRUE(rt::ScribbleBlocks(copy, roles.block_size, blocks, 99).ok());
    rt::FsckRun after = Fsck(copy);
    EXPECT_FALSE(after == before) << RoleName(role) << ": e2fsck -fn did not notice\n" << after.output;
  }
  EXPECT_GE(tried, 8);
}

INSTANTIATE_TEST_SUITE_P(Mke2fs, BlockRolesLayout, ::testing::ValuesIn(Layouts()),
                         [](const auto& info) { return info.param.name; });

// A fresh image without the orphan, for the tests below.
struct Plain {
  TempDir dir;
  std::string image;
};
Plain PlainImage(const std::vector<std::string>& mkfs) {
  Plain p{TempDir::Create("torn-block-roles-", "/dev/shm").value(), ""};
  p.image = p.dir.path() + "/fs.img";
  std::string tree = p.dir.path() + "/tree";
  BuildTree(tree);
  std::vector<std::string> mk = {"mke2fs", "-q", "-F"};
  mk.insert(mk.end(), mkfs.begin(), mkfs.end());
  mk.insert(mk.end(), {"-d", tree, p.image, "64M"});
  Tool(mk);
  return p;
}

TEST(BlockRoles, FilesTheCallerReadsAreMetadata) {
  Plain p = PlainImage({"-t", "ext4", "-b", "1024"});
  BlockRoles roles = Roles(p.image, {.read_files = {"medium", "d/sub/inner", "no/such/file"}});
  for (uint64_t b : DataBlocks(p.image, "/medium")) EXPECT_EQ(roles.RoleOf(b), Role::kReadFileData) << b;
  for (uint64_t b : DataBlocks(p.image, "/d/sub/inner")) EXPECT_EQ(roles.RoleOf(b), Role::kReadFileData) << b;
  for (uint64_t b : DataBlocks(p.image, "/big")) EXPECT_EQ(roles.RoleOf(b), Role::kRegularData) << b;
  uint64_t per_block = roles.block_size / kSector;
  for (uint64_t b : DataBlocks(p.image, "/medium")) EXPECT_TRUE(roles.metadata.Contains(b * per_block));
}

// A transaction left in the journal (debugfs journal_write: zeros for the inode bitmap of group 0,
// as a crash after a commit and before its checkpoint leaves it): the log is read by recovery, so it
// is metadata. Through real journal replay, random bytes over the unread sectors change nothing;
// over the log, the replay (and e2fsck after it) changes.
TEST(BlockRoles, JournalWithATransactionKeepsItsLog) {
  Plain p = PlainImage({"-t", "ext4", "-b", "4096"});
  std::smatch m;
  std::string h = Tool({"dumpe2fs", p.image});
  ASSERT_TRUE(std::regex_search(h, m, std::regex(R"(Inode bitmap at (\d+))"))) << h;
  std::string zeros = p.dir.path() + "/zeros";
  std::ofstream(zeros) << std::string(4096, '\0');
  Debugfs(p.image, {"jo", "jw -b " + m[1].str() + " " + zeros, "jc"}, true);
  BlockRoles roles = Roles(p.image);
  std::vector<uint64_t> journal = DataBlocks(p.image, "<8>");
  ASSERT_GT(journal.size(), 2u);
  EXPECT_EQ(roles.RoleOf(journal[0]), Role::kJournalSuper);
  for (size_t i = 1; i < journal.size(); i += 97) EXPECT_EQ(roles.RoleOf(journal[i]), Role::kJournalMetadata) << i;

  auto replay_then_check = [](const std::string& img) {
    rt::FsckRun replay = Fsck(img, {"-E", "journal_only", "-y"});
    rt::FsckRun check = Fsck(img);
    return std::make_pair(replay, check);
  };
  std::string a = p.dir.path() + "/a.img", b = p.dir.path() + "/b.img";
  ASSERT_TRUE(rt::CopyImage(p.image, a).ok());
  auto want = replay_then_check(a);
  EXPECT_EQ(want.second.code, 4) << "the replayed bitmap should be wrong\n" << want.second.output;
  ASSERT_TRUE(rt::CopyImage(p.image, b).ok());
  ASSERT_TRUE(rt::ScribbleUnread(b, roles, 5).ok());
  EXPECT_EQ(replay_then_check(b), want);
  // The log is load-bearing: scribbled, the replay writes other bytes home (or none) and e2fsck sees.
  ASSERT_TRUE(rt::CopyImage(p.image, b).ok());
  std::vector<BlockExtent> log;
  for (const auto& e : roles.extents)
    if (e.role == Role::kJournalMetadata) log.push_back(e);
  ASSERT_TRUE(rt::ScribbleBlocks(b, roles.block_size, log, 6).ok());
  EXPECT_NE(replay_then_check(b), want);
}

// e2fsck's check_is_really_dir reads the block a fifo's (or socket's, or device's) i_block[0] names,
// to see whether the inode is a directory with a wrong mode: that block is metadata even though no
// block map holds it. Made load-bearing here: the block looks like the fifo's own directory block,
// and e2fsck -n says so; scribbled, it says nothing.
TEST(BlockRoles, TheBlockAFifoNamesIsReadByE2fsck) {
  Plain p = PlainImage({"-t", "ext4", "-b", "1024", "-O", "^metadata_csum"});  // no dir-block checksum
  Debugfs(p.image, {"mknod fifo p"}, true);
  std::smatch m;
  std::string st = Stat(p.image, "/fifo");
  ASSERT_TRUE(std::regex_search(st, m, std::regex(R"(Inode: (\d+))"))) << st;
  uint32_t ino = uint32_t(std::stoul(m[1].str()));
  BlockRoles before = Roles(p.image);
  std::vector<bool> free = FreeBlocks(p.image, before.blocks);
  uint64_t n = before.blocks - 1;
  while (n > 0 && !free[n]) --n;
  ASSERT_EQ(before.RoleOf(n), Role::kUnreferenced);
  Debugfs(p.image, {"sif /fifo block[0] " + std::to_string(n)}, true);
  {
    // "." (the fifo itself) and ".." (the root), as a directory's first block holds them.
    std::vector<char> block(1024, 0);
    auto put32 = [&](size_t at, uint32_t v) { for (int i = 0; i < 4; ++i) block[at + i] = char(v >> (8 * i)); };
    auto put16 = [&](size_t at, uint16_t v) { block[at] = char(v), block[at + 1] = char(v >> 8); };
    put32(0, ino), put16(4, 12), block[6] = 1, block[7] = 2, block[8] = '.';
    put32(12, 2), put16(16, 1024 - 12), block[18] = 2, block[19] = 2, block[20] = '.', block[21] = '.';
    std::fstream f(p.image, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(n * 1024));
    f.write(block.data(), std::streamsize(block.size()));
  }
  BlockRoles roles = Roles(p.image);
  EXPECT_EQ(roles.RoleOf(n), Role::kSpecialData);
  EXPECT_EQ(roles.BlocksWithRole(Role::kSpecialData), before.BlocksWithRole(Role::kSpecialData) + 1);
  EXPECT_EQ(roles.BlocksWithRole(Role::kUnreferenced), before.BlocksWithRole(Role::kUnreferenced) - 1);
  rt::FsckRun want = Fsck(p.image);
  EXPECT_NE(want.output.find("really a directory"), std::string::npos) << want.output;
  std::string copy = p.dir.path() + "/copy.img";
  ASSERT_TRUE(rt::CopyImage(p.image, copy).ok());
  ASSERT_TRUE(rt::ScribbleUnread(copy, roles, 3).ok());
  EXPECT_EQ(Fsck(copy), want);
  ASSERT_TRUE(rt::CopyImage(p.image, copy).ok());
  ASSERT_TRUE(rt::ScribbleBlocks(copy, roles.block_size, {{n, 1, Role::kSpecialData, ino}}, 4).ok());
  EXPECT_NE(Fsck(copy), want);
}

TEST(BlockRoles, DamagedExtentTreeMakesTheWalkIncomplete) {
  Plain p = PlainImage({"-t", "ext4", "-b", "1024"});
  std::string st = Stat(p.image, "/sparse");
  std::smatch ino, etb;
  ASSERT_TRUE(std::regex_search(st, ino, std::regex(R"(Inode: (\d+))"))) << st;
  ASSERT_TRUE(std::regex_search(st, etb, std::regex(R"(\(ETB0\):(\d+))"))) << st;
  Debugfs(p.image, {"zap_block -p 0x41 " + etb[1].str()}, true);  // the header's magic is gone
  auto r = rt::RolesOfImage(p.image);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->complete);
  EXPECT_NE(r->why.find("inode " + ino[1].str() + ": block map"), std::string::npos) << r->why;
  // Nothing is masked: every sector of the image is metadata, every block kRead.
  EXPECT_EQ(r->metadata.sectors(), (uint64_t(64) << 20) / kSector);
  EXPECT_EQ(r->BlocksWithRole(Role::kRead), r->blocks);
}

TEST(BlockRoles, BadSuperBlockChecksumMakesTheWalkIncomplete) {
  Plain p = PlainImage({"-t", "ext4", "-b", "1024", "-O", "metadata_csum"});
  // s_volume_name (byte 120 of the super block, in block 1) changed without its checksum.
  Debugfs(p.image, {"zap_block -o 120 -l 4 -p 0x41 1"}, true);
  auto r = rt::RolesOfImage(p.image);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->complete);
  EXPECT_NE(r->why.find("checksum"), std::string::npos) << r->why;
}

TEST(BlockRoles, NotAFileSystemIsIncomplete) {
  auto dir = TempDir::Create("torn-block-roles-", "/dev/shm").value();
  std::string img = dir.path() + "/zero.img";
  std::ofstream(img).close();
  ASSERT_EQ(::truncate(img.c_str(), 8 << 20), 0);
  auto r = rt::RolesOfImage(img);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->complete);
  EXPECT_FALSE(r->why.empty());
  EXPECT_EQ(r->metadata.sectors(), uint64_t(8 << 20) / kSector);
  EXPECT_EQ(r->RoleOf(0), Role::kUnreferenced);  // no blocks known
}

TEST(BlockRoles, EveryRoleHasAName) {
  std::set<std::string_view> names;
  for (int r = 0; r < kRoleCount; ++r) {
    EXPECT_NE(RoleName(Role(r)), "unknown");
    names.insert(RoleName(Role(r)));
  }
  EXPECT_EQ(names.size(), size_t(kRoleCount));
  EXPECT_FALSE(IsMetadata(Role::kUnreferenced));
  EXPECT_FALSE(IsMetadata(Role::kRegularData));
  EXPECT_FALSE(IsMetadata(Role::kJournalLog));
  EXPECT_TRUE(IsMetadata(Role::kSuperBlock));
  EXPECT_TRUE(IsMetadata(Role::kRead));
}

}  // namespace
}  // namespace torn::ext4
