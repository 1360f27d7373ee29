#include "extender/http/router.h"

#include <exception>
#include <string>

#include "extender/http/codec/json_writer.h"

namespace epc::http {

namespace {

// The last resort when even writing an error message fails (e.g. out of memory): a body that needs
// no allocation beyond what the buffer already has.
void write_internal_error(RouteReply& reply) noexcept {
  reply.body.clear();
  reply.status = 500;
  reply.content_type = kJsonContentType;
  reply.outcome = metrics::Outcome::kError;
  try {
    reply.body.assign("{\"Error\":\"internal error\"}");
  } catch (...) {
    reply.body.clear();
  }
}

void write_with(const Route* route, std::string_view message, RouteReply& reply) {
  reply.body.clear();
  reply.content_type = kJsonContentType;
  reply.outcome = metrics::Outcome::kError;
  if (route != nullptr && route->error_writer) {
    route->error_writer(message, reply);
  } else {
    write_error_json(message, reply.body);
  }
}

}  // namespace

void RouteTable::add(Route route) {
  for (Route& existing : routes_) {
    if (existing.method == route.method && existing.path == route.path) {
      existing = std::move(route);
      return;
    }
  }
  routes_.push_back(std::move(route));
}

const Route* RouteTable::find(HttpMethod method, std::string_view path) const {
  for (const Route& route : routes_) {
    if (route.method == method && route.path == path) {
      return &route;
    }
  }
  return nullptr;
}

metrics::Verb RouteTable::dispatch(const RouteRequest& request, RouteReply& reply) const noexcept {
  const Route* route = find(request.method, request.path);
  if (route == nullptr) {
    bool path_known = false;
    for (const Route& candidate : routes_) {
      path_known = path_known || candidate.path == request.path;
    }
    try {
      reply.status = path_known ? 405 : 404;
      reply.outcome = metrics::Outcome::kError;
      reply.content_type = kJsonContentType;
      write_error_json(path_known ? "method not allowed" : "no such endpoint", reply.body);
    } catch (...) {
      write_internal_error(reply);
    }
    return metrics::Verb::kOther;
  }
  try {
    route->handler(request, reply);
  } catch (const std::exception& e) {
    try {
      write_with(route, std::string("internal error: ") + e.what(), reply);
    } catch (...) {
      write_internal_error(reply);
    }
  } catch (...) {
    try {
      write_with(route, "internal error", reply);
    } catch (...) {
      write_internal_error(reply);
    }
  }
  return route->verb;
}

metrics::Verb RouteTable::reject(HttpMethod method, std::string_view path, std::string_view message,
                                 RouteReply& reply) const noexcept {
  const Route* route = find(method, path);
  try {
    write_with(route, message, reply);
  } catch (...) {
    write_internal_error(reply);
  }
  return route != nullptr ? route->verb : metrics::Verb::kOther;
}

std::string_view path_of(std::string_view target) {
  const std::size_t query = target.find('?');
  return query == std::string_view::npos ? target : target.substr(0, query);
}

void write_error_json(std::string_view message, std::string& out) {
  out.clear();
  out.append("{\"Error\":");
  codec::append_json_string(out, message);
  out.push_back('}');
}

}  // namespace epc::http
