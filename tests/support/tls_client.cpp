// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include "tests/support/tls_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace emguard::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

std::string serial_hex(const ASN1_INTEGER* serial) {
  std::string result;
  if (BIGNUM* number = ASN1_INTEGER_to_BN(serial, nullptr)) {
    if (char* hex = BN_bn2hex(number)) {
      result = hex;
      OPENSSL_free(hex);
    }
    BN_free(number);
  }
  return result;
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  const auto found = headers.find(lower(name));
  return found == headers.end() ? std::string() : found->second;
}

CertificateInfo read_certificate(const std::filesystem::path& pem_file) {
  FILE* file = std::fopen(pem_file.c_str(), "r");
  if (file == nullptr) throw std::runtime_error("cannot open " + pem_file.string());
  X509* certificate = PEM_read_X509(file, nullptr, nullptr, nullptr);
  std::fclose(file);
  if (certificate == nullptr) throw std::runtime_error("no certificate in " + pem_file.string());
  CertificateInfo info;
  info.serial = serial_hex(X509_get0_serialNumber(certificate));
  std::tm expiry{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(certificate), &expiry) == 1) {
    info.not_after = static_cast<std::int64_t>(timegm(&expiry));
  }
  X509_free(certificate);
  return info;
}

struct TlsClient::Impl {
  explicit Impl(TlsClientOptions options_in) : options(std::move(options_in)) {}

  TlsClientOptions options;
  asio::io_context io;
  ssl::context context{ssl::context::tls_client};
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(*stream); }

  // Starts one asynchronous operation (its handler takes an error code and maybe a size) and
  // runs the context until it completes; the stream's expiry bounds it.
  template <class Initiate>
  beast::error_code run(Initiate&& initiate) {
    beast::error_code result = asio::error::timed_out;
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    return result;
  }
};

TlsClient::TlsClient(TlsClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  ssl::context& context = impl_->context;
  const std::string& protocol = impl_->options.protocol;
  const int version = protocol == "TLSv1.1"   ? TLS1_1_VERSION
                      : protocol == "TLSv1.2" ? TLS1_2_VERSION
                      : protocol == "TLSv1.3" ? TLS1_3_VERSION
                                              : 0;
  if (!protocol.empty() && version == 0) throw std::invalid_argument("protocol " + protocol);
  SSL_CTX_set_min_proto_version(context.native_handle(), version != 0 ? version : TLS1_2_VERSION);
  if (version != 0) SSL_CTX_set_max_proto_version(context.native_handle(), version);
  if (!impl_->options.ciphers.empty() &&
      SSL_CTX_set_cipher_list(context.native_handle(), impl_->options.ciphers.c_str()) != 1) {
    throw std::invalid_argument("cipher list " + impl_->options.ciphers);
  }
  context.set_verify_mode(ssl::verify_peer);
  context.load_verify_file(impl_->options.ca_file.string());
  if (!impl_->options.client_certificate.empty()) {
    context.use_certificate_chain_file(impl_->options.client_certificate.string());
    context.use_private_key_file(impl_->options.client_key.string(), ssl::context::pem);
  }
}

TlsClient::~TlsClient() { close(); }

std::string TlsClient::connect(std::uint16_t port) {
  std::string error = connect_tcp(port);
  if (error.empty()) error = handshake();
  return error;
}

std::string TlsClient::connect_tcp(std::uint16_t port) {
  close();
  impl_->buffer.clear();
  impl_->stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(impl_->io, impl_->context);
  const std::string& name = impl_->options.server_name;
  // SNI, as the API server sends it, and the name the certificate must carry.
  if (SSL_set_tlsext_host_name(impl_->stream->native_handle(), name.c_str()) != 1) {
    return "cannot set SNI";
  }
  impl_->stream->set_verify_callback(ssl::host_name_verification(name));
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  if (!impl_->options.source_address.empty()) {
    beast::error_code bind_error;
    tcp::socket& socket = impl_->lowest().socket();
    socket.open(tcp::v4(), bind_error);
    if (!bind_error) {
      socket.bind(tcp::endpoint(asio::ip::make_address(impl_->options.source_address), 0),
                  bind_error);
    }
    if (bind_error) return "bind " + impl_->options.source_address + ": " + bind_error.message();
  }
  impl_->lowest().expires_after(impl_->options.timeout);
  const beast::error_code ec = impl_->run(
      [&](auto handler) { impl_->lowest().async_connect(endpoint, std::move(handler)); });
  return ec ? "connect: " + ec.message() : std::string();
}

std::string TlsClient::handshake() {
  if (!impl_->stream) return "not connected";
  impl_->lowest().expires_after(impl_->options.timeout);
  const beast::error_code ec = impl_->run([&](auto handler) {
    impl_->stream->async_handshake(ssl::stream_base::client, std::move(handler));
  });
  return ec ? "handshake: " + ec.message() : std::string();
}

std::string TlsClient::serialize(const HttpRequest& request) {
  std::string text = request.method + " " + request.target + " HTTP/1.1\r\nHost: localhost\r\n";
  text += "User-Agent: em-guard-tests\r\n";
  if (!request.content_type.empty()) text += "Content-Type: " + request.content_type + "\r\n";
  if (!request.keep_alive) text += "Connection: close\r\n";
  for (const auto& [name, value] : request.headers) text += name + ": " + value + "\r\n";
  if (request.chunked) {
    text += "Transfer-Encoding: chunked\r\n\r\n";
    constexpr std::size_t kChunk = 1024;
    for (std::size_t at = 0; at < request.body.size(); at += kChunk) {
      const std::string_view chunk = std::string_view(request.body).substr(at, kChunk);
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
      text += size;
      text += chunk;
      text += "\r\n";
    }
    text += "0\r\n\r\n";
    return text;
  }
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    text += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  text += "\r\n";
  text += request.body;
  return text;
}

