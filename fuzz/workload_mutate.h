// workload_fuzzer's custom mutator: mutations at the level of operations on the records of
// workload_codec.h (insert, delete, replace an op; change its kind, a name, a flag, the offset or the
// length; swap two ops; add a persistence op on what an op touched), and a crossover that splices two
// workloads' steps. Each result is canonical (Encode(Decode(...))): every record is a valid op where it
// stands, so libFuzzer's corpus holds no bytes that decode to something else.
//
// `bytes` mutates a field's bytes the way libFuzzer's own mutator does (LLVMFuzzerMutate in the
// target; tests pass their own).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace torn::fuzz {

using ByteMutator = std::function<size_t(uint8_t* data, size_t size, size_t max_size)>;

// Mutates data[0, size) in place into at most max_size bytes; returns the new size.
size_t MutateWorkload(uint8_t* data, size_t size, size_t max_size, unsigned seed, const ByteMutator& bytes);

// Steps of a up to a random op, then steps of b from a random op; canonical, at most max_size bytes.
size_t CrossOverWorkloads(const uint8_t* a, size_t a_size, const uint8_t* b, size_t b_size, uint8_t* out,
                          size_t max_size, unsigned seed);

}  // namespace torn::fuzz
