// tls_context.cpp — OpenSSL through Boost.Asio's ssl::context for the API's
// TCP listener; only berthd and the CLI link OpenSSL.
#include "tls_context.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
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

namespace {

std::vector<std::string> name_entries(X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = ::X509_NAME_get_index_by_NID(name, nid, -1); i >= 0; i = ::X509_NAME_get_index_by_NID(name, nid, i)) {
    unsigned char* utf8 = nullptr;
    int n = ::ASN1_STRING_to_UTF8(&utf8, ::X509_NAME_ENTRY_get_data(::X509_NAME_get_entry(name, i)));
    if (n < 0) continue;
    out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
    ::OPENSSL_free(utf8);
  }
  return out;
}

CertSubject subject_of(X509* cert) {
  CertSubject s;
  X509_NAME* name = ::X509_get_subject_name(cert);
  auto cn = name_entries(name, NID_commonName);
  s.cn = cn.empty() ? "?" : cn[0];
  s.ou = name_entries(name, NID_organizationalUnitName);
  s.o = name_entries(name, NID_organizationName);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (::X509_digest(cert, ::EVP_sha256(), md, &len) == 1) {
    static const char* hex = "0123456789abcdef";
    for (unsigned int i = 0; i < len; ++i) s.fingerprint += {hex[md[i] >> 4], hex[md[i] & 15]};
  }
  return s;
}

}  // namespace

CertSubject peer_certificate(ssl_st* ssl) {
  X509* cert = ::SSL_get0_peer_certificate(ssl);
  if (!cert) return CertSubject{"?", {}, {}, ""};
  return subject_of(cert);
}

Result<CertSubject> pem_certificate(const std::string& pem) {
  BIO* bio = ::BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return Error::msg("certificate: out of memory");
  X509* cert = ::PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  ::BIO_free(bio);
  ::ERR_clear_error();
  if (!cert) return Error::msg("certificate: expected a PEM certificate (-----BEGIN CERTIFICATE-----)");
  CertSubject s = subject_of(cert);
  ::X509_free(cert);
  return s;
}

}  // namespace berth::supervisor
