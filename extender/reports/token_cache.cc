#include "extender/reports/token_cache.h"

#include <algorithm>

namespace epc::reports {

std::optional<TokenIdentity> TokenCache::find(std::string_view token, std::int64_t now_unix_s) {
  const auto it = entries_.find(std::string(token));
  if (it == entries_.end()) {
    return std::nullopt;
  }
  if (now_unix_s >= it->second.valid_until_unix_s) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.identity;
}

void TokenCache::insert(std::string_view token, TokenIdentity identity, std::int64_t now_unix_s) {
  std::int64_t until = now_unix_s + ttl_s_;
  if (identity.expires_unix_s > 0) {
    until = std::min(until, identity.expires_unix_s);
  }
  if (until <= now_unix_s) {
    return;
  }
  if (entries_.size() >= max_entries_) {
    drop_expired(now_unix_s);
    if (entries_.size() >= max_entries_) {
      entries_.clear();
    }
  }
  entries_[std::string(token)] = Entry{std::move(identity), until};
}

void TokenCache::drop_expired(std::int64_t now_unix_s) {
  std::erase_if(entries_, [now_unix_s](const auto& entry) {
    return now_unix_s >= entry.second.valid_until_unix_s;
  });
}

}  // namespace epc::reports
