#include "tests/support/fake_kube_api.hpp"

// Asio needs <utility> first under GCC 12 (see webhook/asio.hpp).
#include <utility>
// clang-format off
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
// clang-format on

#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>

namespace emguard::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

// Where a resource lives: the core group under /api/v1, the others under /apis/<group>/<v>.
std::string group_prefix(const std::string& resource) {
  return resource == "jobs" ? "/apis/batch/v1" : "/api/v1";
}
std::string group_name(const std::string& resource) { return resource == "jobs" ? "batch" : ""; }

json status(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
          {"status", "Failure"}, {"message", message}, {"reason", reason},
          {"code", code}};
}

json resource_list(const std::string& group_version, const json& resources) {
  return {{"kind", "APIResourceList"}, {"groupVersion", group_version}, {"resources", resources}};
}

json resource(const std::string& name, const std::string& kind, bool namespaced) {
  return {{"name", name},
          {"singularName", kind == "ConfigMap" ? "configmap" : name.substr(0, name.size() - 1)},
          {"namespaced", namespaced},
          {"kind", kind},
          {"verbs", {"create", "get", "list", "update", "patch", "delete"}}};
}

}  // namespace

struct FakeKubeApi::Impl {
  std::string ns;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;
  mutable std::mutex mutex;
  std::map<std::string, json> objects;                      // by path
  std::set<std::pair<std::string, std::string>> forbidden;  // resource, name ("" = collection)
  std::vector<std::string> log;
  int next_version = 1;

  struct Answer {
    http::status code;
    json body;
  };

  Answer route(http::verb verb, const std::string& target, const std::string& body) {
    const std::string path = target.substr(0, target.find('?'));
    const std::lock_guard lock(mutex);
    log.push_back(std::string(http::to_string(verb)) + " " + path);
    if (path == "/api") return {http::status::ok, {{"kind", "APIVersions"}, {"versions", {"v1"}}}};
    if (path == "/apis") {
      const json version = {{"groupVersion", "batch/v1"}, {"version", "v1"}};
      return {http::status::ok,
              {{"kind", "APIGroupList"},
               {"apiVersion", "v1"},
               {"groups", json::array({{{"name", "batch"},
                                        {"versions", json::array({version})},
                                        {"preferredVersion", version}}})}}};
    }
    if (path == "/api/v1") {
      return {http::status::ok,
              resource_list("v1", json::array({resource("configmaps", "ConfigMap", true),
                                               resource("secrets", "Secret", true),
                                               resource("namespaces", "Namespace", false)}))};
    }
    if (path == "/apis/batch/v1") {
      return {http::status::ok,
              resource_list("batch/v1", json::array({resource("jobs", "Job", true)}))};
    }
    if (path == "/api/v1/namespaces/" + ns) {
      return {http::status::ok,
              {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}}};
    }
    // <prefix>/namespaces/<ns>/<resource>[/<name>]
    for (const std::string prefix : {"/api/v1", "/apis/batch/v1"}) {
      const std::string base = prefix + "/namespaces/" + ns + "/";
      if (path.rfind(base, 0) != 0) continue;
      const std::string rest = path.substr(base.size());
      const std::string resource = rest.substr(0, rest.find('/'));
      const std::string name =
          rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/') + 1);
      return object_request(verb, resource, name, body);
    }
    return {http::status::not_found,
            status(404, "NotFound", "the server could not find the requested resource")};
  }

  Answer object_request(http::verb verb, const std::string& resource, std::string name,
                        const std::string& body) {
    const std::string group = group_name(resource);
    const std::string verb_name = verb == http::verb::get    ? "get"
                                  : verb == http::verb::post ? "create"
                                  : verb == http::verb::put  ? "update"
                                                             : "other";
    if (forbidden.count({resource, name}) != 0) {
      return {http::status::forbidden,
              status(403, "Forbidden",
                     resource + (name.empty() ? "" : " \"" + name + "\"") +
                         " is forbidden: User \"system:serviceaccount:" + ns +
                         ":default\" cannot " + verb_name + " resource \"" + resource +
                         "\" in API group \"" + group + "\" in the namespace \"" + ns + "\"")};
    }
    json object;
    if (verb == http::verb::post || verb == http::verb::put) {
      object = json::parse(body, nullptr, false);
      if (object.is_discarded() || !object.is_object()) {
        return {http::status::bad_request, status(400, "BadRequest", "the body is not JSON")};
      }
      if (verb == http::verb::post) name = object["metadata"].value("name", "");
    }
    const std::string key =
        group_prefix(resource) + "/namespaces/" + ns + "/" + resource + "/" + name;
    const std::string what = resource + (group.empty() ? "" : "." + group) + " \"" + name + "\"";
    const auto found = objects.find(key);
    if (verb == http::verb::get) {
      if (found == objects.end()) {
        return {http::status::not_found, status(404, "NotFound", what + " not found")};
      }
      return {http::status::ok, found->second};
    }
    if (verb == http::verb::post && found != objects.end()) {
      return {http::status::conflict, status(409, "AlreadyExists", what + " already exists")};
    }
    if (verb == http::verb::put && found == objects.end()) {
      return {http::status::not_found, status(404, "NotFound", what + " not found")};
    }
    if (verb != http::verb::post && verb != http::verb::put) {
      return {http::status::method_not_allowed,
              status(405, "MethodNotAllowed", "not supported here")};
    }
    object["metadata"]["namespace"] = ns;
    object["metadata"]["resourceVersion"] = std::to_string(next_version++);
    objects[key] = object;
    return {verb == http::verb::post ? http::status::created : http::status::ok, object};
  }

  void accept() {
    acceptor.async_accept([this](beast::error_code error, tcp::socket socket) {
      if (error) return;  // closed: the server is stopping
      serve(std::make_shared<beast::tcp_stream>(std::move(socket)));
      accept();
    });
  }

  // One connection: requests answered in turn until the client closes it (kubectl keeps
  // connections alive and opens several at once).
  void serve(std::shared_ptr<beast::tcp_stream> stream) {
    auto buffer = std::make_shared<beast::flat_buffer>();
    auto request = std::make_shared<http::request<http::string_body>>();
    http::async_read(
        *stream, *buffer, *request,
        [this, stream, buffer, request](beast::error_code error, std::size_t) {
          if (error) return;
          const Answer answer =
              route(request->method(), std::string(request->target()), request->body());
          auto response =
              std::make_shared<http::response<http::string_body>>(answer.code, request->version());
          response->set(http::field::content_type, "application/json");
          response->keep_alive(request->keep_alive());
          response->body() = answer.body.dump();
          response->prepare_payload();
          http::async_write(*stream, *response,
                            [this, stream, response](beast::error_code e, std::size_t) {
                              if (e || !response->keep_alive()) return;
                              serve(stream);
                            });
        });
  }
};

