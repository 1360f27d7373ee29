#pragma once

#include <cstddef>
#include <string>

#include "extender/http/codec/extender_args.h"
#include "extender/http/codec/padded_buffer.h"
#include "extender/http/handlers/handler_scratch.h"
#include "extender/http/observation_memo.h"

namespace epc::http {

// Everything one connection reuses from request to request: the body buffer (padded for simdjson),
// the reply buffer, the JSON decoder (one simdjson parser, capacity = body limit), the handlers'
// per-node arrays and the memo of the last pod observation sent to the state writer. Created with
// the connection, never shared (house rule 7, STYLE §5).
struct ConnectionContext {
  explicit ConnectionContext(std::size_t body_limit_bytes) : decoder(body_limit_bytes) {}
  ConnectionContext(const ConnectionContext&) = delete;
  ConnectionContext& operator=(const ConnectionContext&) = delete;

  codec::PaddedBuffer request_body;
  std::string reply_body;
  codec::ExtenderArgsDecoder decoder;
  handlers::HandlerScratch scratch;
  ObservationMemo last_observed;  // the pod whose demand this connection last sent to the state
};

}  // namespace epc::http
