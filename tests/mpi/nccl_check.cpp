// The nccl backend and the CUDA cast kernels on a real GPU (launch/device-check.sh runs it).
// Exit codes: 0 pass, 1 fail, 77 skipped (no GPU: ctest reports "skipped").
//   nccl_check           under mpirun -np 1 or 2, or alone
// Built two ways: in the project (with MPI and LibTorch: also runs the backend suite,
// Communicator::cast for every dtype pair, the executor casting on the device, and
// compares the kernels with torch's CPU casts), or with -DFSDPSHARD_NCCL_CHECK_STANDALONE
// from a handful of sources where the GPU machine lacks the project's other dependencies
// (kernels against cast_math.h and the CPU cast, and the staging path).
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "comm/cast_math.h"
#include "comm/nccl/cast_kernels.h"
#include "comm/nccl/cuda_check.h"
#include "comm/nccl/device_caster.h"
#include "comm/nccl/nccl_channel.h"
#include "fsdpshard/plan/cast.h"
#include "mpi/check_report.h"

#ifndef FSDPSHARD_NCCL_CHECK_STANDALONE
#include <ATen/ATen.h>

#include "mpi/comm_suite.h"
#endif

namespace fsdpshard::check {
namespace {

// Inputs that cover every 16-bit pattern, and for float32 the special values, rounding
// ties and a stride through all 2^32 patterns.
std::vector<uint16_t> all_16_bit() {
  std::vector<uint16_t> v(65536);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint16_t>(i);
  return v;
}

std::vector<float> float_inputs() {
  std::vector<float> v = {0.0f, -0.0f, 1.0f, -1.0f, 65504.0f, 65519.996f, 65520.0f, 65536.0f,
                          INFINITY, -INFINITY, NAN, -NAN, 1e-8f, 5.9604645e-8f, 2.9802322e-8f,
                          6.1035156e-5f, 6.1035153e-5f, 3.4028235e38f, 1.1754944e-38f, 1e-45f};
  for (std::uint64_t bits = 0; bits < (1ull << 32); bits += 997) {
    v.push_back(cast_math::float_of(static_cast<uint32_t>(bits)));
  }
  return v;
}

template <typename In, typename Out, typename Reference>
void compare_cast(Report& report, DeviceCaster& caster, const std::vector<In>& input, DType from, DType to,
                  Reference reference) {
  std::vector<Out> device(input.size());
  caster.cast(input.data(), from, device.data(), to, input.size());
  // The CPU cast the other backends run (src/plan/cast.cpp): the same bits, all of them.
  std::vector<Out> cpu(input.size());
  cast_elements(input.data(), from, cpu.data(), to, input.size());
  report.expect(std::memcmp(cpu.data(), device.data(), device.size() * sizeof(Out)) == 0,
                std::string(torch_name(from)) + " -> " + std::string(torch_name(to)) +
                    ": device results differ from the CPU cast (cast_elements)");
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < input.size(); ++i) {
    Out expected = reference(input[i]);
    if (std::memcmp(&expected, &device[i], sizeof(Out)) != 0 && ++wrong <= 3) {
      uint32_t in_bits = 0, got = 0, want = 0;
      std::memcpy(&in_bits, &input[i], sizeof(In));
      std::memcpy(&got, &device[i], sizeof(Out));
      std::memcpy(&want, &expected, sizeof(Out));
      std::fprintf(stderr, "  %s->%s input 0x%x: device 0x%x, host 0x%x\n",
                   std::string(torch_name(from)).c_str(), std::string(torch_name(to)).c_str(),
                   in_bits, got, want);
    }
  }
  report.expect(wrong == 0, std::string(torch_name(from)) + " -> " + std::string(torch_name(to)) +
                                ": " + std::to_string(wrong) + " of " + std::to_string(input.size()) +
                                " device results differ from cast_math.h");
#ifndef FSDPSHARD_NCCL_CHECK_STANDALONE
  // And against torch's own CPU cast, NaN compared as "is NaN" (its NaN bits vary by path).
  const auto scalar = [](DType d) {
    return d == DType::Float32 ? at::kFloat : d == DType::Float16 ? at::kHalf : at::kBFloat16;
  };
  at::Tensor in = at::from_blob(const_cast<In*>(input.data()), {static_cast<int64_t>(input.size())},
                                scalar(from));
  at::Tensor torch_out = in.to(scalar(to)).contiguous();
  at::Tensor ours = at::from_blob(device.data(), {static_cast<int64_t>(device.size())}, scalar(to));
  at::Tensor both_nan = torch_out.isnan().logical_and(ours.isnan());
  const bool same_bits =
      std::memcmp(torch_out.data_ptr(), device.data(), device.size() * sizeof(Out)) == 0;
  const bool equal_or_nan = torch_out.eq(ours).logical_or(both_nan).all().item<bool>();
  report.expect(same_bits || equal_or_nan, std::string(torch_name(from)) + " -> " +
                                               std::string(torch_name(to)) + ": differs from torch");
#endif
}

void check_casts(Report& report) {
  namespace cm = cast_math;
  const auto sixteen = all_16_bit();
  const auto floats = float_inputs();
  DeviceCaster caster;  // float32 inputs are ~17 MB: more than one of its 16 MiB pieces
  compare_cast<float, uint16_t>(report, caster, floats, DType::Float32, DType::Float16, cm::float_to_half);
  compare_cast<float, uint16_t>(report, caster, floats, DType::Float32, DType::BFloat16, cm::float_to_bfloat16);
  compare_cast<uint16_t, float>(report, caster, sixteen, DType::Float16, DType::Float32, cm::half_to_float);
  compare_cast<uint16_t, float>(report, caster, sixteen, DType::BFloat16, DType::Float32, cm::bfloat16_to_float);
  compare_cast<uint16_t, uint16_t>(report, caster, sixteen, DType::Float16, DType::BFloat16, cm::half_to_bfloat16);
  compare_cast<uint16_t, uint16_t>(report, caster, sixteen, DType::BFloat16, DType::Float16, cm::bfloat16_to_half);
  compare_cast<float, float>(report, caster, floats, DType::Float32, DType::Float32, [](float f) { return f; });
  report.note("cast kernels: 6 dtype pairs + copy, " + std::to_string(floats.size()) +
              " float32 inputs, all 65536 16-bit patterns, against cast_math.h and the CPU cast");
}

// The staging path (host -> pinned -> device -> NCCL -> device -> pinned -> host) on one
// GPU: a one-rank communicator exchanging with itself.
void check_channel(Report& report) {
  ncclUniqueId id;
  check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  ncclComm_t comm = nullptr;
  check_nccl(ncclCommInitRank(&comm, 1, id, 0), "ncclCommInitRank (1 rank)");
  {
    NcclChannel small(comm, std::size_t{1} << 20);  // 1 MiB chunks: many chunks, cheaply
    NcclChannel normal(comm);
    const std::pair<NcclChannel*, std::size_t> cases[] = {
        {&small, 1}, {&small, (std::size_t{3} << 20) + 1}, {&small, std::size_t{1} << 20},
        {&normal, (std::size_t{64} << 20) + 5}};
    for (const auto& [channel, size] : cases) {
      std::vector<uint8_t> in(size), out(size, 0);
      for (std::size_t i = 0; i < size; ++i) in[i] = static_cast<uint8_t>(i * 131 + (i >> 12));
      channel->exchange(in.data(), out.data(), size, 0);
      report.expect(in == out, "self exchange of " + std::to_string(size) + " bytes differs");
    }
    const std::size_t size = std::size_t{512} << 20;
    std::vector<uint8_t> in(size, 1), out(size, 0);
    const auto start = std::chrono::steady_clock::now();
    normal.exchange(in.data(), out.data(), size, 0);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.expect(in == out, "self exchange of 512 MiB differs");
    report.note("nccl channel: self exchange 1 B .. 64 MiB+5 in 1 MiB and 64 MiB chunks; 512 MiB at " +
                std::to_string(size / s / 1e9) + " GB/s (host->device->host, unpipelined)");
  }
  ncclCommDestroy(comm);
}


}  // namespace
}  // namespace fsdpshard::check

