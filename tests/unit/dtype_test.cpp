#include <gtest/gtest.h>

#include "fsdpshard/util/dtype.h"

namespace fsdpshard {

TEST(DType, NamesRoundTrip) {
  for (DType d : {DType::Float16, DType::BFloat16, DType::Float32, DType::Int64, DType::Bool}) {
    EXPECT_EQ(dtype_from_torch_name(torch_name(d)), d);
    EXPECT_EQ(dtype_from_storage_class(storage_class(d)), d);
    EXPECT_EQ(dtype_from_safetensors_name(safetensors_name(d)), d);
  }
  EXPECT_EQ(element_size(DType::BFloat16), 2u);
  EXPECT_EQ(dtype_from_torch_name("torch.half"), DType::Float16);
  EXPECT_FALSE(dtype_from_storage_class("NoSuchStorage").has_value());
  EXPECT_TRUE(is_floating(DType::BFloat16));
  EXPECT_FALSE(is_floating(DType::Int64));
}

}  // namespace fsdpshard
