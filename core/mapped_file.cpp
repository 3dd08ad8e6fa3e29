// mapped_file.cpp: read-only mmap of a whole file (POSIX). An empty file maps
// nothing and has size 0; errors name the path and carry strerror's text.
#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace gp {

MappedFile::MappedFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, ": ", std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    fail(path, ": ", std::strerror(e));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    fail(path, ": ", std::strerror(EISDIR));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, ": not a regular file");
  }
  if (st.st_size > 0) {
    if ((uint64_t)st.st_size > (uint64_t)std::numeric_limits<size_t>::max()) {
      ::close(fd);
      fail(path, ": file too large to map");
    }
    void* p = ::mmap(nullptr, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      fail(path, ": mmap: ", std::strerror(e));
    }
    data_ = static_cast<const uint8_t*>(p);
    size_ = (int64_t)st.st_size;
  }
  ::close(fd);  // the mapping stays valid after close
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), (size_t)size_);
}

bool MappedFile::contains(int64_t offset, int64_t len) const {
  return offset >= 0 && len >= 0 && offset <= size_ && len <= size_ - offset;
}

}  // namespace gp
