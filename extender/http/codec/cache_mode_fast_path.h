#pragma once

#include "extender/http/codec/json_reader.h"
#include "extender/http/codec/node_names_decoder.h"
#include "extender/http/codec/padded_buffer.h"
#include "extender/http/codec/pod_decoder.h"

namespace epc::http::codec {

// The fast path for the body kube-scheduler sends in cache mode (nodeCacheCapable: true),
//   {"Pod":{...},"Nodes":null,"NodeNames":["a","b",...]}
// with keys in any order and case, and any spacing. The top level is walked by hand: the names are
// read in place by scan_plain_names and only the Pod's text goes through simdjson, so the 5,000
// names are neither indexed by simdjson's stage 1 nor skipped token by token.
//
// Returns true with `pod` and `names` filled exactly as the generic path would fill them. Returns
// false (declined) for anything else: a NodeList, other top-level keys, escapes or non-ASCII in a
// key or a name, malformed text, a decode error in the Pod. The caller must then clear the fields
// and the reader and run the generic path on the whole body, which gives the answer and the error
// message; nothing the fast path leaves behind is meaningful.
//
// `parser` and `doc` are the decoder's (the Pod is parsed as a document of its own).
bool decode_cache_mode_fast(const PaddedBuffer& body, ondemand::parser& parser,
                            ondemand::document& doc, JsonReader& reader, PodFields& pod,
                            NodeNamesFields& names, const PodDecodeOptions& pod_options);

}  // namespace epc::http::codec
