// The report channel of a recording guest (the lab VM's ttyS1), parsed. Lines, as the helpers of
// recorder/guest_job.h write them (a trailing "\r" from the guest's tty is dropped):
//   TORN-MARK NAME                          a mark was sent, in order
//   TORN-MANIFEST NAME D ./PATH             a directory of the manifest NAME ("." is the root)
//   TORN-MANIFEST NAME F SIZE MD5 ./PATH    a regular file
//   TORN-MANIFEST NAME E ./PATH             a regular file whose name only is expected (torn fuzz)
//   TORN-MANIFEST NAME O SIZE MD5 SIZE MD5 ./PATH   a regular file holding one of two contents
//   TORN-MANIFEST NAME P                    the manifest NAME is partial (bin/promise: one fsync's promise)
//   TORN-MANIFEST-END NAME                  the manifest NAME is complete
//   TORN-WORKLOAD-EXIT N                    the workload's exit status
// Other lines (the lab's TORN-EXIT) are ignored. Paths come out relative to the file system's root
// without "./", as trace/expectations.h wants them. A manifest without its END line, a malformed
// line, or a manifest sent twice is an error naming the line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "trace/expectations.h"

namespace torn::recorder {

struct GuestReport {
  std::vector<std::string> marks;  // in the order sent
  trace::Expectations manifests;
  std::optional<int> workload_exit;
};

Result<GuestReport> ParseGuestReport(std::string_view report);

}  // namespace torn::recorder
