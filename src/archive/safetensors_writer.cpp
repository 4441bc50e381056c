#include <stdexcept>

#include "archive/buffered_writer.h"
#include "archive/byte_order.h"
#include "fsdpshard/archive/safetensors.h"

namespace fsdpshard {

SafetensorsWriter::SafetensorsWriter(int fd, std::vector<SafetensorsTensorSpec> tensors,
                                     const SafetensorsMetadata& metadata, std::string label)
    : tensors_(std::move(tensors)) {
  const std::string header = make_safetensors_header(tensors_, metadata);
  out_ = std::make_unique<archive::BufferedWriter>(fd, "writing " + label);
  std::string length;
  archive::put_le64(length, header.size());
  out_->write(length);
  out_->write(header);
  data_start_ = out_->position();
}

SafetensorsWriter::~SafetensorsWriter() = default;
SafetensorsWriter::SafetensorsWriter(SafetensorsWriter&&) noexcept = default;
SafetensorsWriter& SafetensorsWriter::operator=(SafetensorsWriter&&) noexcept = default;

uint64_t SafetensorsWriter::bytes_written() const { return out_ ? out_->position() : 0; }

void SafetensorsWriter::begin(std::string_view name) {
  if (in_tensor_ || finished_) throw std::logic_error("SafetensorsWriter::begin: tensor open or finished");
  if (next_ >= tensors_.size()) {
    throw std::logic_error("SafetensorsWriter: '" + std::string(name) + "' is not in the header");
  }
  if (tensors_[next_].name != name) {
    throw std::logic_error("SafetensorsWriter: expected tensor '" + tensors_[next_].name +
                           "' next, got '" + std::string(name) + "'");
  }
  in_tensor_ = true;
  remaining_ = tensors_[next_].nbytes;
}

void SafetensorsWriter::append(const void* data, std::size_t size) {
  if (!in_tensor_) throw std::logic_error("SafetensorsWriter::append outside a tensor");
  if (size > remaining_) {
    throw std::logic_error("SafetensorsWriter: tensor '" + tensors_[next_].name + "' got " +
                           std::to_string(size) + " bytes with " + std::to_string(remaining_) +
                           " left");
  }
  out_->write(data, size);
  remaining_ -= size;
}

void SafetensorsWriter::end() {
  if (!in_tensor_) throw std::logic_error("SafetensorsWriter::end outside a tensor");
  if (remaining_ != 0) {
    throw std::logic_error("SafetensorsWriter: tensor '" + tensors_[next_].name + "' is " +
                           std::to_string(remaining_) + " bytes short");
  }
  in_tensor_ = false;
  ++next_;
}

void SafetensorsWriter::add(std::string_view name, const void* data, std::size_t size) {
  begin(name);
  append(data, size);
  end();
}

void SafetensorsWriter::finish() {
  if (in_tensor_ || finished_) throw std::logic_error("SafetensorsWriter::finish: tensor open or finished");
  if (next_ != tensors_.size()) {
    throw std::logic_error("SafetensorsWriter::finish: tensor '" + tensors_[next_].name +
                           "' was not written");
  }
  out_->flush();
  finished_ = true;
}

}  // namespace fsdpshard
