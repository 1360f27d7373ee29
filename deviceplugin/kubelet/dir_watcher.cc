#include "deviceplugin/kubelet/dir_watcher.h"

#include <cerrno>
#include <cstring>

#include <sys/inotify.h>
#include <unistd.h>

namespace epc::deviceplugin::kubelet {

namespace {

constexpr std::uint32_t kWatchMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                     IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

}  // namespace

DirWatcher::DirWatcher() : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {}

DirWatcher::~DirWatcher() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool DirWatcher::ensure_watching(const std::string& dir) {
  if (fd_ < 0) {
    return false;
  }
  if (wd_ >= 0) {
    return true;
  }
  wd_ = ::inotify_add_watch(fd_, dir.c_str(), kWatchMask);
  return wd_ >= 0;
}

DirWatcher::Events DirWatcher::drain() {
  Events events;
  if (fd_ < 0) {
    return events;
  }
  alignas(inotify_event) char buffer[4096];
  for (;;) {
    const ssize_t got = ::read(fd_, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      break;  // EAGAIN: nothing more waiting
    }
    events.any = true;
    std::size_t offset = 0;
    while (offset + sizeof(inotify_event) <= static_cast<std::size_t>(got)) {
      inotify_event event;
      std::memcpy(&event, buffer + offset, sizeof(event));
      const char* name = buffer + offset + sizeof(inotify_event);
      if (event.wd == wd_ && (event.mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
        // The directory is gone or moved: the watch is dropped (the kernel does so itself on
        // IN_IGNORED) and added again on the new directory by ensure_watching().
        if ((event.mask & IN_IGNORED) == 0) {
          ::inotify_rm_watch(fd_, wd_);
        }
        wd_ = -1;
      }
      if ((event.mask & (IN_CREATE | IN_MOVED_TO)) != 0 && event.len > 0) {
        events.created.emplace_back(name, ::strnlen(name, event.len));
      }
      if ((event.mask & IN_Q_OVERFLOW) != 0) {
        events.any = true;  // some events were lost: the caller re-checks everything anyway
      }
      offset += sizeof(inotify_event) + event.len;
    }
  }
  return events;
}

}  // namespace epc::deviceplugin::kubelet
