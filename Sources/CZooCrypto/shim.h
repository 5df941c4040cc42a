#ifndef CZOO_CRYPTO_SHIM_H
#define CZOO_CRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/sha.h>

// EVP_MD_CTX_size is a macro in OpenSSL 3; expose the digest length as a function.
static inline int czoo_evp_md_size(const EVP_MD *md) {
    return EVP_MD_get_size(md);
}
#endif
