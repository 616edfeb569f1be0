#pragma once
// The one error type clients see. Handlers (and the module code they call) throw it; the router
// alone renders it as {"errors":[{"message","field"}]}.
#include <stdexcept>
#include <string>
#include <vector>

namespace ticketd::http {

struct FieldError {
    std::string message;
    std::string field;  // empty: not about one field
};

class ApiError : public std::runtime_error {
public:
    ApiError(int status, std::string message, std::string field = {});
    // A validation failure naming several fields at once (status 400).
    explicit ApiError(std::vector<FieldError> errors, int status = 400);

    int status() const { return status_; }
    const std::vector<FieldError>& errors() const { return errors_; }
    // Extra headers the response needs (405's Allow, 429's Retry-After).
    std::vector<std::pair<std::string, std::string>> headers;

    static ApiError bad_request(std::string message, std::string field = {});
    static ApiError unauthorized();  // 401 Not authorized
    static ApiError not_found();     // 404 Not Found

private:
    int status_;
    std::vector<FieldError> errors_;
};

// Collects validation failures so every invalid field is reported at once.
class Validation {
public:
    void fail(std::string message, std::string field);
    bool ok() const { return errors_.empty(); }
    bool failed(std::string_view field) const;
    // Throws ApiError(400) with every collected failure, if there are any.
    void throw_if_failed() const;

private:
    std::vector<FieldError> errors_;
};

// {"errors":[{"message":"...","field":"..."}]} for `errors`.
std::string error_body(const std::vector<FieldError>& errors);

}  // namespace ticketd::http
