// How omegaconf objects look in a symbolic pickle graph (docs/FORMATS.md §4): which Object is a
// DictConfig, a ListConfig or a leaf node, and where their BUILD state keeps its fields.
#pragma once

#include <string>
#include <string_view>

#include "fsdpshard/pickle/object_graph.h"

namespace fsdpshard::config {

enum class OcKind { DictConfig, ListConfig, Leaf, NotOmegaconf };

// DictConfig / ListConfig / a node class of omegaconf.nodes (AnyNode, FloatNode, ...).
OcKind oc_kind(const Graph& g, NodeId id);

// The class name of a leaf ("FloatNode"), or "" for non-leaves.
std::string leaf_class(const Graph& g, NodeId id);

// The BUILD state dict of an omegaconf object; InputError ("xp.cfg: <path>: ...") when it
// has none or it is not a mapping.
NodeId oc_state(const Graph& g, NodeId id, const std::string& path);

// Index of the entry `field` in a mapping's entries, or -1.
long entry_index(const Graph& g, NodeId mapping, std::string_view field);

// Sets mapping[field] = value, appending the field when it is new.
void set_entry(Graph& g, NodeId mapping, std::string_view field, NodeId value);

// "a.b.c" style path for messages; the root is "xp.cfg".
std::string child_path(const std::string& parent, const std::string& key);

}  // namespace fsdpshard::config
