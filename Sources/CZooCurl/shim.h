#ifndef CZOO_CURL_SHIM_H
#define CZOO_CURL_SHIM_H
#include <curl/curl.h>
#endif
