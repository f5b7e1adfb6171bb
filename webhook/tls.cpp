#include "webhook/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <ctime>
#include <stdexcept>

#include "webhook/asio.hpp"

namespace emguard::webhook {
namespace {

// Mozilla's "intermediate" TLS 1.2 suites: ECDHE key exchange, AEAD ciphers only.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string openssl_reason() {
  std::string reason;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    if (!reason.empty()) reason += "; ";
    reason += text;
  }
  return reason.empty() ? "unknown OpenSSL error" : reason;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + openssl_reason());
}

}  // namespace

TlsContext load_tls(const TlsFiles& files) {
  ERR_clear_error();
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) fail("TLS 1.2 minimum");
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_ECDH_USE);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) fail("TLS 1.2 cipher list");
  if (SSL_CTX_use_certificate_chain_file(native, files.certificate.c_str()) != 1) {
    fail("certificate " + files.certificate);
  }
  if (SSL_CTX_use_PrivateKey_file(native, files.private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    fail("private key " + files.private_key);
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    fail("private key " + files.private_key + " does not belong to certificate " +
         files.certificate);
  }
  if (!files.client_ca.empty()) {
    if (SSL_CTX_load_verify_locations(native, files.client_ca.c_str(), nullptr) != 1) {
      fail("client CA " + files.client_ca);
    }
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }

  TlsContext result;
  result.context = std::move(context);
  if (X509* leaf = SSL_CTX_get0_certificate(native)) {
    std::tm expiry{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &expiry) == 1) {
      result.not_after = static_cast<std::int64_t>(timegm(&expiry));
    }
    if (BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), nullptr)) {
      if (char* hex = BN_bn2hex(serial)) {
        result.serial = hex;
        OPENSSL_free(hex);
      }
      BN_free(serial);
    }
  }
  return result;
}

FileSignature::FileSignature(std::vector<std::string> paths) : paths_(std::move(paths)) {
  for (const std::string& path : paths_) last_.push_back(read(path));
}

bool FileSignature::changed() {
  bool changed = false;
  for (std::size_t i = 0; i < paths_.size(); ++i) {
    std::string now = read(paths_[i]);
    if (now != last_[i]) {
      last_[i] = std::move(now);
      changed = true;
    }
  }
  return changed;
}

std::string FileSignature::read(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return "missing";
  return std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino) + ":" +
         std::to_string(info.st_size) + ":" + std::to_string(info.st_mtim.tv_sec) + "." +
         std::to_string(info.st_mtim.tv_nsec);
}

}  // namespace emguard::webhook
