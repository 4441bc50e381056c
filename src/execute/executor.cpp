#include "fsdpshard/execute/executor.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <vector>

#include "archive/fd_io.h"
#include "fsdpshard/archive/atomic_directory.h"
#include "fsdpshard/archive/atomic_file.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/archive/read_only_file.h"

namespace fsdpshard {
namespace {

constexpr int kDataTag = 7;

// Input files, opened on first use: a rank opens only the files it reads from.
class Inputs {
 public:
  explicit Inputs(const std::vector<std::string>& paths) : paths_(paths), files_(paths.size()) {}
  void read(uint32_t input, uint64_t offset, void* dst, std::size_t size) {
    archive::pread_exact(fd(input), dst, size, offset, paths_[input], "tensor bytes at offset " + std::to_string(offset));
  }
  const std::string& path(uint32_t input) const { return paths_[input]; }
  int fd(uint32_t input) {
    if (files_[input].fd() < 0) {
      files_[input] = ReadOnlyFile(paths_[input]);
#ifdef POSIX_FADV_SEQUENTIAL
      ::posix_fadvise(files_[input].fd(), 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    return files_[input].fd();
  }

 private:
  const std::vector<std::string>& paths_;
  std::vector<ReadOnlyFile> files_;
};

// Records at least this large that this rank reads and writes unchanged are copied file
// to file by the kernel; smaller ones are gathered with their neighbours' headers into
// one write instead.
constexpr uint64_t kKernelCopyMinBytes = 256u << 10;

// Splits a record into chunks of at most `chunk_elements` and reads them; a record that
// changes dtype is cast by the communicator (on its device, where it has one).
class ChunkReader {
 public:
  ChunkReader(Inputs& inputs, Communicator& comm, uint64_t chunk_bytes)
      : inputs_(inputs), comm_(comm), chunk_bytes_(chunk_bytes) {}

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
    if (r.source_dtype != r.dtype) {
      const CastPlace place = comm_.cast(scratch_.data(), r.source_dtype, dst, r.dtype, count);
      bytes_cast += source_size;
      if (place == CastPlace::Device) bytes_cast_on_device += source_size;
    }
    count_read(source_size);
  }
  // Elements [first, first + count) of `r` (r.copies_unchanged()) straight from its input
  // file into `sink`, copied by the kernel.
  void copy(const PlannedRecord& r, uint64_t first, uint64_t count, FileSink& sink) {
    const SourceSegment& run = r.segments.front();
    const uint64_t esize = element_size(r.dtype);
    sink.copy_from(inputs_.fd(run.input), run.offset + first * esize, count * esize, inputs_.path(run.input));
    count_read(count * esize);
  }
  uint64_t bytes_read = 0;
  uint64_t bytes_cast = 0;
  uint64_t bytes_cast_on_device = 0;
  bool fail_after_first_read = false;

 private:
  void count_read(uint64_t bytes) {
    bytes_read += bytes;
    if (fail_after_first_read) {
      // Tests make one rank fail mid-transfer this way (FSDPSHARD_TEST_FAIL_RANK).
      throw RuntimeFailure("injected failure after reading " + std::to_string(bytes_read) +
                           " bytes (FSDPSHARD_TEST_FAIL_RANK)");
    }
  }
  Inputs& inputs_;
  Communicator& comm_;
  uint64_t chunk_bytes_;
  std::vector<char> scratch_;
};

std::string join_path(const std::string& folder, const std::string& name) {
  return folder.empty() ? name : folder + "/" + name;
}

// Where this rank's outputs go while they are written. One file: an AtomicFile on its
// writer. Several files: a temporary folder that rank 0 creates and renames into place
// once every writer is done (all or nothing). Every rank learns the temporary path, so a
// rank that fails can remove it before it ends the job: mpirun's SIGTERM reaches the
// owner's cleanup handler, but the SIGKILL that follows may come before the owner ran it.
class OutputLocation {
 public:
  OutputLocation(const Plan& plan, Communicator& comm, bool overwrite)
      : plan_(plan), comm_(comm), owner_(plan.single_file ? plan.files.at(0).writer : 0) {
    if (comm.rank() == owner_) {
      if (plan.single_file) {
        single_ = std::make_unique<AtomicFile>(plan.output, overwrite);
        temp_path_ = single_->temp_path();
      } else {
        folder_ = std::make_unique<AtomicDirectory>(plan.output, overwrite);
        temp_path_ = folder_->temp_path();
      }
    }
    comm.broadcast(temp_path_, owner_);
  }

