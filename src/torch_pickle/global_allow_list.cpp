#include "fsdpshard/torch_pickle/global_allow_list.h"

#include <set>
#include <utility>

namespace fsdpshard {
namespace {

// torch 2.15's _get_allowed_globals(), name for name (regenerate with
// `sorted(torch._weights_only_unpickler._get_allowed_globals())` in the torch 2.x venv).
const std::set<std::string>& torch_weights_only_globals() {
  static const std::set<std::string> names{
      "_codecs.encode", "builtins.bytearray", "builtins.complex", "builtins.set", "collections.Counter",
      "collections.OrderedDict", "torch.BFloat16Storage", "torch.BFloat16Tensor", "torch.BoolStorage",
      "torch.BoolTensor", "torch.ByteStorage", "torch.ByteTensor", "torch.CharStorage", "torch.CharTensor",
      "torch.ComplexDoubleStorage", "torch.ComplexFloatStorage", "torch.DoubleStorage", "torch.DoubleTensor",
      "torch.FloatStorage", "torch.FloatTensor", "torch.HalfStorage", "torch.HalfTensor", "torch.IntStorage",
      "torch.IntTensor", "torch.LongStorage", "torch.LongTensor", "torch.QInt32Storage", "torch.QInt8Storage",
      "torch.QUInt2x4Storage", "torch.QUInt4x2Storage", "torch.QUInt8Storage", "torch.ShortStorage",
      "torch.ShortTensor", "torch.Size", "torch.Tensor", "torch._tensor._rebuild_from_type_v2",
      "torch._utils._rebuild_device_tensor_from_cpu_tensor", "torch._utils._rebuild_device_tensor_from_numpy",
      "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_parameter",
      "torch._utils._rebuild_parameter_with_state", "torch._utils._rebuild_qtensor",
      "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_tensor_v3", "torch._utils._rebuild_wrapper_subclass", "torch.bcomplex32",
      "torch.bfloat16", "torch.bits16", "torch.bits1x8", "torch.bits2x4", "torch.bits4x2", "torch.bits8",
      "torch.bool", "torch.complex128", "torch.complex32", "torch.complex64", "torch.cuda.BFloat16Storage",
      "torch.cuda.BFloat16Tensor", "torch.cuda.BoolStorage", "torch.cuda.BoolTensor", "torch.cuda.ByteStorage",
      "torch.cuda.ByteTensor", "torch.cuda.CharStorage", "torch.cuda.CharTensor",
      "torch.cuda.ComplexDoubleStorage", "torch.cuda.ComplexFloatStorage", "torch.cuda.DoubleStorage",
      "torch.cuda.DoubleTensor", "torch.cuda.FloatStorage", "torch.cuda.FloatTensor", "torch.cuda.HalfStorage",
      "torch.cuda.HalfTensor", "torch.cuda.IntStorage", "torch.cuda.IntTensor", "torch.cuda.LongStorage",
      "torch.cuda.LongTensor", "torch.cuda.ShortStorage", "torch.cuda.ShortTensor",
      "torch.cuda.sparse.BFloat16Tensor", "torch.cuda.sparse.ByteTensor", "torch.cuda.sparse.CharTensor",
      "torch.cuda.sparse.DoubleTensor", "torch.cuda.sparse.FloatTensor", "torch.cuda.sparse.HalfTensor",
      "torch.cuda.sparse.IntTensor", "torch.cuda.sparse.LongTensor", "torch.cuda.sparse.ShortTensor",
      "torch.device", "torch.float16", "torch.float32", "torch.float4_e2m1fn_x2", "torch.float64",
      "torch.float8_e4m3fn", "torch.float8_e4m3fnuz", "torch.float8_e5m2", "torch.float8_e5m2fnuz",
      "torch.float8_e8m0fnu", "torch.int1", "torch.int16", "torch.int2", "torch.int3", "torch.int32",
      "torch.int4", "torch.int5", "torch.int6", "torch.int64", "torch.int7", "torch.int8",
      "torch.nn.parameter.Parameter", "torch.per_channel_affine", "torch.per_channel_affine_float_qparams",
      "torch.per_channel_symmetric", "torch.per_tensor_affine", "torch.per_tensor_symmetric", "torch.qint32",
      "torch.qint8", "torch.quint2x4", "torch.quint4x2", "torch.quint8", "torch.serialization._get_layout",
      "torch.sparse.BFloat16Tensor", "torch.sparse.ByteTensor", "torch.sparse.CharTensor",
      "torch.sparse.DoubleTensor", "torch.sparse.FloatTensor", "torch.sparse.HalfTensor",
      "torch.sparse.IntTensor", "torch.sparse.LongTensor", "torch.sparse.ShortTensor",
      "torch.storage.TypedStorage", "torch.storage.UntypedStorage", "torch.uint1", "torch.uint16",
      "torch.uint2", "torch.uint3", "torch.uint32", "torch.uint4", "torch.uint5", "torch.uint6",
      "torch.uint64", "torch.uint7", "torch.uint8",
  };
  return names;
}

// What AudioCraft checkpoints hold besides tensors, none of which runs code when built:
// xp.cfg's omegaconf objects (restored by __setstate__ from plain values), typing.Any
// (ContainerMetadata's key/element/ref types), plain containers and scalars, numpy values
// (metrics in history) and the copyreg helpers that only call cls.__new__ of a class
// that is itself checked here.
const std::set<std::string>& fsdpshard_extra_globals() {
  static const std::set<std::string> names{
      "omegaconf.dictconfig.DictConfig", "omegaconf.listconfig.ListConfig", "omegaconf.base.ContainerMetadata",
      "omegaconf.base.Metadata", "omegaconf.nodes.AnyNode", "omegaconf.nodes.StringNode",
      "omegaconf.nodes.IntegerNode", "omegaconf.nodes.FloatNode", "omegaconf.nodes.BooleanNode",
      "omegaconf.nodes.BytesNode", "omegaconf.nodes.PathNode", "omegaconf.nodes.InterpolationResultNode",
      "typing.Any",
      "builtins.dict", "builtins.list", "builtins.tuple", "builtins.int", "builtins.float", "builtins.str",
      "builtins.bool", "builtins.bytes", "builtins.frozenset",
      "collections.defaultdict",
      "copyreg.__newobj__", "copyreg.__newobj_ex__",
      "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.core.multiarray._reconstruct",
      "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype",
  };
  return names;
}

// Python 3's unpickler reads protocol 2 names through _compat_pickle; the few that matter.
std::pair<std::string, std::string> python3_name(const std::string& module, const std::string& name) {
  if (module == "copy_reg") return {"copyreg", name};
  if (module != "__builtin__") return {module, name};
  if (name == "long") return {"builtins", "int"};
  if (name == "unicode" || name == "basestring") return {"builtins", "str"};
  if (name == "xrange") return {"builtins", "range"};
  return {"builtins", name};
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() > suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

GlobalVerdict global_verdict(const std::string& module, const std::string& name) {
  const auto [mod, qualname] = python3_name(module, name);
  const std::string full = mod + "." + qualname;
  if (torch_weights_only_globals().count(full)) return GlobalVerdict::WeightsOnlySafe;
  if (fsdpshard_extra_globals().count(full)) return GlobalVerdict::AllowedByFsdpshard;
  // numpy >= 1.25 pickles a dtype's class as numpy.dtypes.<Kind>DType.
  if (mod == "numpy.dtypes" && ends_with(qualname, "DType") && qualname.find('.') == std::string::npos) {
    return GlobalVerdict::AllowedByFsdpshard;
  }
  return GlobalVerdict::CanRunCode;
}

const char* verdict_name(GlobalVerdict verdict) {
  switch (verdict) {
    case GlobalVerdict::WeightsOnlySafe: return "weights-only-safe";
    case GlobalVerdict::AllowedByFsdpshard: return "allowed-by-fsdpshard";
    case GlobalVerdict::CanRunCode: return "can-run-code";
  }
  return "?";
}

}  // namespace fsdpshard
