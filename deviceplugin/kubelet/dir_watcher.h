#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace epc::deviceplugin::kubelet {

// inotify on one directory (kubelet's device-plugin dir): entries created, deleted or moved, and
// the directory itself going away. Events only say "look again"; the caller then checks the
// files themselves, since inotify can miss events (queue overflow, hostPath remounted).
//
// Thread-safety: none; used by one thread. Owns one file descriptor for its lifetime.
class DirWatcher {
 public:
  DirWatcher();
  ~DirWatcher();
  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;

  // False when inotify is not available at all (the caller falls back to polling).
  bool valid() const { return fd_ >= 0; }
  // For poll(): readable when events are waiting.
  int fd() const { return fd_; }

  // Starts watching `dir` unless already watching it. False when it does not exist (yet).
  bool ensure_watching(const std::string& dir);
  bool watching() const { return wd_ >= 0; }

  struct Events {
    bool any = false;
    std::vector<std::string> created;  // names created or moved in
  };
  // Reads every waiting event without blocking. The watch is dropped when the directory was
  // deleted or moved (ensure_watching() adds it again once it is back).
  Events drain();

 private:
  int fd_ = -1;
  int wd_ = -1;
};

}  // namespace epc::deviceplugin::kubelet
