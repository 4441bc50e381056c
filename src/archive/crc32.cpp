#include "fsdpshard/archive/crc32.h"

#include <libdeflate.h>

#include <array>

namespace fsdpshard {

uint32_t crc32_update(uint32_t crc, const void* data, std::size_t size) {
  return libdeflate_crc32(crc, data, size);
}

namespace {

// CRC-32 without its pre/post inversion is linear over GF(2): appending n zero bytes to
// a message maps its register by a fixed 32x32 bit matrix M_n. Appending B to A gives
// crc(A·B) = M_len(B)(crc(A)) xor crc(B) (the inversions cancel out). A matrix is stored
// as its 32 columns: column i is the image of the register with only bit i set.
using Matrix = std::array<uint32_t, 32>;

uint32_t apply(const Matrix& m, uint32_t vector) {
  uint32_t result = 0;
  for (int i = 0; vector != 0; ++i, vector >>= 1) {
    if (vector & 1u) result ^= m[i];
  }
  return result;
}

// m·m: the operator applied twice.
Matrix square(const Matrix& m) {
  Matrix result{};
  for (int i = 0; i < 32; ++i) result[i] = apply(m, m[i]);
  return result;
}

// Feeding one zero bit into the reflected register: shift right, and when the bit that
// falls out was set, xor the polynomial.
Matrix one_zero_bit() {
  Matrix m{};
  m[0] = 0xEDB88320u;
  for (int i = 1; i < 32; ++i) m[i] = 1u << (i - 1);
  return m;
}

}  // namespace

uint32_t crc32_combine(uint32_t crc1, uint32_t crc2, uint64_t len2) {
  // Operator for one zero byte = one zero bit applied 8 times.
  Matrix power = square(square(square(one_zero_bit())));
  // Binary exponentiation over the bits of len2: power runs through M_1, M_2, M_4, …
  while (len2 != 0) {
    if (len2 & 1u) crc1 = apply(power, crc1);
    len2 >>= 1;
    if (len2 != 0) power = square(power);
  }
  return crc1 ^ crc2;
}

}  // namespace fsdpshard
