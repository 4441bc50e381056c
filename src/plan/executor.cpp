#include "fsdpshard/executor.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "fsdpshard/atomic_directory.h"
#include "fsdpshard/atomic_file.h"
#include "fsdpshard/cast.h"
#include "fsdpshard/error.h"
#include "plan/file_sink.h"

namespace fsdpshard {
namespace {

constexpr int kDataTag = 7;

// Input files, opened on first use: a rank opens only the files it reads from.
class Inputs {
 public:
  explicit Inputs(const std::vector<std::string>& paths) : paths_(paths), fds_(paths.size(), -1) {}
  ~Inputs() {
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  void read(uint32_t input, uint64_t offset, void* dst, std::size_t size) {
    const int fd = open(input);
    char* p = static_cast<char*>(dst);
    while (size > 0) {
      const ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno(paths_[input] + ": read failed");
      }
      if (n == 0) {
        throw InputError(paths_[input] + ": truncated while reading (offset " + std::to_string(offset) + ")");
      }
      p += n;
      offset += static_cast<uint64_t>(n);
      size -= static_cast<std::size_t>(n);
    }
  }

 private:
  int open(uint32_t input) {
    if (fds_[input] < 0) {
      fds_[input] = ::open(paths_[input].c_str(), O_RDONLY | O_CLOEXEC);
      if (fds_[input] < 0) throw_errno("cannot open " + paths_[input]);
#ifdef POSIX_FADV_SEQUENTIAL
      ::posix_fadvise(fds_[input], 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    return fds_[input];
  }
  const std::vector<std::string>& paths_;
  std::vector<int> fds_;
};

// Splits a record into chunks of at most `chunk_elements` and reads (and casts) them.
class ChunkReader {
 public:
  ChunkReader(Inputs& inputs, uint64_t chunk_bytes) : inputs_(inputs), chunk_bytes_(chunk_bytes) {}

  uint64_t chunk_elements(const PlannedRecord& r) const {
    const uint64_t widest = std::max(element_size(r.source_dtype), element_size(r.dtype));
    return std::max<uint64_t>(1, chunk_bytes_ / widest);
  }
  // Reads elements [first, first + count) of `r` into `dst` in the output dtype.
  void read(const PlannedRecord& r, uint64_t first, uint64_t count, char* dst) {
    const std::size_t esize = element_size(r.source_dtype);
    const std::size_t source_size = count * esize;
    char* target = dst;
    if (r.source_dtype != r.dtype) {
      scratch_.resize(std::max(scratch_.size(), source_size));
      target = scratch_.data();
    }
    // The wanted elements may span several segments (a parameter reassembled from
    // several rank files): read the overlap with each, in order.
    uint64_t segment_first = 0;  // index of the segment's first element within the record
    uint64_t done = 0;
    for (const SourceSegment& seg : r.segments) {
      if (done == count) break;
      const uint64_t segment_end = segment_first + seg.count;
      const uint64_t want = first + done;
      if (want < segment_end) {
        const uint64_t n = std::min(count - done, segment_end - want);
        if (seg.input == SourceSegment::kZeros) {
          std::memset(target + done * esize, 0, n * esize);  // zero bits are zero in every dtype
        } else {
          inputs_.read(seg.input, seg.offset + (want - segment_first) * esize, target + done * esize, n * esize);
        }
        done += n;
      }
      segment_first = segment_end;
    }
    if (done != count) {
      throw RuntimeFailure("plan error: record " + r.name + " has fewer elements in its segments than it counts");
    }
    if (r.source_dtype != r.dtype) cast_elements(scratch_.data(), r.source_dtype, dst, r.dtype, count);
    bytes_read += source_size;
    if (fail_after_first_read) {
      // Tests make one rank fail mid-transfer this way (FSDPSHARD_TEST_FAIL_RANK).
      throw RuntimeFailure("injected failure after reading " + std::to_string(bytes_read) +
                           " bytes (FSDPSHARD_TEST_FAIL_RANK)");
    }
  }
  uint64_t bytes_read = 0;
  bool fail_after_first_read = false;

 private:
  Inputs& inputs_;
  uint64_t chunk_bytes_;
  std::vector<char> scratch_;
};

std::string join_path(const std::string& folder, const std::string& name) {
  return folder.empty() ? name : folder + "/" + name;
}

}  // namespace

ExecuteStats execute(const Plan& plan, Communicator& comm, const ExecuteOptions& options) {
  const int me = comm.rank();
  // Buffers: a reading rank holds two chunks in flight plus a cast scratch; keep the sum
  // within max_inflight. 16 MiB chunks already make every read and write efficient, and
  // keep a rank's memory small (benchmarks/RESULTS.md: peak RSS per rank).
  const uint64_t chunk_bytes = std::clamp<uint64_t>(options.max_inflight / 8, 1ull << 20, 16ull << 20);
  Inputs inputs(plan.inputs);
  ChunkReader reader(inputs, chunk_bytes);
  if (const char* fail_rank = std::getenv("FSDPSHARD_TEST_FAIL_RANK")) {
    reader.fail_after_first_read = std::atoi(fail_rank) == me;
  }
  // Not zero-filled: a page costs memory only once a chunk lands in it.
  std::unique_ptr<char[]> buffers[2] = {std::unique_ptr<char[]>(new char[chunk_bytes]),
                                        std::unique_ptr<char[]>(new char[chunk_bytes])};
  ExecuteStats stats;

  // Output location. One file: an AtomicFile on its writer. Several files: a temporary
  // folder that rank 0 creates and later renames into place (all or nothing).
  std::unique_ptr<AtomicDirectory> folder;
  std::string folder_path;
  if (!plan.single_file) {
    if (me == 0) {
      folder = std::make_unique<AtomicDirectory>(plan.output, options.overwrite);
      folder_path = folder->temp_path();
    }
    comm.broadcast(folder_path, 0);
  }

  uint64_t total_to_write = 0;
  for (const auto& f : plan.files) {
    if (f.writer == me) total_to_write += f.bytes();
  }
  uint64_t written = 0;

  for (const PlannedFile& file : plan.files) {
    if (file.writer == me) {
      std::unique_ptr<AtomicFile> out;
      if (plan.single_file) {
        out = std::make_unique<AtomicFile>(plan.output, options.overwrite);
      } else {
        out = std::make_unique<AtomicFile>(join_path(folder_path, file.name), false);
      }
      auto sink = make_file_sink(file, out->fd());
      for (const PlannedRecord& r : file.records) {
        sink->begin_record(r);
        const uint64_t step = reader.chunk_elements(r);
        for (uint64_t first = 0; first < r.count; first += step) {
          const uint64_t count = std::min(step, r.count - first);
          const std::size_t size = count * element_size(r.dtype);
          if (r.reader == me) {
            reader.read(r, first, count, buffers[0].get());
          } else {
            comm.recv(buffers[0].get(), size, r.reader, kDataTag);
          }
          sink->append(buffers[0].get(), size);
          written += size;
          if (options.on_progress) options.on_progress(written, total_to_write);
        }
        sink->end_record();
      }
      sink->finish();
      out->commit();  // into place (single file) or into the temporary folder
      stats.bytes_written += file.bytes();
      continue;
    }
    // Not our file: send the records we read to its writer, double-buffered so the next
    // chunk is read while the previous one is in flight.
    std::unique_ptr<PendingSend> in_flight[2];
    int next = 0;
    for (const PlannedRecord& r : file.records) {
      if (r.reader != me) continue;
      const uint64_t step = reader.chunk_elements(r);
      for (uint64_t first = 0; first < r.count; first += step) {
        const uint64_t count = std::min(step, r.count - first);
        const std::size_t size = count * element_size(r.dtype);
        if (in_flight[next]) in_flight[next]->wait();
        reader.read(r, first, count, buffers[next].get());
        in_flight[next] = comm.isend(buffers[next].get(), size, file.writer, kDataTag);
        stats.bytes_sent += size;
        next ^= 1;
      }
    }
    for (auto& pending : in_flight) {
      if (pending) pending->wait();
    }
  }
  stats.bytes_read = reader.bytes_read;

  if (!plan.single_file) {
    // Every writer has closed its files inside the temporary folder; only then does the
    // folder take the output's name.
    comm.barrier();
    if (me == 0) folder->commit();
  }
  return stats;
}

}  // namespace fsdpshard
