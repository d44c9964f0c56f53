// The reader against synthetic logs built by LogBuilder: every flag, every invariant of log_format.h
// broken once, truncation at every length, and single-byte edits (which must never crash).
#include "trace/log.h"

#include <gtest/gtest.h>

#include "trace/log_builder.h"

namespace torn::trace {
namespace {

Result<Log> Parse(const std::vector<std::byte>& bytes, OpenOptions o = {}) {
  return Log::FromBytes(bytes, "synthetic.log", o);
}

void ExpectError(const Result<Log>& r, Code code, const std::string& needle) {
  ASSERT_FALSE(r.ok()) << "expected an error containing '" << needle << "'";
  EXPECT_EQ(r.status().code(), code) << r.status().message();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << "one line";
  EXPECT_EQ(r.status().message().rfind("synthetic.log", 0), 0u) << "names the file first";
}

TEST(LogReaderSynthetic, ParsesEveryKindOfEntry) {
  for (uint32_t ss : {512u, 4096u}) {
    LogBuilder b(ss);
    b.Flush().Write(0, 2, 0xa0).Discard(4, 8).Flush(kFlagFlush | kFlagFua | kFlagMetadata)
        .Write(10, 1, 0xb0, kFlagFua | kFlagMetadata).Mark("after-commit");
    auto log = Parse(b.Build());
    ASSERT_TRUE(log.ok()) << log.status().message();
    EXPECT_EQ(log->sectorsize(), ss);
    ASSERT_EQ(log->size(), 6u);
    EXPECT_TRUE(log->entry(0).flush());
    EXPECT_TRUE(log->entry(1).has_data());
    EXPECT_EQ(log->entry(1).nr_sectors, 2u);
    EXPECT_TRUE(log->entry(2).discard());
    EXPECT_FALSE(log->entry(2).has_data());
    EXPECT_TRUE(log->entry(2).changes_content());
    EXPECT_TRUE(log->entry(4).fua() && log->entry(4).metadata());
    ASSERT_EQ(log->marks().size(), 1u);
    EXPECT_EQ(log->marks()[0].name, "after-commit");
    EXPECT_EQ(log->marks()[0].entry, 5u);
    EXPECT_EQ(log->FindMark("after-commit"), 5u);
    EXPECT_EQ(log->max_byte_touched(), 12u * ss);
    std::vector<std::byte> data(2 * ss);
    ASSERT_TRUE(log->ReadData(1, data).ok());
    EXPECT_EQ(data[0], std::byte{0xa0});
    EXPECT_EQ(data[ss], std::byte{0xa1});
  }
}

TEST(LogReaderSynthetic, WrongMagic) {
  ExpectError(Parse(LogBuilder().Flush().Build(-1, 0x1234)), Code::kBadInput, "wrong magic");
}

TEST(LogReaderSynthetic, WrongVersion) {
  ExpectError(Parse(LogBuilder().Flush().Build(-1, kLogMagic, 2)), Code::kBadInput,
              "unsupported version 2");
}

TEST(LogReaderSynthetic, BadSectorSize) {
  for (uint32_t ss : {0u, 100u, 256u, 131072u}) {
    auto bytes = LogBuilder(512).Build();
    for (int i = 0; i < 4; ++i) bytes[kSuperSectorSize + i] = std::byte((ss >> (8 * i)) & 0xff);
    ExpectError(Parse(bytes), Code::kBadInput, "sector size");
  }
}

TEST(LogReaderSynthetic, TruncatedSuperBlock) {
  auto bytes = LogBuilder().Build();
  bytes.resize(20);
  ExpectError(Parse(bytes), Code::kTruncated, "super block");
}

TEST(LogReaderSynthetic, NrEntriesPastTheEndOfTheFile) {
  ExpectError(Parse(LogBuilder().Flush().Build(1000000)), Code::kTruncated, "nr_entries 1000000");
  // A count that fits the size check but not the actual entries: names the first missing entry.
  LogBuilder b;
  b.Write(0, 1, 1).Write(1, 1, 2);
  ExpectError(Parse(b.Build(3)), Code::kTruncated, "entry 2 at byte");
}

TEST(LogReaderSynthetic, TruncatedHeader) {
  auto bytes = LogBuilder().Write(0, 1, 1).Flush().Build();
  bytes.resize(bytes.size() - 100);  // cut into entry 1's header sector
  ExpectError(Parse(bytes), Code::kTruncated, "entry 1 at byte 1536: header runs past");
}

TEST(LogReaderSynthetic, TruncatedData) {
  auto bytes = LogBuilder().Flush().Write(0, 4, 1).Build();
  bytes.resize(bytes.size() - 1);
  ExpectError(Parse(bytes), Code::kTruncated, "entry 1 at byte 1024: data of 2048 bytes");
}

TEST(LogReaderSynthetic, TruncatedLogKeepsCompleteEntriesWhenAllowed) {
  auto bytes = LogBuilder().Flush().Write(0, 4, 1).Write(8, 1, 2).Build();
  bytes.resize(bytes.size() - 1);
  auto log = Parse(bytes, {.allow_truncated = true});
  ASSERT_TRUE(log.ok()) << log.status().message();
  EXPECT_TRUE(log->truncated());
  EXPECT_EQ(log->size(), 2u);
}

TEST(LogReaderSynthetic, ZeroLengthEntryThatIsNeitherFlushNorMark) {
  LogBuilder b;
  b.Flush().Raw(5, 0, kFlagFua, 0, {});
  ExpectError(Parse(b.Build()), Code::kBadInput, "entry 1 at byte 1024: empty entry");
}

TEST(LogReaderSynthetic, MarkNameWithoutRoom) {
  LogBuilder b(512);
  b.Raw(0, 0, kFlagMark, 512 - 32 + 1, {}, "x");
  ExpectError(Parse(b.Build()), Code::kBadInput, "entry 0 at byte 512: mark name of 481 bytes");
  // A length that wraps 32 + data_len around 2^64 is refused too (a fuzzer find).
  LogBuilder wrap(512);
  wrap.Raw(0, 0, kFlagMark, UINT64_MAX, {}, "x");
  ExpectError(Parse(wrap.Build()), Code::kBadInput, "does not fit");
  // The longest name that fits is accepted.
  LogBuilder ok(512);
  ok.Mark(std::string(480, 'm'));
  EXPECT_TRUE(Parse(ok.Build()).ok());
}

TEST(LogReaderSynthetic, MarkNameWithNul) {
  LogBuilder b;
  b.Raw(0, 0, kFlagMark, 4, {}, std::string_view("ab\0c", 4));
  ExpectError(Parse(b.Build()), Code::kBadInput, "NUL");
}

TEST(LogReaderSynthetic, SectorsPastTheDevice) {
  auto bytes = LogBuilder().Write(0, 1, 1).Write(2047, 2, 1).Build();
  ExpectError(Parse(bytes, {.device_bytes = 1 << 20}), Code::kBadInput,
              "entry 1 at byte 1536: sectors 2047..2049 run past the device (1048576 bytes)");
  EXPECT_TRUE(Parse(bytes, {.device_bytes = 2049 * 512}).ok());
}

TEST(LogReaderSynthetic, AbsurdLengthIsRefusedBeforeAllocating) {
  LogBuilder b;
  b.Raw(0, uint64_t{1} << 40, 0, 0, {});
  ExpectError(Parse(b.Build()), Code::kBadInput, "absurd length");
}

TEST(LogReaderSynthetic, HugeDiscardIsFine) {
  // A discard carries no data, so a whole-device discard of a large device is legal.
  LogBuilder b;
  b.Discard(0, uint64_t{1} << 33);
  EXPECT_TRUE(Parse(b.Build()).ok());
}

TEST(LogReaderSynthetic, SectorOverflow) {
  LogBuilder b;
  b.Raw(UINT64_MAX - 1, 4, kFlagDiscard, 0, {});
  ExpectError(Parse(b.Build()), Code::kBadInput, "overflows");
}

TEST(LogReaderSynthetic, UnknownFlags) {
  LogBuilder b;
  b.Raw(0, 0, kFlagFlush | 64, 0, {});
  ExpectError(Parse(b.Build()), Code::kBadInput, "unknown flag bits");
}

TEST(LogReaderSynthetic, NothingPastNrEntriesIsRead) {
  // Garbage after the declared entries (the kernel only rewrites nr_entries now and then).
  auto bytes = LogBuilder().Write(0, 1, 1).Build();
  bytes.resize(bytes.size() + 4096, std::byte{0xff});
  auto log = Parse(bytes);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->size(), 1u);
}

TEST(LogReaderSynthetic, EveryTruncationIsACleanError) {
  LogBuilder b;
  b.Flush().Write(0, 2, 1).Discard(4, 4).Mark("m").Write(8, 1, 2, kFlagFua);
  auto full = b.Build();
  for (size_t len = 0; len < full.size(); ++len) {
    std::vector<std::byte> cut(full.begin(), full.begin() + static_cast<long>(len));
    auto log = Parse(cut);
    ASSERT_FALSE(log.ok()) << "length " << len;
    EXPECT_EQ(log.status().code(), Code::kTruncated) << "length " << len << ": "
                                                     << log.status().message();
  }
  EXPECT_TRUE(Parse(full).ok());
}

TEST(LogReaderSynthetic, SingleByteEditsNeverCrash) {
  LogBuilder b;
  b.Flush().Write(0, 2, 1).Discard(4, 4).Mark("m").Write(8, 1, 2, kFlagFua);
  auto full = b.Build();
  int errors = 0;
  for (size_t pos = 0; pos < full.size(); pos += 7) {
    for (uint8_t v : {0x00, 0x01, 0x80, 0xff}) {
      auto edited = full;
      edited[pos] = std::byte{v};
      auto log = Parse(edited);
      if (!log.ok()) {
        ++errors;
        EXPECT_NE(log.status().code(), Code::kInternal);
        continue;
      }
      // Whatever parsed must be readable within the file.
      for (size_t i = 0; i < log->size(); ++i) {
        if (!log->entry(i).has_data()) continue;
        std::vector<std::byte> data(log->entry_bytes(i));
        EXPECT_TRUE(log->ReadData(i, data).ok());
      }
    }
  }
  EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace torn::trace
