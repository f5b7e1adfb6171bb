#pragma once

// A stand-in Kubernetes API server on 127.0.0.1 (plain HTTP, Boost.Beast) for running the real
// `kubectl` inside em-guard's container scripts: the discovery documents kubectl reads, GET,
// create (POST) and replace (PUT) of namespaced objects kept in memory, the NotFound and
// Forbidden Status bodies a real API server sends, and a log of every request. Each connection
// is served to its end on the server's own thread; the destructor stops it.

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/script_runner.hpp"

namespace emguard::test {

class FakeKubeApi {
 public:
  // Serves namespace `ns` (kubectl checks that it exists when a get is NotFound).
  explicit FakeKubeApi(std::string ns = "emr-prod");
  ~FakeKubeApi();
  FakeKubeApi(const FakeKubeApi&) = delete;
  FakeKubeApi& operator=(const FakeKubeApi&) = delete;

  int port() const;
  const std::string& ns() const { return namespace_; }

  // The object stored at its path, e.g. put("configmaps", {...}) -> /api/v1/namespaces/NS/
  // configmaps/<metadata.name>; jobs go under /apis/batch/v1.
  void put(const std::string& resource, nlohmann::json object);
  void remove(const std::string& resource, const std::string& name);
  std::optional<nlohmann::json> get(const std::string& resource, const std::string& name) const;

  // Every request to resource/name (any verb) is answered 403 Forbidden, as RBAC would.
  void forbid(const std::string& resource, const std::string& name);
  void allow(const std::string& resource, const std::string& name);

  // "GET /api/v1/...", one line per request.
  std::vector<std::string> requests() const;

  // HOME (for kubectl's caches) and a kubeconfig pointing at this server.
  Env env(const std::filesystem::path& home) const;

 private:
  struct Impl;
  std::string namespace_;
  std::unique_ptr<Impl> impl_;
};

// True when a kubectl is on PATH (Debian: kubernetes-client, which ./dev.sh installs).
bool have_kubectl();

}  // namespace emguard::test
