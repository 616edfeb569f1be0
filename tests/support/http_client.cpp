#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace ticketd::test {
namespace {

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (iequal(k, name)) return v;
    return std::nullopt;
}

std::vector<std::string> HttpResponse::headers_named(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : headers)
        if (iequal(k, name)) out.push_back(v);
    return out;
}

HttpClient::HttpClient(std::uint16_t port, std::string host)
    : port_(port), host_(std::move(host)) {}
HttpClient::~HttpClient() { disconnect(); }

void HttpClient::connect() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (receive_buffer > 0)  // before connect(): the window is agreed in the handshake
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    if (!source_address
             .empty()) {  // another loopback address: another client, as the server sees it
        sockaddr_in source{};
        source.sin_family = AF_INET;
        ::inet_pton(AF_INET, source_address.c_str(), &source.sin_addr);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
            disconnect();
            throw std::runtime_error("cannot bind to " + source_address);
        }
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    ::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        int err = errno;
        disconnect();
        throw std::runtime_error(std::string("connect failed: ") + std::strerror(err));
    }
    buffer_.clear();
}

void HttpClient::disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
}

void HttpClient::send_raw(const std::string& bytes) {
    if (fd_ < 0) connect();
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) throw std::runtime_error("send failed");
        sent += static_cast<std::size_t>(n);
    }
}

bool HttpClient::closed_by_server(std::chrono::milliseconds timeout) {
    if (fd_ < 0) return true;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd_, POLLIN, 0};
        int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        deadline - std::chrono::steady_clock::now())
                                        .count());
        if (::poll(&p, 1, std::max(left, 1)) <= 0) continue;
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
            disconnect();
            return true;
        }
        buffer_.append(buf, static_cast<std::size_t>(n));
    }
    return false;
}

std::optional<HttpResponse> HttpClient::read_response(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto fill = [&]() -> bool {
        char buf[16384];
        while (true) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
            if (left <= 0) return false;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) return false;
            buffer_.append(buf, static_cast<std::size_t>(n));
            return true;
        }
    };
    if (fd_ < 0) return std::nullopt;
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
        if (!fill()) return std::nullopt;
    HttpResponse res;
    std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    std::size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    res.status = std::stoi(status_line.substr(9, 3));
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
        std::size_t e = head.find("\r\n", pos);
        if (e == std::string::npos) e = head.size();
        std::string line = head.substr(pos, e - pos);
        auto colon = line.find(':');
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        res.headers.emplace_back(line.substr(0, colon), value);
        pos = e + 2;
    }
    if (auto te = res.header("transfer-encoding"); te && iequal(*te, "chunked")) {
        for (;;) {
            std::size_t le;
            while ((le = buffer_.find("\r\n")) == std::string::npos)
                if (!fill()) return std::nullopt;
            std::size_t size = std::stoul(buffer_.substr(0, le), nullptr, 16);
            while (buffer_.size() < le + 2 + size + 2)
                if (!fill()) return std::nullopt;
            res.body += buffer_.substr(le + 2, size);
            buffer_.erase(0, le + 2 + size + 2);
            if (size == 0) break;
        }
    } else if (auto cl = res.header("content-length")) {
        std::size_t size = std::stoul(*cl);
        while (buffer_.size() < size)
            if (!fill()) return std::nullopt;
        res.body = buffer_.substr(0, size);
        buffer_.erase(0, size);
    }
    if (auto c = res.header("connection"); c && iequal(*c, "close")) disconnect();
    return res;
}

HttpResponse HttpClient::request(const std::string& method, const std::string& target,
                                 const std::string& body,
                                 const std::vector<std::pair<std::string, std::string>>& extra) {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_ + ":" +
                      std::to_string(port_) + "\r\n";
    bool has_type = false;
    for (const auto& [k, v] : extra) {
        req += k + ": " + v + "\r\n";
        if (iequal(k, "content-type")) has_type = true;
    }
    if (!body.empty() && !has_type) req += "Content-Type: application/json\r\n";
    if (!body.empty() || method == "POST" || method == "PUT")
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (cookie && !cookie->empty()) req += "Cookie: session=" + *cookie + "\r\n";
    req += "\r\n" + body;
    for (int attempt = 0; attempt < 2; ++attempt) {
        bool fresh = fd_ < 0;
        try {
            send_raw(req);
        } catch (const std::exception&) {
            disconnect();
            if (attempt == 0) continue;
            throw;
        }
        auto res = read_response(std::chrono::seconds(60));
        if (!res) {
            disconnect();
            if (!fresh && attempt == 0)
                continue;  // the server closed an idle keep-alive connection
            throw std::runtime_error("no response to " + method + " " + target);
        }
        for (const auto& sc : res->headers_named("set-cookie")) {
            if (sc.rfind("session=", 0) != 0) continue;
            std::string value = sc.substr(8, sc.find(';') - 8);
            cookie = value;
        }
        return *res;
    }
    throw std::runtime_error("unreachable");
}

}  // namespace ticketd::test
