#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "extender/http/codec/extender_args.h"
#include "extender/http/codec/padded_buffer.h"
#include "extender/http/codec/preempt_args.h"
#include "extender/http/handlers/handler_scratch.h"
#include "extender/http/observation_memo.h"

namespace epc::http {

// Everything one connection reuses from request to request: the body buffer (padded for simdjson),
// the reply buffer, the JSON decoder (one simdjson parser, capacity = body limit), the handlers'
// per-node arrays and the memo of the last pod observation sent to the state writer. Created with
// the connection, never shared (house rule 7, STYLE §5).
struct ConnectionContext {
  explicit ConnectionContext(std::size_t body_limit)
      : decoder(body_limit), body_limit_bytes(body_limit) {}
  ConnectionContext(const ConnectionContext&) = delete;
  ConnectionContext& operator=(const ConnectionContext&) = delete;

  codec::PaddedBuffer request_body;
  std::string reply_body;
  codec::ExtenderArgsDecoder decoder;
  handlers::HandlerScratch scratch;
  ObservationMemo last_observed;  // the pod whose demand this connection last sent to the state
  // Made at the first preempt on this connection (most never send one).
  std::unique_ptr<codec::PreemptArgsDecoder> preempt_decoder;
  std::size_t body_limit_bytes = 0;
};

}  // namespace epc::http