std::optional<HttpResponse> TlsClient::request(const HttpRequest& request, std::string* error) {
  const std::string written = write_raw(serialize(request));
  if (!written.empty()) {
    if (error != nullptr) *error = written;
    return std::nullopt;
  }
  return read_response(error);
}

std::string TlsClient::write_raw(std::string_view bytes) {
  if (!impl_->stream) return "not connected";
  impl_->lowest().expires_after(impl_->options.timeout);
  const beast::error_code ec = impl_->run([&](auto handler) {
    asio::async_write(*impl_->stream, asio::buffer(bytes.data(), bytes.size()), std::move(handler));
  });
  return ec ? "write: " + ec.message() : std::string();
}

namespace {

HttpResponse to_response(const http::response<http::string_body>& message) {
  HttpResponse response;
  response.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    response
        .headers[lower(std::string_view(field.name_string().data(), field.name_string().size()))] =
        std::string(field.value());
  }
  response.body = message.body();
  response.keep_alive = message.keep_alive();
  return response;
}

}  // namespace

std::optional<HttpResponse> TlsClient::read_response(std::string* error) {
  return write_while_reading({}, nullptr, error);  // nothing to write: only the read runs
}

std::optional<HttpResponse> TlsClient::write_while_reading(std::string_view bytes,
                                                           std::string* write_error,
                                                           std::string* error) {
  if (!impl_->stream) {
    if (error != nullptr) *error = "not connected";
    return std::nullopt;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  impl_->lowest().expires_after(impl_->options.timeout);
  // One read and one write may be outstanding at once on an SSL stream (full duplex); both run
  // on this thread's io_context until each has completed.
  beast::error_code written;
  beast::error_code read = asio::error::timed_out;
  if (!bytes.empty()) {
    written = asio::error::timed_out;
    asio::async_write(*impl_->stream, asio::buffer(bytes.data(), bytes.size()),
                      [&written](beast::error_code ec, std::size_t) { written = ec; });
  }
  http::async_read(*impl_->stream, impl_->buffer, parser,
                   [&read](beast::error_code ec, std::size_t) { read = ec; });
  impl_->io.restart();
  impl_->io.run();
  if (write_error != nullptr) *write_error = written ? "write: " + written.message() : "";
  if (read) {
    if (error != nullptr) *error = "read: " + read.message();
    return std::nullopt;
  }
  return to_response(parser.get());
}

bool TlsClient::wait_closed(std::chrono::milliseconds timeout) {
  if (!impl_->stream) return true;
  const auto deadline = Clock::now() + timeout;
  // Reads (TLS 1.3 session tickets, say, or a response) until the server closes or the time is
  // up. Not with the stream's expiry, which would close the connection: the read is cancelled
  // instead, which leaves the connection usable (no bytes were taken from it).
  for (;;) {
    bool done = false;
    beast::error_code ec;
    impl_->lowest().expires_never();
    impl_->stream->async_read_some(impl_->buffer.prepare(4096),
                                   [&](beast::error_code error, std::size_t got) {
                                     impl_->buffer.commit(got);
                                     ec = error;
                                     done = true;
                                   });
    impl_->io.restart();
    impl_->io.run_until(deadline);
    if (!done) {
      beast::error_code ignored;
      impl_->lowest().socket().cancel(ignored);
      impl_->io.restart();
      impl_->io.run();
      return ec && ec != asio::error::operation_aborted;
    }
    if (ec) return true;
  }
}

std::string TlsClient::peer_serial() const {
  if (!impl_->stream) return {};
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  X509* certificate = SSL_get1_peer_certificate(impl_->stream->native_handle());
#else
  X509* certificate = SSL_get_peer_certificate(impl_->stream->native_handle());
#endif
  if (certificate == nullptr) return {};
  std::string serial = serial_hex(X509_get0_serialNumber(certificate));
  X509_free(certificate);
  return serial;
}

std::string TlsClient::protocol() const {
  if (!impl_->stream) return {};
  return SSL_get_version(impl_->stream->native_handle());
}

void TlsClient::close() {
  if (!impl_->stream) return;
  beast::error_code ignored;
  impl_->lowest().socket().close(ignored);
  impl_->io.restart();
  impl_->io.poll();  // let cancelled handlers finish before the stream goes
  impl_->stream.reset();
}

namespace {

int connect_plain(std::uint16_t port, std::string& error) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "socket failed";
    return -1;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    error = errno == ECONNREFUSED ? "refused" : "connect failed";
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

PlainExchange plain_exchange(std::uint16_t port, std::string_view bytes,
                             std::chrono::milliseconds timeout) {
  PlainExchange result;
  const auto started = Clock::now();
  const int fd = connect_plain(port, result.error);
  if (fd < 0) return result;
  timeval send_timeout{};
  send_timeout.tv_sec = static_cast<long>(timeout.count() / 1000);
  send_timeout.tv_usec = static_cast<long>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t put = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (put <= 0) break;  // the server may close before taking everything
    sent += static_cast<std::size_t>(put);
  }
  const auto deadline = started + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd watched{fd, POLLIN, 0};
    const int ready = ::poll(&watched, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    char data[4096];
    const ssize_t got = ::recv(fd, data, sizeof data, 0);
    if (got <= 0) {
      result.closed = true;
      break;
    }
    result.received.append(data, static_cast<std::size_t>(got));
  }
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  ::close(fd);
  return result;
}

bool connection_refused(std::uint16_t port) {
  std::string error;
  const int fd = connect_plain(port, error);
  if (fd >= 0) ::close(fd);
  return error == "refused";
}

}  // namespace emguard::test
