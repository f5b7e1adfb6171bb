#pragma once

// A small synchronous HTTPS client for the webhook server tests (Boost.Beast over OpenSSL,
// kept out of this header so that test files compile without Asio). It verifies the server
// against a CA file with SNI and host name "localhost", can present a client certificate,
// sends several requests on one connection, writes raw bytes (slow or partial clients), and
// bounds every blocking call by a timeout: a server that hangs fails a test, never the suite.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace emguard::test {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  bool keep_alive = false;  // what the response says of the connection

  // The header's value, "" when absent; name in any case.
  std::string header(std::string_view name) const;
};

struct HttpRequest {
  std::string method = "POST";
  std::string target = "/validate";
  std::string body;
  std::string content_type = "application/json";  // "" = no Content-Type header
  std::vector<std::pair<std::string, std::string>> headers;
  bool keep_alive = true;
  bool chunked = false;  // Transfer-Encoding: chunked (body sent in 1 KiB chunks)
};

struct TlsClientOptions {
  std::filesystem::path ca_file;  // the server is verified against this CA; required
  std::string server_name = "localhost";
  std::filesystem::path client_certificate;  // PEM; empty = none
  std::filesystem::path client_key;
  std::chrono::milliseconds timeout{5000};  // for each connect, handshake, read or write
  // The local address to connect from ("" = the kernel's choice, 127.0.0.1): another loopback
  // address such as 127.0.0.2 makes the connection a different client to the server.
  std::string source_address;
  // "" = TLS 1.2 or newer; "TLSv1.1", "TLSv1.2" or "TLSv1.3" = exactly that version.
  std::string protocol;
  // OpenSSL cipher list for TLS 1.2 and older ("" = OpenSSL's default).
  std::string ciphers;
};

// The serial number (upper-case hex, as the server logs it) and notAfter (Unix seconds) of the
// first certificate in a PEM file; throws std::runtime_error when the file is unreadable.
struct CertificateInfo {
  std::string serial;
  std::int64_t not_after = 0;
};
CertificateInfo read_certificate(const std::filesystem::path& pem_file);

class TlsClient {
 public:
  explicit TlsClient(TlsClientOptions options);
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // TCP connect to 127.0.0.1:port and TLS handshake. Returns "" on success, else why not.
  std::string connect(std::uint16_t port);
  // Only the TCP connection; handshake() finishes the job (for timing a server's reaction).
  std::string connect_tcp(std::uint16_t port);
  std::string handshake();

  // Sends a request and reads its response; nullopt (and `error` set) when either fails.
  std::optional<HttpResponse> request(const HttpRequest& request, std::string* error = nullptr);
  // The request's bytes exactly as request() sends them.
  static std::string serialize(const HttpRequest& request);

  // Writes bytes through TLS as they are. Returns "" on success.
  std::string write_raw(std::string_view bytes);
  // Reads one response. nullopt (and `error` set) on failure or timeout.
  std::optional<HttpResponse> read_response(std::string* error = nullptr);
  // Writes `bytes` while reading the response, both on this client's one thread, for a server
  // that answers (and may close) before the request has all been sent. The client is not
  // thread-safe: a writer thread beside read_response() races on the TLS stream.
  // `write_error` (may be null) gets why the write stopped, "" when it finished.
  std::optional<HttpResponse> write_while_reading(std::string_view bytes, std::string* write_error,
                                                  std::string* error = nullptr);

  // Waits up to `timeout` for the server to close the connection (EOF, close_notify, reset),
  // without consuming a response: true when it did, false when the connection is still open.
  bool wait_closed(std::chrono::milliseconds timeout);

  // The serial of the certificate the server presented (upper-case hex).
  std::string peer_serial() const;
  // The negotiated protocol, e.g. "TLSv1.3".
  std::string protocol() const;

  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One plain TCP exchange with 127.0.0.1:port: connects, writes `bytes` (if any), and reads
// until the server closes or `timeout` passes. Returns what was read; `closed` says whether the
// server closed the connection (false: timed out with the connection open). `error` is the
// connect error, "" when connected.
struct PlainExchange {
  std::string error;
  std::string received;
  bool closed = false;
  std::chrono::milliseconds elapsed{0};  // from connect to close (or timeout)
};
PlainExchange plain_exchange(std::uint16_t port, std::string_view bytes,
                             std::chrono::milliseconds timeout);

// Whether a TCP connection to 127.0.0.1:port is refused (nothing listens).
bool connection_refused(std::uint16_t port);

}  // namespace emguard::test