FakeKubeApi::FakeKubeApi(std::string ns)
    : namespace_(std::move(ns)), impl_(std::make_unique<Impl>()) {
  impl_->ns = namespace_;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

FakeKubeApi::~FakeKubeApi() {
  // Stopping the loop drops every pending connection with it.
  impl_->io.stop();
  impl_->thread.join();
}

int FakeKubeApi::port() const { return impl_->acceptor.local_endpoint().port(); }

void FakeKubeApi::put(const std::string& resource, json object) {
  const std::lock_guard lock(impl_->mutex);
  const std::string name = object["metadata"]["name"];
  object["metadata"]["namespace"] = namespace_;
  impl_->objects[group_prefix(resource) + "/namespaces/" + namespace_ + "/" + resource + "/" +
                 name] = std::move(object);
}

void FakeKubeApi::remove(const std::string& resource, const std::string& name) {
  const std::lock_guard lock(impl_->mutex);
  impl_->objects.erase(group_prefix(resource) + "/namespaces/" + namespace_ + "/" + resource + "/" +
                       name);
}

std::optional<json> FakeKubeApi::get(const std::string& resource, const std::string& name) const {
  const std::lock_guard lock(impl_->mutex);
  const auto found = impl_->objects.find(group_prefix(resource) + "/namespaces/" + namespace_ +
                                         "/" + resource + "/" + name);
  if (found == impl_->objects.end()) return std::nullopt;
  return found->second;
}

void FakeKubeApi::forbid(const std::string& resource, const std::string& name) {
  const std::lock_guard lock(impl_->mutex);
  impl_->forbidden.insert({resource, name});
}

void FakeKubeApi::allow(const std::string& resource, const std::string& name) {
  const std::lock_guard lock(impl_->mutex);
  impl_->forbidden.erase({resource, name});
}

std::vector<std::string> FakeKubeApi::requests() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->log;
}

Env FakeKubeApi::env(const std::filesystem::path& home) const {
  const std::filesystem::path kubeconfig = home / "kubeconfig";
  write_file(kubeconfig,
             "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n"
             "    server: http://127.0.0.1:" +
                 std::to_string(port()) +
                 "\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n"
                 "    user: fake\nusers:\n- name: fake\n  user:\n    token: x\n"
                 "current-context: fake\n");
  Env env = base_env();
  env["HOME"] = home.string();
  env["KUBECONFIG"] = kubeconfig.string();
  return env;
}

bool have_kubectl() {
  return run_process({"sh", "-c", "command -v kubectl"}, base_env(), std::chrono::seconds(5)).ok();
}

}  // namespace emguard::test
