// Loads an exported MusicGen-layout checkpoint (AudioCraft's export_lm: best_state +
// xp.cfg) into a torch::nn::Module whose parameters carry the checkpoint's names, runs a
// forward pass on fixed inputs and writes the logits with fsdpshard::libtorch::save.
//
//   musicgen_lm CHECKPOINT OUT.pt
//
// The model is a miniature of MusicGen's LM (audiocraft/models/lm.py): one embedding per
// codebook, pre-norm transformer layers with causal self-attention, cross-attention over
// the projected text condition and a feed-forward block, a final norm and one linear head
// per codebook. Sizes come from the checkpoint's tensors. tests/python/musicgen_lm.py is
// the same forward in Python.
#include <torch/torch.h>

#include <fsdpshard/torch.h>

#include <cmath>
#include <iostream>
#include <map>

namespace {

constexpr int64_t kHeads = 2;

// Attention with a packed in_proj_weight, as torch.nn.MultiheadAttention (bias=False).
struct AttentionImpl : torch::nn::Module {
  AttentionImpl(int64_t dim) {
    in_proj_weight = register_parameter("in_proj_weight", torch::empty({3 * dim, dim}));
    out_proj = register_module("out_proj", torch::nn::Linear(torch::nn::LinearOptions(dim, dim).bias(false)));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& memory, bool causal) {
    const int64_t dim = x.size(-1);
    const auto w = in_proj_weight.chunk(3, 0);
    auto heads = [&](const torch::Tensor& t) {  // [B, T, D] -> [B, H, T, D/H]
      return t.view({t.size(0), t.size(1), kHeads, dim / kHeads}).transpose(1, 2);
    };
    const auto q = heads(torch::matmul(x, w[0].t()));
    const auto k = heads(torch::matmul(memory, w[1].t()));
    const auto v = heads(torch::matmul(memory, w[2].t()));
    auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(dim / kHeads));
    if (causal) {
      const auto mask = torch::ones({x.size(1), memory.size(1)}, torch::kBool).triu(1);
      scores = scores.masked_fill(mask, -std::numeric_limits<float>::infinity());
    }
    const auto out = torch::matmul(scores.softmax(-1), v).transpose(1, 2).reshape({x.size(0), x.size(1), dim});
    return out_proj(out);
  }
  torch::Tensor in_proj_weight;
  torch::nn::Linear out_proj{nullptr};
};
TORCH_MODULE(Attention);

struct LayerImpl : torch::nn::Module {
  LayerImpl(int64_t dim, int64_t hidden) {
    self_attn = register_module("self_attn", Attention(dim));
    linear1 = register_module("linear1", torch::nn::Linear(torch::nn::LinearOptions(dim, hidden).bias(false)));
    linear2 = register_module("linear2", torch::nn::Linear(torch::nn::LinearOptions(hidden, dim).bias(false)));
    norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
    norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
    cross_attention = register_module("cross_attention", Attention(dim));
    norm_cross = register_module("norm_cross", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
  }
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& condition) {
    auto h = norm1(x);
    x = x + self_attn->forward(h, h, true);
    x = x + cross_attention->forward(norm_cross(x), condition, false);
    return x + linear2(torch::gelu(linear1(norm2(x))));
  }
  Attention self_attn{nullptr}, cross_attention{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr}, norm_cross{nullptr};
};
TORCH_MODULE(Layer);

// A module that only names its children ("condition_provider.conditioners.description").
struct Folder : torch::nn::Module {};

struct Sizes {
  int64_t codebooks = 0, card = 0, dim = 0, hidden = 0, layers = 0, condition_dim = 0;
};

