#ifndef CZOO_CRYPTO_SHIM_H
#define CZOO_CRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/sha.h>
#endif
