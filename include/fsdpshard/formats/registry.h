// Every output format, as src/formats/registry.cpp lists them.
#pragma once

#include <string>
#include <vector>

#include "fsdpshard/formats/output_format.h"

namespace fsdpshard {

// All formats, in registration order (the order --help lists them in).
const std::vector<const OutputFormat*>& output_formats();

// The formats `option` offers, in registration order; the first is the option's default.
std::vector<const OutputFormat*> output_formats_for(FormatOption option);
const OutputFormat& default_output_format(FormatOption option);

// The format `option` names `name`; InputError listing the choices when there is none.
const OutputFormat& find_output_format(FormatOption option, const std::string& name);

}  // namespace fsdpshard
