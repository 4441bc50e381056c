// What gather's single-file formats (torch checkpoint, safetensors file) share: the job
// around their one file, and what --dry-run and the summary line say of it.
#pragma once

#include <string>

#include "formats/cfg_output.h"
#include "fsdpshard/formats/output_format.h"
#include "fsdpshard/plan/tied_names.h"

namespace fsdpshard {

// A job writing one file at -o, by rank 0, from the source's inputs. Its PlannedFile is
// named after -o and has no records yet.
PlannedJob single_file_job(const SelectedSource& source, const TransferOptions& options);

// Fills job.what and job.dry_run_text for a gather into format `format_name` (--to).
void describe_gather(PlannedJob& job, const SelectedSource& source, const TransferOptions& options,
                     const std::string& format_name, const OutputState& state, const TiedNames& tied,
                     const PreparedCfg& cfg);

}  // namespace fsdpshard
