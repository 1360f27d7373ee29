#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace epc::reports {

// The node identity a reviewed token proved, as kept by TokenCache.
struct TokenIdentity {
  std::string node;
  std::string subject;  // "system:serviceaccount:ns:name (pod P)", for logs and refusals
  std::int64_t expires_unix_s = 0;  // the token's own exp; 0 = unknown
};

// Tokens kube-apiserver accepted, so a plugin that reconnects (or an extender replica's many
// streams) is not reviewed again each time. An entry is trusted until the earlier of its token's
// expiry and `ttl` after the review: a revoked token (its pod deleted) is accepted at most `ttl`
// longer, as kube-apiserver's own webhook token cache allows. Refusals are not cached (a new,
// valid token must never wait for one).
//
// Bounded: at most `max_entries` (expired ones are dropped first, then everything: a flood of
// valid tokens costs reviews, never memory). Pure: times are passed in. Not thread-safe.
class TokenCache {
 public:
  TokenCache(std::int64_t ttl_s, std::size_t max_entries = 20000)
      : ttl_s_(ttl_s), max_entries_(max_entries) {}

  std::optional<TokenIdentity> find(std::string_view token, std::int64_t now_unix_s);
  void insert(std::string_view token, TokenIdentity identity, std::int64_t now_unix_s);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    TokenIdentity identity;
    std::int64_t valid_until_unix_s = 0;
  };
  void drop_expired(std::int64_t now_unix_s);

  const std::int64_t ttl_s_;
  const std::size_t max_entries_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace epc::reports
