// tls_context.cpp — OpenSSL through Boost.Asio's ssl::context for the API's
// TCP listener; only berthd and the CLI link OpenSSL.
#include "tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it

#include <boost/asio/ssl/context.hpp>

namespace berth::supervisor {

namespace ssl = boost::asio::ssl;

namespace {

// OpenSSL's reason for the last failure, or the system error's.
std::string reason(const boost::system::error_code& ec) {
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    const char* r = ::ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    if (r) return r;
  }
  return ec.message();
}

Status readable(const char* flag, const std::string& path) {
  if (::access(path.c_str(), R_OK) < 0) return Error::os(std::string(flag) + " " + path);
  return ok();
}

}  // namespace

Result<std::shared_ptr<ssl::context>> server_tls_context(const TcpApiOptions& o) {
  BERTH_TRY(readable("--tls-cert", o.cert));
  BERTH_TRY(readable("--tls-key", o.key));
  BERTH_TRY(readable("--tls-client-ca", o.client_ca));
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX* raw = ctx->native_handle();
  ::SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  boost::system::error_code ec;
  if (ctx->use_certificate_chain_file(o.cert, ec); ec)
    return Error::msg("--tls-cert " + o.cert + ": not a PEM certificate (" + reason(ec) + ")");
  // OpenSSL checks the key against the certificate as it loads it.
  if (ctx->use_private_key_file(o.key, ssl::context::pem, ec); ec || ::SSL_CTX_check_private_key(raw) != 1)
    return Error::msg("--tls-key " + o.key + ": not a PEM private key that matches the certificate in " + o.cert +
                      " (" + (ec ? reason(ec) : "key values mismatch") + ")");
  if (ctx->load_verify_file(o.client_ca, ec); ec)
    return Error::msg("--tls-client-ca " + o.client_ca + ": no PEM CA certificate (" + reason(ec) + ")");
  // The CA names go into the certificate request, so clients pick a fitting certificate.
  if (STACK_OF(X509_NAME)* names = ::SSL_load_client_CA_file(o.client_ca.c_str()))
    ::SSL_CTX_set_client_CA_list(raw, names);
  ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  ::ERR_clear_error();
  return ctx;
}

std::string tls_identity(ssl_st* ssl) {
  X509* cert = ::SSL_get0_peer_certificate(ssl);
  if (!cert) return "tls:?";
  X509_NAME* subject = ::X509_get_subject_name(cert);
  int i = ::X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (i < 0) return "tls:?";
  unsigned char* utf8 = nullptr;
  int n = ::ASN1_STRING_to_UTF8(&utf8, ::X509_NAME_ENTRY_get_data(::X509_NAME_get_entry(subject, i)));
  if (n < 0) return "tls:?";
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  ::OPENSSL_free(utf8);
  return "tls:" + cn;
}

}  // namespace berth::supervisor
