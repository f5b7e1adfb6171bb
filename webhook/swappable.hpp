// A value the reloader replaces whole while request threads read it (the serving certificate,
// the policy engine): a reader takes one snapshot and keeps it for as long as it needs it, so a
// reload never shows it half the old value and half the new.
#pragma once

#include <memory>
#include <mutex>
#include <utility>

namespace emguard::webhook {

template <class T>
class Swappable {
 public:
  explicit Swappable(std::shared_ptr<const T> value) : value_(std::move(value)) {}
  // Takes the mutex: once per use (a review, a handshake), never once per field read.
  std::shared_ptr<const T> get() const {
    const std::lock_guard lock(mutex_);
    return value_;
  }
  void set(std::shared_ptr<const T> value) {
    const std::lock_guard lock(mutex_);
    value_ = std::move(value);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

}  // namespace emguard::webhook
