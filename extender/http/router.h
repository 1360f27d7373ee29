#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "extender/http/codec/padded_buffer.h"
#include "extender/metrics/metrics.h"

namespace epc::http {

struct ConnectionContext;

enum class HttpMethod : std::uint8_t {
  kGet,
  kHead,
  kPost,
  kPut,
  kDelete,
  kPatch,
  kOptions,
  kOther
};

inline constexpr std::string_view kJsonContentType = "application/json";
inline constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4";

// One request as a route handler sees it. Views are valid for the duration of the call only.
struct RouteRequest {
  HttpMethod method = HttpMethod::kOther;
  std::string_view path;    // the target without its query string
  std::string_view target;  // as sent
  const codec::PaddedBuffer& body;
  ConnectionContext& connection;  // per-connection reusable parser and buffers
};

struct RouteReply;

// A reply that a handler finishes later, from any thread (the bind verb waits for kube-apiserver
// without holding an I/O thread). The connection reads nothing else meanwhile.
class DeferredReply {
 public:
  virtual ~DeferredReply() = default;
  // Fills the reply (status, content type, body, outcome) and sends it. Call once; a handle
  // dropped unfinished answers with an internal error, so no request is left without a reply.
  virtual void finish(std::function<void(RouteReply&)> fill) = 0;
};

// The reply a handler fills in. `body` is the connection's reused buffer, empty on entry; the
// session writes status, headers and body in one write.
struct RouteReply {
  explicit RouteReply(std::string& body_buffer) : body(body_buffer) {}

  unsigned status = 200;
  std::string_view content_type = kJsonContentType;  // must refer to static storage
  std::string& body;
  metrics::Outcome outcome = metrics::Outcome::kOk;
  // Set by the server: a handler that cannot answer at once calls defer() and finishes the handle
  // later; whatever it wrote here is then ignored. Empty where replies cannot be deferred.
  std::function<std::shared_ptr<DeferredReply>()> defer;
};

using RouteHandler = std::function<void(const RouteRequest&, RouteReply&)>;
// Writes the reply for a request that never reached its handler (body over the limit) or whose
// handler failed; must not throw.
using RouteErrorWriter = std::function<void(std::string_view message, RouteReply&)>;

struct Route {
  HttpMethod method = HttpMethod::kPost;
  std::string path;
  metrics::Verb verb = metrics::Verb::kOther;
  RouteHandler handler;
  RouteErrorWriter error_writer;  // empty: 200 with {"Error":"<message>"}
};

// The server's route table: exact path + method → handler. A handful of routes, so a linear scan
// over a small vector beats hashing.
//
// Thread-safety: add() before the server starts; afterwards the table is read-only and shared by
// all I/O threads.
class RouteTable {
 public:
  // Adds a route, replacing one with the same method and path.
  void add(Route route);

  const Route* find(HttpMethod method, std::string_view path) const;

  // Runs the matching handler. Unknown path → 404, known path with another method → 405, both with
  // a JSON Error body. A handler that throws is answered through its error writer (status 200 for
  // the extender verbs, so kube-scheduler sees the message); no exception leaves this function.
  // Returns the metrics verb of the request.
  metrics::Verb dispatch(const RouteRequest& request, RouteReply& reply) const noexcept;

  // Answers a request that was refused before dispatch (e.g. its body exceeds the limit) with the
  // route's error writer, or a generic JSON Error for unknown paths. Status stays as set by the
  // caller (200 by default). Returns the metrics verb.
  metrics::Verb reject(HttpMethod method, std::string_view path, std::string_view message,
                       RouteReply& reply) const noexcept;

 private:
  std::vector<Route> routes_;
};

// "/sgx/filter?x=1" → "/sgx/filter".
std::string_view path_of(std::string_view target);

// {"Error":"<message>"}: the generic error body for non-extender routes.
void write_error_json(std::string_view message, std::string& out);

}  // namespace epc::http
