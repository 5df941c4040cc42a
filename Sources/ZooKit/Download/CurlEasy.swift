internal import CZooCurl
import Foundation

/// Checks a libcurl setup call; the one place a `CURLcode` becomes a `DownloadError`.
func curlCheck(_ code: CURLcode, _ call: String) throws {
    guard code == CURLE_OK else {
        throw DownloadError.curl(call: call, code: Int32(code.rawValue), message: String(cString: curl_easy_strerror(code)))
    }
}

/// One libcurl easy handle; freed in `deinit`.
final class CurlEasy {
    /// `curl_global_init` must run once before any handle, before threads start using curl.
    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    let handle: UnsafeMutableRawPointer

    init() throws {
        try curlCheck(Self.globalInit, "curl_global_init")
        guard let handle = curl_easy_init() else {
            throw DownloadError.curl(call: "curl_easy_init", code: -1, message: "no handle")
        }
        self.handle = handle
    }

    deinit { curl_easy_cleanup(handle) }

    func set(_ option: CURLoption, _ value: Int) throws {
        try curlCheck(czoo_curl_setopt_long(handle, option, value), "curl_easy_setopt(\(option.rawValue))")
    }

    func set(_ option: CURLoption, _ value: String) throws {
        // libcurl copies string options (since 7.17), so the pointer need only live for the call.
        try value.withCString { try curlCheck(czoo_curl_setopt_string(handle, option, $0), "curl_easy_setopt(\(option.rawValue))") }
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws {
        try curlCheck(czoo_curl_setopt_pointer(handle, option, pointer), "curl_easy_setopt(\(option.rawValue))")
    }

    func setWriteFunction(_ callback: czoo_curl_write_callback) throws {
        try curlCheck(czoo_curl_setopt_write_function(handle, callback), "curl_easy_setopt(CURLOPT_WRITEFUNCTION)")
    }

    func setHeaderFunction(_ callback: czoo_curl_write_callback) throws {
        try curlCheck(czoo_curl_setopt_header_function(handle, callback), "curl_easy_setopt(CURLOPT_HEADERFUNCTION)")
    }

    func setProgressFunction(_ callback: czoo_curl_xferinfo_callback) throws {
        try curlCheck(czoo_curl_setopt_xferinfo_function(handle, callback), "curl_easy_setopt(CURLOPT_XFERINFOFUNCTION)")
    }

    /// The last response's status (0 for file://).
    var responseCode: Int {
        var code: Int = 0
        _ = czoo_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// Runs the transfer; returns libcurl's result code and its message.
    func perform() -> (code: CURLcode, message: String) {
        let code = curl_easy_perform(handle)
        return (code, String(cString: curl_easy_strerror(code)))
    }
}