int main() {
  using namespace fsdpshard;
  using namespace fsdpshard::check;
  Report report;
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("nccl_check: SKIP: no CUDA device visible\n");
    return 77;
  }
#ifdef FSDPSHARD_NCCL_CHECK_STANDALONE
  try {
    std::printf("nccl_check (standalone, no MPI): %d GPU(s), NCCL %d\n", devices, NCCL_VERSION_CODE);
    check_casts(report);
    check_channel(report);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ERROR: %s\n", e.what());
    return 1;
  }
  std::printf("nccl_check: %s (%d checks, %d failed)\n", report.failures ? "FAIL" : "PASS",
              report.checks, report.failures);
  return report.failures ? 1 : 0;
#else
  std::unique_ptr<Communicator> mpi;
  try {
    mpi = make_communicator(launched_by_mpi() ? "mpi" : "local");
    report.rank = mpi->rank();
    if (mpi->rank() == 0) {
      std::printf("nccl_check: %d rank(s), %d GPU(s), NCCL %d\n", mpi->size(), devices, NCCL_VERSION_CODE);
      check_casts(report);
      check_channel(report);
    }
    if (mpi->size() > devices) {
      // NCCL refuses two ranks on one GPU; the backend must say so on every rank.
      expect_throws<RuntimeFailure>(report, [] { make_communicator("nccl"); }, "one GPU per rank",
                                    "nccl with more ranks than GPUs");
      report.note("nccl backend with " + std::to_string(mpi->size()) + " ranks on " +
                  std::to_string(devices) + " GPU(s): refused on every rank, as it must be");
    } else {
      auto comm = make_communicator("nccl");
      report.expect(comm->backend() == "nccl", "backend name");
      if (launched_by_mpi()) {
        report.expect(make_communicator("auto")->backend() == "nccl", "auto picks nccl under mpirun");
      }
      run_comm_suite(*comm, report, SuiteOptions{});
      report.note("nccl backend: the shared suite over " + std::to_string(comm->size()) + " rank(s)");
      check_casts_like_cpu(*comm, report,
                           [](DType from, DType to) { return from != to && device_cast_supported(from, to); });
      check_executor_casts(*comm, report,
                           [](DType from, DType to) { return from != to && device_cast_supported(from, to); });
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[rank %d] ERROR: %s\n", report.rank, e.what());
    if (mpi) mpi->abort(1);
    return 1;
  }
  const bool all_passed = mpi->all_ok(report.failures == 0);
  if (mpi->rank() == 0) {
    std::printf("nccl_check: %s (%d checks on rank 0, failures on rank 0: %d)\n",
                all_passed ? "PASS" : "FAIL", report.checks, report.failures);
  }
  return all_passed ? 0 : 1;
#endif
}