  // The open output for `file`, on its writer.
  std::unique_ptr<AtomicFile> open(const PlannedFile& file) {
    if (plan_.single_file) return std::move(single_);
    return std::make_unique<AtomicFile>(join_path(temp_path_, file.name), false);
  }

  // After every rank moved its bytes: the folder takes the output's name.
  void commit() {
    if (plan_.single_file) return;  // committed by its writer when it was complete
    comm_.barrier();
    if (folder_) folder_->commit();
  }

  // On this rank's failure: the owner's destructors clean up; another rank removes the
  // owner's temporary output itself (a shared file system is what makes it visible).
  void remove_for_failure() noexcept {
    if (comm_.rank() == owner_ || comm_.size() == 1) return;
    // The owner may still be adding a file to the folder while it goes: try a few times.
    for (int attempt = 0; attempt < 20; ++attempt) {
      std::error_code ec;
      std::filesystem::remove_all(temp_path_, ec);
      if (!std::filesystem::exists(temp_path_, ec)) return;
      ::usleep(10000);
    }
  }

 private:
  const Plan& plan_;
  Communicator& comm_;
  int owner_;
  std::string temp_path_;
  std::unique_ptr<AtomicFile> single_;
  std::unique_ptr<AtomicDirectory> folder_;
};

// Moves every record of the plan that involves this rank, file by file in plan order (so
// every pair of ranks meets its messages in the same order: no deadlock).
class Mover {
 public:
  Mover(const Plan& plan, Communicator& comm, const ExecuteOptions& options, ChunkReader& reader, uint64_t chunk_bytes)
      : plan_(plan), comm_(comm), options_(options), reader_(reader),
        // Not zero-filled: a page costs memory only once a chunk lands in it.
        buffers_{std::unique_ptr<char[]>(new char[chunk_bytes]), std::unique_ptr<char[]>(new char[chunk_bytes])} {
    for (const auto& f : plan.files) {
      if (f.writer == comm.rank()) total_to_write_ += f.bytes();
    }
  }

  void run(OutputLocation& location, ExecuteStats& stats) {
    for (const PlannedFile& file : plan_.files) {
      if (file.writer == comm_.rank()) {
        write_file(file, location, stats);
        stats.records_written += file.records.size();
      } else {
        send_records(file, stats);
      }
    }
  }

 private:
  // Writes `file`: records this rank reads go straight in, the others arrive in chunks
  // from their readers.
  void write_file(const PlannedFile& file, OutputLocation& location, ExecuteStats& stats) {
    std::unique_ptr<AtomicFile> out = location.open(file);
    const std::string label = plan_.single_file ? plan_.output : join_path(plan_.output, file.name);
    auto sink = file.encoding->open_sink(file, out->fd(), label);
    char* buffer = buffers_[0].get();
    for (const PlannedRecord& r : file.records) {
      if (r.reader == comm_.rank()) ++stats.records_read;
      sink->begin_record(r);
      // Read here and written unchanged: the bytes need not pass through this process
      // (half the memory traffic of read + write; benchmarks/RESULTS.md).
      const bool kernel_copy = r.reader == comm_.rank() && r.copies_unchanged() && r.bytes() >= kKernelCopyMinBytes &&
                               sink->can_copy(r);
      const uint64_t step = reader_.chunk_elements(r);
      for (uint64_t first = 0; first < r.count; first += step) {
        const uint64_t count = std::min(step, r.count - first);
        const std::size_t size = count * element_size(r.dtype);
        if (kernel_copy) {
          reader_.copy(r, first, count, *sink);
        } else {
          if (r.reader == comm_.rank()) {
            reader_.read(r, first, count, buffer);
          } else {
            comm_.recv(buffer, size, r.reader, kDataTag);
            stats.bytes_received += size;
          }
          sink->append(buffer, size);
        }
        written_ += size;
        stats.bytes_written += size;
        if (options_.on_progress) options_.on_progress(written_, total_to_write_);
      }
      sink->end_record();
    }
    sink->finish();
    out->commit();  // into place (single file) or into the temporary folder
  }

