// Owning handles for the OpenSSL objects the certificate, verifier and software-authority code uses, and the few
// helpers they share; private to omega_attest.
#pragma once

#include "omega/attest/Certs.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace omega::attest::detail {

template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, Free>>;

inline void freeBio(BIO* p) {
    BIO_free(p);
}
inline void freeOpenSsl(unsigned char* p) {
    OPENSSL_free(p);
}

using BioPtr = Ptr<BIO, freeBio>;
using BignumPtr = Ptr<BIGNUM, BN_free>;
using EcdsaSigPtr = Ptr<ECDSA_SIG, ECDSA_SIG_free>;
using MdCtxPtr = Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using PkeyPtr = Ptr<EVP_PKEY, EVP_PKEY_free>;
using X509Ptr = Ptr<X509, X509_free>;
using ExtensionPtr = Ptr<X509_EXTENSION, X509_EXTENSION_free>;
using NamePtr = Ptr<X509_NAME, X509_NAME_free>;
using ObjectPtr = Ptr<ASN1_OBJECT, ASN1_OBJECT_free>;
using OctetStringPtr = Ptr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using IntegerPtr = Ptr<ASN1_INTEGER, ASN1_INTEGER_free>;
using AlgorPtr = Ptr<X509_ALGOR, X509_ALGOR_free>;
using OpenSslBytes = Ptr<unsigned char, freeOpenSsl>;

// The reason of the most recent OpenSSL error ("" when there is none); empties the error queue either way, so that
// one failure never shows up in the message of the next.
inline std::string takeOpenSslError() {
    unsigned long code = 0, last = 0;
    while ((code = ERR_get_error()) != 0) last = code;
    if (last == 0) return "";
    const char* reason = ERR_reason_error_string(last);
    return reason != nullptr ? reason : "error " + std::to_string(ERR_GET_REASON(last));
}

inline X509* x509Of(const Certificate& certificate) {
    return static_cast<X509*>(certificate.x509());
}

// A PEM password callback that refuses: encrypted input fails to load instead of prompting on the terminal.
inline int noPassphrase(char*, int, int, void*) {
    return -1;
}

}  // namespace omega::attest::detail
