// DictConfig object graph -> CfgValue, as OmegaConf.to_container(cfg, resolve=False,
// enum_to_str=True) would give it, without importing omegaconf.
#pragma once

#include "config/cfg_value.h"
#include "fsdpshard/pickle/object_graph.h"

namespace fsdpshard::config {

// The whole config under a DictConfig (or ListConfig). InputError "xp.cfg: …" when the
// structure is not what omegaconf pickles.
CfgValue read_container(const Graph& g, NodeId container);

// A dict key node as omegaconf's to_container hands it to YAML.
CfgValue read_key(const Graph& g, NodeId key, const std::string& path);

// A Python value held by a leaf node ('_val') or given directly.
CfgValue read_plain_value(const Graph& g, NodeId value, const std::string& path);

}  // namespace fsdpshard::config
