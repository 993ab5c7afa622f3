#include "file.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace craft {

void CheckPath(const std::string& path, ErrorCode code, const std::string& what) {
  if (path.empty()) throw Error(code, what + " path is empty");
  if (path.find('\0') != std::string::npos) {
    throw Error(code, what + " path contains a NUL byte: '" + std::string(path.c_str()) + "\\0…'");
  }
}

RegularFile::RegularFile(const std::string& path, ErrorCode code, const std::string& what)
    : path_(path), what_(what), code_(code) {
  CheckPath(path, code, what);
  // O_NONBLOCK: open() of a FIFO returns at once instead of waiting for a writer; fstat() below then refuses it.
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) throw Error(code, what + " '" + path + "' could not be opened: " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    throw Error(code, what + " '" + path + "' could not be opened: " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw Error(code, what + " '" + path + "' is not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

void RegularFile::ReadAt(uint64_t offset, uint8_t* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw Error(code_, what_ + " '" + path_ + "' could not be read: " + std::strerror(errno));
    if (got == 0) throw Error(code_, what_ + " '" + path_ + "' could not be read: it shrank while being read");
    done += static_cast<size_t>(got);
  }
}

std::vector<uint8_t> RegularFile::ReadPrefix(size_t n) {
  std::vector<uint8_t> bytes(static_cast<size_t>(std::min<uint64_t>(n, size_)));
  ReadAt(0, bytes.data(), bytes.size());
  return bytes;
}

std::vector<uint8_t> RegularFile::ReadAll() {
  if (size_ > SIZE_MAX / 2) throw Error(code_, what_ + " '" + path_ + "' is too large to read");
  std::vector<uint8_t> bytes(static_cast<size_t>(size_));
  ReadAt(0, bytes.data(), bytes.size());
  return bytes;
}

void RequireRegularFile(const std::string& path, ErrorCode code, const std::string& what) {
  RegularFile check(path, code, what);
}

}  // namespace craft