struct TinyLmImpl : torch::nn::Module {
  explicit TinyLmImpl(const Sizes& s) {
    auto provider = register_module("condition_provider", std::make_shared<Folder>());
    auto conditioners = provider->register_module("conditioners", std::make_shared<Folder>());
    auto description = conditioners->register_module("description", std::make_shared<Folder>());
    output_proj = description->register_module("output_proj", torch::nn::Linear(s.condition_dim, s.dim));
    emb = register_module("emb", torch::nn::ModuleList());
    for (int64_t k = 0; k < s.codebooks; ++k) emb->push_back(torch::nn::Embedding(s.card + 1, s.dim));
    auto transformer = register_module("transformer", std::make_shared<Folder>());
    layers = transformer->register_module("layers", torch::nn::ModuleList());
    for (int64_t i = 0; i < s.layers; ++i) layers->push_back(Layer(s.dim, s.hidden));
    out_norm = register_module("out_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({s.dim})));
    linears = register_module("linears", torch::nn::ModuleList());
    for (int64_t k = 0; k < s.codebooks; ++k) {
      linears->push_back(torch::nn::Linear(torch::nn::LinearOptions(s.dim, s.card).bias(false)));
    }
  }
  // codes [B, K, T] -> logits [B, K, T, card]
  torch::Tensor forward(const torch::Tensor& codes, const torch::Tensor& condition) {
    torch::Tensor x;
    for (std::size_t k = 0; k < emb->size(); ++k) {
      const auto e = emb[k]->as<torch::nn::Embedding>()->forward(codes.select(1, static_cast<int64_t>(k)));
      x = x.defined() ? x + e : e;
    }
    const auto memory = output_proj(condition);
    for (const auto& layer : *layers) x = layer->as<Layer>()->forward(x, memory);
    x = out_norm(x);
    std::vector<torch::Tensor> logits;
    for (const auto& head : *linears) logits.push_back(head->as<torch::nn::Linear>()->forward(x));
    return torch::stack(logits, 1);
  }
  torch::nn::Linear output_proj{nullptr};
  torch::nn::ModuleList emb{nullptr}, layers{nullptr}, linears{nullptr};
  torch::nn::LayerNorm out_norm{nullptr};
};
TORCH_MODULE(TinyLm);

Sizes sizes_of(const std::map<std::string, at::Tensor>& state) {
  Sizes s;
  while (state.count("emb." + std::to_string(s.codebooks) + ".weight")) ++s.codebooks;
  while (state.count("transformer.layers." + std::to_string(s.layers) + ".linear1.weight")) ++s.layers;
  s.card = state.at("linears.0.weight").size(0);
  s.dim = state.at("linears.0.weight").size(1);
  s.hidden = state.at("transformer.layers.0.linear1.weight").size(0);
  s.condition_dim = state.at("condition_provider.conditioners.description.output_proj.weight").size(1);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: musicgen_lm CHECKPOINT OUT.pt\n";
    return 2;
  }
  try {
    // The export holds float16 weights; compute in float32 (a torch-exact cast on load).
    fsdpshard::libtorch::LoadOptions options;
    options.dtype = "float32";
    const auto checkpoint = fsdpshard::libtorch::load(argv[1], options);
    const std::map<std::string, at::Tensor> state(checkpoint.tensors.begin(), checkpoint.tensors.end());

    TinyLm model(sizes_of(state));
    torch::NoGradGuard no_grad;
    for (auto& parameter : model->named_parameters()) {
      const auto found = state.find(parameter.key());
      if (found == state.end()) throw std::runtime_error("the checkpoint has no tensor '" + parameter.key() + "'");
      parameter.value().copy_(found->second);
    }
    if (model->named_parameters().size() != state.size()) {
      throw std::runtime_error("the checkpoint has tensors the model does not use");
    }
    model->eval();

    // Fixed inputs, computed the same way in tests/python/musicgen_lm.py.
    const Sizes s = sizes_of(state);
    const auto codes = (torch::arange(2 * s.codebooks * 5, torch::kLong) * 7).remainder(s.card + 1).view({2, s.codebooks, 5});
    const auto condition = torch::sin(torch::arange(2 * 3 * s.condition_dim, torch::kFloat) * 0.01f).view({2, 3, s.condition_dim});
    const auto logits = model->forward(codes, condition);

    fsdpshard::libtorch::SaveOptions save_options;
    save_options.overwrite = true;
    fsdpshard::libtorch::save(argv[2], {{"logits", logits.contiguous()}}, save_options);
    std::cout << "logits " << logits.sizes() << " from " << state.size() << " tensors of " << argv[1] << "\n";
    return 0;
  } catch (const fsdpshard::InputError& e) {
    std::cerr << "musicgen_lm: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "musicgen_lm: " << e.what() << "\n";
    return 1;
  }
}
