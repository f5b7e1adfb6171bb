// The memory that request bodies of all connections may hold together. A per-request limit
// alone lets 30 connections that each send an 8 MiB body take 240 MB of a 256 MiB pod; the
// budget bounds their sum. Small bodies (what the API server sends for almost every object)
// keep a reserve of their own, so that large bodies, however many, cannot crowd them out.
#pragma once

#include <cstddef>
#include <mutex>

namespace emguard::webhook {

class BodyBudget {
 public:
  // `total`: bytes all bodies may hold together. `small_body`: bodies of at most this size may
  // use all of `total`; larger ones only `total - reserve`.
  BodyBudget(std::size_t total, std::size_t reserve, std::size_t small_body);
  BodyBudget(const BodyBudget&) = delete;
  BodyBudget& operator=(const BodyBudget&) = delete;

  // The bytes one request holds; given back when it is destroyed.
  class Lease {
   public:
    Lease() = default;
    explicit Lease(BodyBudget& budget) : budget_(&budget) {}
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }

    // Holds `bytes` in all (more or fewer than now). False, holding what it held, when the
    // budget has no room for them.
    bool resize(std::size_t bytes);
    std::size_t bytes() const { return bytes_; }
    void release();

   private:
    BodyBudget* budget_ = nullptr;
    std::size_t bytes_ = 0;
  };

  Lease lease() { return Lease(*this); }
  std::size_t in_use() const;
  std::size_t total() const { return total_; }
  // The largest body that can ever be admitted (total - reserve).
  std::size_t largest_large_body() const { return total_ - reserve_; }

 private:
  bool change(std::size_t from, std::size_t to);

  const std::size_t total_;
  const std::size_t reserve_;
  const std::size_t small_body_;
  mutable std::mutex mutex_;
  std::size_t in_use_ = 0;
};

}  // namespace emguard::webhook
