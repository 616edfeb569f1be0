#include <unistd.h>

#include <algorithm>
#include <fstream>

#include <catch2/catch.hpp>

#include "support/http_client.hpp"
#include "support/recording_bus.hpp"
#include "support/test_server.hpp"

using namespace ticketd;

TEST_CASE("/metrics reports requests by route, events, lag, outboxes and pending expirations",
          "[metrics]") {
    test::TestServer app;
    test::HttpClient client(app.port());
    client.cookie = test::session_cookie("seller");
    REQUIRE(client.post("/api/tickets", R"({"title":"Gig","price":5})").status == 201);
    CHECK(client.get("/api/tickets/missing").status == 404);
    app.wait_idle();
    // Never on the public port (there it is only the web UI's page, like any unknown path).
    CHECK(client.get("/metrics").body.find("ticketd_http_requests_total") == std::string::npos);
    // The process's resident size now and after the scrape: the kernel may reclaim cold pages in
    // between (DAMON does on these machines), so the gauge is checked against both.
    auto resident_now = [] {
        long pages = 0, resident_pages = 0;
        std::ifstream("/proc/self/statm") >> pages >> resident_pages;
        return static_cast<double>(resident_pages) * static_cast<double>(sysconf(_SC_PAGESIZE));
    };
    double resident_before = resident_now();
    test::HttpClient ops(app.app().metrics_port());
    auto res = ops.get("/metrics");
    REQUIRE(res.status == 200);
    CHECK(res.header("content-type")->starts_with("text/plain; version=0.0.4"));
    const auto& m = res.body;
    CHECK(
        m.find(
            R"(ticketd_http_requests_total{route="/api/tickets",method="POST",status="201"} 1)") !=
        std::string::npos);
    CHECK(m.find(R"(ticketd_http_requests_total{route="/api/tickets/:id",)"
                 R"(method="GET",status="404"} 1)") != std::string::npos);
    CHECK(
        m.find(
            R"(ticketd_http_request_duration_seconds_bucket{route="/api/tickets",le="+Inf"} 1)") !=
        std::string::npos);
    CHECK(m.find(R"(ticketd_events_published_total{subject="ticket:created"})") !=
          std::string::npos);
    CHECK(m.find(R"(ticketd_subscriber_lag_events{subscriber="orders.ticket-created"} 0)") !=
          std::string::npos);
    CHECK(m.find(R"(ticketd_outbox_pending{module="tickets"} 0)") != std::string::npos);
    CHECK(m.find("ticketd_dead_letters 0") != std::string::npos);
    CHECK(m.find("ticketd_expiration_jobs_pending 0") != std::string::npos);
    CHECK(m.find(R"(ticketd_database_size_bytes{db="orders"})") != std::string::npos);
    // Memory: each connection's page cache holds at least the pages just read; the heap holds
    // the caches; the resident size is the process's own (the server runs in this process).
    // (Not "resident > heap": heap memory allocated but never touched is not resident.)
    auto gauge = [&](const std::string& series) {
        auto at = m.find("\n" + series + " ");
        REQUIRE(at != std::string::npos);
        return std::stod(m.substr(at + series.size() + 2));
    };
    CHECK(gauge(R"(ticketd_database_cache_bytes{db="orders"})") > 0);
    CHECK(gauge(R"(ticketd_database_cache_bytes{db="orders"})") <= 16e6 + 1e6);
    double resident_after = resident_now();
    CHECK(gauge("process_resident_memory_bytes") > std::min(resident_before, resident_after) / 2);
    CHECK(gauge("process_resident_memory_bytes") < std::max(resident_before, resident_after) * 2);
#ifndef __SANITIZE_ADDRESS__  // AddressSanitizer's allocator replaces malloc's: mallinfo2 sees
                              // nothing
    CHECK(gauge("ticketd_heap_in_use_bytes") >
          gauge(R"(ticketd_database_cache_bytes{db="orders"})"));
#endif
    CHECK(m.find("# TYPE ticketd_http_request_duration_seconds histogram") != std::string::npos);
}

TEST_CASE("methods a client makes up are one series: /metrics cannot be grown from outside",
          "[metrics][security]") {
    test::TestServer app;
    test::HttpClient ops(app.app().metrics_port());
    auto made_up = [&](int i) {
        test::HttpClient c(app.port());
        c.send_raw(std::string(2000, static_cast<char>('A' + i % 26)) + std::to_string(i) +
                   " /api/tickets HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        c.read_response();
    };
    made_up(0);           // the first one adds the "other" series and its route's histogram
    ops.get("/metrics");  // and the first scrape adds its own
    auto before = ops.get("/metrics").body.size();
    for (int i = 1; i < 300; ++i) made_up(i);
    auto m = ops.get("/metrics").body;
    INFO(m.substr(0, 3000));
    CHECK(m.size() < before + 200);  // counts grew by a few digits, nothing else
    CHECK(
        m.find(
            R"(ticketd_http_requests_total{route="unmatched",method="other",status="405"} 300)") !=
        std::string::npos);
    CHECK(m.find("AAAAAAAAAA") == std::string::npos);
}

TEST_CASE("with --metrics-listen off no metrics are served anywhere", "[metrics]") {
    test::TestServer app([](Config& c) { c.metrics_port = -1; });
    CHECK(app.app().metrics_port() == 0);
    test::HttpClient client(app.port());
    CHECK(client.get("/metrics").body.find("ticketd_http_requests_total") == std::string::npos);
}
