// Status and Result<T>: the one error type every stage returns.
//
// A Status says what went wrong (a code the caller can act on) and where (a message that names the
// file, the entry index or the byte offset). It is [[nodiscard]]: a dropped error is a compile warning.
// Context is added as the error travels up: `return st.with_context("replay " + path)`.
//
// Codes and what the caller should do:
//   kBadInput     the input is malformed or the usage is wrong: report, exit 2
//   kTruncated    the input ends early (a log cut short): report, exit 2 (kept apart from kBadInput so
//                 a caller that can use a prefix may do so)
//   kIo           the operating system refused (open, read, ioctl): report, exit 2
//   kUnavailable  a needed tool or kernel feature is missing (device-mapper, KVM): report, exit 2
//   kTimeout      a child or a wait ran past its limit
//   kInterrupted  the user pressed Ctrl-C or sent SIGTERM: unwind, clean up, exit 130
//   kInternal     a bug in torn
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace torn {

enum class Code { kOk, kBadInput, kTruncated, kIo, kUnavailable, kTimeout, kInterrupted, kInternal };

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "context: message", so the outermost caller's words come first.
  Status with_context(const std::string& context) const {
    if (ok()) return *this;
    return {code_, context + ": " + message_};
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status BadInput(std::string m) { return {Code::kBadInput, std::move(m)}; }
inline Status Truncated(std::string m) { return {Code::kTruncated, std::move(m)}; }
inline Status IoError(std::string m) { return {Code::kIo, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
// "what: strerror(errno)" for a failed system call.
Status ErrnoError(const std::string& what, int err);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace torn

// Return early from the enclosing function when a Status is not ok.
#define TORN_RETURN_IF_ERROR(expr)          \
  do {                                      \
    ::torn::Status torn_st_ = (expr);       \
    if (!torn_st_.ok()) return torn_st_;    \
  } while (0)

#define TORN_CONCAT_INNER_(a, b) a##b
#define TORN_CONCAT_(a, b) TORN_CONCAT_INNER_(a, b)
// TORN_ASSIGN_OR_RETURN(auto x, MakeX()): binds the value or returns the error.
#define TORN_ASSIGN_OR_RETURN(lhs, expr) \
  TORN_ASSIGN_OR_RETURN_IMPL_(TORN_CONCAT_(torn_res_, __LINE__), lhs, expr)
#define TORN_ASSIGN_OR_RETURN_IMPL_(res, lhs, expr) \
  auto res = (expr);                                \
  if (!res.ok()) return res.status();               \
  lhs = std::move(res).value()
