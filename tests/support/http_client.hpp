#pragma once
// A small blocking HTTP/1.1 client over a plain socket, for tests: keep-alive, Content-Length
// and chunked bodies, a cookie jar of one, and raw access for malformed-request tests.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ticketd::test {

struct HttpResponse {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::optional<std::string> header(std::string_view name) const;
    std::vector<std::string> headers_named(std::string_view name) const;
};

class HttpClient {
public:
    explicit HttpClient(std::uint16_t port, std::string host = "127.0.0.1");
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    HttpResponse get(const std::string& target) { return request("GET", target); }
    HttpResponse post(const std::string& target, const std::string& json) {
        return request("POST", target, json);
    }
    HttpResponse put(const std::string& target, const std::string& json) {
        return request("PUT", target, json);
    }
    HttpResponse del(const std::string& target) { return request("DELETE", target); }
    // Sends a request with a JSON body (when body is non-empty) plus any extra headers, and the
    // session cookie when one was set. Reconnects if the server closed the connection.
    HttpResponse request(const std::string& method, const std::string& target,
                         const std::string& body = {},
                         const std::vector<std::pair<std::string, std::string>>& extra = {});

    // The value of the session cookie the server last set ("" after it cleared it).
    std::optional<std::string> cookie;
    // SO_RCVBUF for the next connection (0: the system's default). A small one keeps a response
    // the test does not read from being buffered whole.
    int receive_buffer = 0;
    // The local address to connect from (e.g. "127.0.0.2"); empty: the system's choice.
    std::string source_address;

    // Raw socket access: send bytes as they are, read one response (or nullopt when the server
    // closed the connection without one, or nothing came within `timeout`).
    void send_raw(const std::string& bytes);
    std::optional<HttpResponse> read_response(
        std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // True when the server has closed the connection (reads EOF within `timeout`).
    bool closed_by_server(std::chrono::milliseconds timeout);

private:
    void connect();
    void disconnect();
    std::uint16_t port_;
    std::string host_;
    int fd_ = -1;
    std::string buffer_;
};

}  // namespace ticketd::test
