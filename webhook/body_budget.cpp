#include "webhook/body_budget.hpp"

#include <algorithm>
#include <utility>

namespace emguard::webhook {

BodyBudget::BodyBudget(std::size_t total, std::size_t reserve, std::size_t small_body)
    : total_(total), reserve_(std::min(reserve, total)), small_body_(small_body) {}

std::size_t BodyBudget::in_use() const {
  const std::lock_guard lock(mutex_);
  return in_use_;
}

bool BodyBudget::change(std::size_t from, std::size_t to) {
  const std::lock_guard lock(mutex_);
  if (to <= from) {
    in_use_ -= from - to;
    return true;
  }
  const std::size_t limit = to <= small_body_ ? total_ : total_ - reserve_;
  const std::size_t others = in_use_ - from;
  if (others > limit || to > limit - others) return false;
  in_use_ = others + to;
  return true;
}

BodyBudget::Lease::Lease(Lease&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

BodyBudget::Lease& BodyBudget::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    budget_ = std::exchange(other.budget_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

bool BodyBudget::Lease::resize(std::size_t bytes) {
  if (budget_ == nullptr || bytes == bytes_) return budget_ != nullptr;
  if (!budget_->change(bytes_, bytes)) return false;
  bytes_ = bytes;
  return true;
}

void BodyBudget::Lease::release() {
  if (budget_ != nullptr && bytes_ > 0) budget_->change(bytes_, 0);
  bytes_ = 0;
}

}  // namespace emguard::webhook
