// tls.cpp — client TLS contexts from PEM files; errors name the flag and
// file at fault.
#include "berth/base/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace berth {

void SslCtxFree::operator()(SSL_CTX* c) const { ::SSL_CTX_free(c); }

std::string openssl_reason() {
  unsigned long e = ::ERR_peek_last_error();
  if (!e) return errno ? std::strerror(errno) : "connection closed";
  const char* r = ::ERR_reason_error_string(e);
  return r ? r : "error " + std::to_string(e);
}

namespace {

Status check_given(const TlsClientFiles& f) {
  if (!f.required_because.empty()) {
    for (auto [flag, value] : {std::pair{&f.cert_flag, &f.cert}, {&f.key_flag, &f.key}, {&f.ca_flag, &f.ca}})
      if (value->empty()) return Error(EINVAL, *flag + ": required (" + f.required_because + ")");
    return ok();
  }
  if (f.ca.empty()) return Error(EINVAL, f.ca_flag + ": required with " + (f.cert.empty() ? f.key_flag : f.cert_flag));
  if (f.cert.empty() != f.key.empty())
    return f.cert.empty() ? Error(EINVAL, f.cert_flag + ": required with " + f.key_flag)
                          : Error(EINVAL, f.key_flag + ": required with " + f.cert_flag);
  return ok();
}

}  // namespace

Result<SslCtxPtr> client_tls_context(const TlsClientFiles& f) {
  BERTH_TRY(check_given(f));
  for (auto [flag, value] : {std::pair{&f.cert_flag, &f.cert}, {&f.key_flag, &f.key}, {&f.ca_flag, &f.ca}})
    if (!value->empty() && ::access(value->c_str(), R_OK) != 0) return Error(errno, *flag + " " + *value);
  SslCtxPtr ctx(::SSL_CTX_new(::TLS_client_method()));
  if (!ctx) return Error::msg("tls: " + openssl_reason());
  ::SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (!f.cert.empty()) {
    if (::SSL_CTX_use_certificate_chain_file(ctx.get(), f.cert.c_str()) != 1)
      return Error(EINVAL, f.cert_flag + " " + f.cert + ": " + openssl_reason());
    if (::SSL_CTX_use_PrivateKey_file(ctx.get(), f.key.c_str(), SSL_FILETYPE_PEM) != 1)
      return Error(EINVAL, f.key_flag + " " + f.key + ": " + openssl_reason());
    if (::SSL_CTX_check_private_key(ctx.get()) != 1)
      return Error(EINVAL, f.key_flag + " " + f.key + ": does not match the certificate in " + f.cert);
  }
  if (::SSL_CTX_load_verify_locations(ctx.get(), f.ca.c_str(), nullptr) != 1)
    return Error(EINVAL, f.ca_flag + " " + f.ca + ": " + openssl_reason());
  ::SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  return ctx;
}

bool refused_client_certificate(unsigned long e) {
  switch (ERR_GET_REASON(e)) {
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED: return true;
    default: return false;
  }
}

}  // namespace berth
