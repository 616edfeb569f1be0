#include "http/api_error.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace ticketd::http {

ApiError::ApiError(int status, std::string message, std::string field)
    : std::runtime_error(message),
      status_(status),
      errors_{{std::move(message), std::move(field)}} {}

ApiError::ApiError(std::vector<FieldError> errors, int status)
    : std::runtime_error(errors.empty() ? std::string("Invalid request") : errors.front().message),
      status_(status),
      errors_(std::move(errors)) {}

ApiError ApiError::bad_request(std::string message, std::string field) {
    return ApiError(400, std::move(message), std::move(field));
}
ApiError ApiError::unauthorized() { return ApiError(401, "Not authorized"); }
ApiError ApiError::not_found() { return ApiError(404, "Not Found"); }

void Validation::fail(std::string message, std::string field) {
    errors_.push_back({std::move(message), std::move(field)});
}

bool Validation::failed(std::string_view field) const {
    for (const auto& e : errors_)
        if (e.field == field) return true;
    return false;
}

void Validation::throw_if_failed() const {
    if (!errors_.empty()) throw ApiError(errors_);
}

std::string error_body(const std::vector<FieldError>& errors) {
    boost::json::array list;
    for (const auto& e : errors) {
        boost::json::object o{{"message", e.message}};
        if (!e.field.empty()) o["field"] = e.field;
        list.push_back(std::move(o));
    }
    return boost::json::serialize(boost::json::object{{"errors", std::move(list)}});
}

}  // namespace ticketd::http
