// The serving certificate: TLS 1.2+ contexts built from PEM files, and the file signatures that
// tell when cert-manager (or kubelet's symlink swap of a Secret volume) has replaced them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace emguard::webhook {

struct TlsFiles {
  std::string certificate;  // PEM chain, leaf first
  std::string private_key;  // PEM
  std::string client_ca;    // PEM bundle; "" = clients are not asked for certificates
};

struct TlsContext {
  std::shared_ptr<boost::asio::ssl::context> context;
  std::int64_t not_after = 0;  // the leaf certificate's expiry, Unix seconds
  std::string serial;          // hex, for logs
};

// Builds a server context: TLS 1.2 and 1.3 only, forward-secret AEAD ciphers for TLS 1.2, no
// renegotiation, no compression; with a client CA, a client certificate is required. Throws
// std::runtime_error naming the file and OpenSSL's reason when a file is missing or bad, or when
// the key does not belong to the certificate.
TlsContext load_tls(const TlsFiles& files);

// What stat(2) says of a set of files (following symlinks: Secret volumes swap a ..data link),
// to notice replacement without reading them.
class FileSignature {
 public:
  explicit FileSignature(std::vector<std::string> paths);
  // True when any file changed since the last call (or construction).
  bool changed();

 private:
  std::vector<std::string> paths_;
  std::vector<std::string> last_;
  static std::string read(const std::string& path);
};

}  // namespace emguard::webhook