  // Sends the records of `file` this rank reads to the file's writer, double-buffered so
  // the next chunk is read while the previous one is in flight.
  void send_records(const PlannedFile& file, ExecuteStats& stats) {
    std::unique_ptr<PendingSend> in_flight[2];
    int next = 0;
    for (const PlannedRecord& r : file.records) {
      if (r.reader != comm_.rank()) continue;
      ++stats.records_read;
      const uint64_t step = reader_.chunk_elements(r);
      for (uint64_t first = 0; first < r.count; first += step) {
        const uint64_t count = std::min(step, r.count - first);
        const std::size_t size = count * element_size(r.dtype);
        if (in_flight[next]) in_flight[next]->wait();
        reader_.read(r, first, count, buffers_[next].get());
        in_flight[next] = comm_.isend(buffers_[next].get(), size, file.writer, kDataTag);
        stats.bytes_sent += size;
        next ^= 1;
      }
    }
    for (auto& pending : in_flight) {
      if (pending) pending->wait();
    }
  }

  const Plan& plan_;
  Communicator& comm_;
  const ExecuteOptions& options_;
  ChunkReader& reader_;
  std::unique_ptr<char[]> buffers_[2];
  uint64_t total_to_write_ = 0;
  uint64_t written_ = 0;
};

}  // namespace

ExecuteStats execute(const Plan& plan, Communicator& comm, const ExecuteOptions& options) {
  // Buffers: a reading rank holds two chunks in flight plus a cast scratch; keep the sum
  // within max_inflight. 16 MiB chunks already make every read and write efficient, and
  // keep a rank's memory small (benchmarks/RESULTS.md: peak RSS per rank).
  const uint64_t chunk_bytes = std::clamp<uint64_t>(options.max_inflight / 8, 1ull << 20, 16ull << 20);
  Inputs inputs(plan.inputs);
  ChunkReader reader(inputs, comm, chunk_bytes);
  if (const char* fail_rank = std::getenv("FSDPSHARD_TEST_FAIL_RANK")) {
    reader.fail_after_first_read = std::atoi(fail_rank) == comm.rank();
  }
  ExecuteStats stats;
  OutputLocation location(plan, comm, options.overwrite);
  try {
    Mover(plan, comm, options, reader, chunk_bytes).run(location, stats);
  } catch (...) {
    location.remove_for_failure();
    throw;
  }
  location.commit();
  stats.bytes_read = reader.bytes_read;
  stats.bytes_cast = reader.bytes_cast;
  stats.bytes_cast_on_device = reader.bytes_cast_on_device;
  return stats;
}

ExecuteStats planned_stats(const Plan& plan, int rank) {
  ExecuteStats stats;
  stats.bytes_read = plan.read_bytes(rank);
  for (const PlannedFile& file : plan.files) {
    const bool writes = file.writer == rank;
    if (writes) {
      stats.bytes_written += file.bytes();
      stats.records_written += file.records.size();
    }
    for (const PlannedRecord& r : file.records) {
      if (r.reader == rank) {
        ++stats.records_read;
        if (r.source_dtype != r.dtype) stats.bytes_cast += r.source_bytes();
        if (!writes) stats.bytes_sent += r.bytes();
      } else if (writes) {
        stats.bytes_received += r.bytes();
      }
    }
  }
  return stats;
}

}  // namespace fsdpshard
