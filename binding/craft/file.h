// Opening files named by callers (image inputs, models, the ONNX Runtime library) safely: one rule for every path.
//
//  - A path with a NUL byte is refused: C APIs would silently open the prefix ('a.png\0.txt' -> 'a.png').
//  - Only regular files: opening a FIFO for reading blocks until a writer appears (a libuv pool thread stuck in open()
//    forever), and a directory or a device (/dev/zero) is never an image or a model. The file is opened with
//    O_NONBLOCK, so even a FIFO opens at once and is refused by fstat() on the descriptor that would be read.
//  - Readers take the header first (ReadPrefix), so a caller can refuse a file by its first bytes before reading it whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "error.h"

namespace craft {

// Throws `code` when `path` is empty or contains a NUL byte. `what` names the file in messages ("Input file").
void CheckPath(const std::string& path, ErrorCode code, const std::string& what);

// An open regular file (read-only, close-on-exec). Throws `code` for a bad path, a file that can't be opened, or one
// that is not a regular file.
class RegularFile {
 public:
  RegularFile(const std::string& path, ErrorCode code, const std::string& what);
  ~RegularFile();
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;

  uint64_t size() const { return size_; }
  // Up to `n` bytes from the start of the file (fewer if the file is shorter).
  std::vector<uint8_t> ReadPrefix(size_t n);
  // The whole file.
  std::vector<uint8_t> ReadAll();

 private:
  void ReadAt(uint64_t offset, uint8_t* out, size_t n);

  int fd_ = -1;
  uint64_t size_ = 0;
  std::string path_;
  std::string what_;
  ErrorCode code_;
};

// For paths another library opens itself (ONNX Runtime's model loader, dlopen): the same checks, then the file is
// closed again. Between this check and the other library's open() the file could be swapped for a FIFO by someone
// who can write to its folder; that is outside what a caller-supplied path can do by accident or from input data.
void RequireRegularFile(const std::string& path, ErrorCode code, const std::string& what);

}  // namespace craft
