#pragma once

#include <string>
#include <string_view>

namespace emguard {

// Incremental SHA-256 (OpenSSL), lower-case hex. Used to name what is deployed.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  std::string hex();

 private:
  void* context_;
};

}  // namespace emguard
