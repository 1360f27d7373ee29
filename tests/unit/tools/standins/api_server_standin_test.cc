// GCC 12 with -fsanitize=address reports -Wmaybe-uninitialized inside the std::function that
// std::regex holds (a false positive in a system header): silenced for the headers only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "tools/standins/api_server_standin.h"

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

// GCC 12 reports -Wnull-dereference inside Boost.Asio's inlined scheduler code at -O2: a false
// positive in a system header (see extender/http/server.cc).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/json.hpp>
#pragma GCC diagnostic pop
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "tools/standins/temp_dir.h"
#pragma GCC diagnostic pop

namespace epc::tools::standins {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;
using std::chrono::milliseconds;

constexpr milliseconds kWait{5000};  // a bound on what must happen at once, never a sleep

// ---------------------------------------------------------------------------------------------
// A tiny HTTP/1.1-over-TLS client that keeps the wire visible: chunk sizes, the last chunk, EOF.
// It verifies the server certificate against the stand-in's CA and 127.0.0.1.

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // de-chunked
  bool chunked = false;
  std::vector<std::size_t> chunk_sizes;
  bool has(const std::string& name) const { return headers.count(name) > 0; }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

enum class ChunkKind { kData, kLast, kClosed, kTimeout };
struct Chunk {
  ChunkKind kind = ChunkKind::kTimeout;
  std::string data;
};

class TestClient {
 public:
  explicit TestClient(const ApiServerStandin& server, std::string token = "admin-token",
                      bool client_certificate = false)
      : port_(server.port()), token_(std::move(token)), ctx_(ssl::context::tls_client) {
    ctx_.add_certificate_authority(asio::buffer(server.certificates().ca_cert_pem));
    ctx_.set_verify_mode(ssl::verify_peer);
    if (client_certificate) {
      ctx_.use_certificate_chain(asio::buffer(server.certificates().client_cert_pem));
      ctx_.use_private_key(asio::buffer(server.certificates().client_key_pem), ssl::context::pem);
    }
  }

  // TCP connect and a verified TLS handshake. `alpn`: protocols to offer (wire format).
  ::testing::AssertionResult connect(const std::string& alpn = "") {
    stream_.emplace(ioc_, ctx_);
    buf_.clear();
    stream_->set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    if (!alpn.empty()) {
      SSL_set_alpn_protos(stream_->native_handle(),
                          reinterpret_cast<const unsigned char*>(alpn.data()),
                          static_cast<unsigned>(alpn.size()));
    }
    boost::system::error_code ec;
    stream_->lowest_layer().connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
    if (ec) {
      return ::testing::AssertionFailure() << "connect: " << ec.message();
    }
    bool done = false;
    stream_->async_handshake(ssl::stream_base::client, [&](const boost::system::error_code& e) {
      ec = e;
      done = true;
    });
    if (!run(done) || ec) {
      return ::testing::AssertionFailure() << "handshake: " << (ec ? ec.message() : "timeout");
    }
    return ::testing::AssertionSuccess();
  }

  std::string alpn_selected() {
    const unsigned char* data = nullptr;
    unsigned len = 0;
    SSL_get0_alpn_selected(stream_->native_handle(), &data, &len);
    return std::string(reinterpret_cast<const char*>(data), len);
  }

  // Sends a request and reads the status line and headers.
  std::optional<Response> send(const std::string& method, const std::string& target,
                               const std::string& body = "") {
    if (!stream_ && !connect()) {
      return std::nullopt;
    }
    std::string req = method + " " + target +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
                      "User-Agent: standins-unit-tests\r\n";
    if (!token_.empty()) {
      req += "Authorization: Bearer " + token_ + "\r\n";
    }
    if (method == "POST") {
      req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n";
    }
    req += "\r\n" + body;
    boost::system::error_code ec;
    bool done = false;
    asio::async_write(*stream_, asio::buffer(req),
                      [&](const boost::system::error_code& e, std::size_t) {
                        ec = e;
                        done = true;
                      });
    if (!run(done) || ec) {
      return std::nullopt;
    }
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(kWait)) {
        return std::nullopt;
      }
    }
    Response r;
    std::istringstream head(buf_.substr(0, end));
    buf_.erase(0, end + 4);
    std::string line;
    std::getline(head, line);
    r.status = std::stoi(line.substr(9, 3));
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      const auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      r.headers[name] = line.substr(colon + 2);
    }
    r.chunked = r.header("transfer-encoding") == "chunked";
    return r;
  }

  // A whole exchange: the head and the complete body.
  Response request(const std::string& method, const std::string& target,
                   const std::string& body = "") {
    auto r = send(method, target, body);
    if (!r) {
      ADD_FAILURE() << method << " " << target << ": no response";
      return {};
    }
    if (!r->chunked) {
      const std::size_t length = std::stoul(r->header("content-length"));
      while (buf_.size() < length) {
        if (!fill(kWait)) {
          ADD_FAILURE() << "short body";
          return *r;
        }
      }
      r->body = buf_.substr(0, length);
      buf_.erase(0, length);
      return *r;
    }
    for (;;) {
      Chunk c = next_chunk(kWait);
      if (c.kind != ChunkKind::kData) {
        EXPECT_EQ(c.kind, ChunkKind::kLast) << "a chunked body must end with the last chunk";
        return *r;
      }
      r->chunk_sizes.push_back(c.data.size());
      r->body += c.data;
    }
  }

  Chunk next_chunk(milliseconds timeout) {
    std::size_t eol;
    while ((eol = buf_.find("\r\n")) == std::string::npos) {
      if (!fill(timeout)) {
        return {timed_out_ ? ChunkKind::kTimeout : ChunkKind::kClosed, ""};
      }
    }
    const std::size_t size = std::stoul(buf_.substr(0, eol), nullptr, 16);
    while (buf_.size() < eol + 2 + size + 2) {
      if (!fill(timeout)) {
        return {timed_out_ ? ChunkKind::kTimeout : ChunkKind::kClosed, ""};
      }
    }
    EXPECT_EQ(buf_.substr(eol + 2 + size, 2), "\r\n");
    Chunk c{size == 0 ? ChunkKind::kLast : ChunkKind::kData, buf_.substr(eol + 2, size)};
    buf_.erase(0, eol + 2 + size + 2);
    return c;
  }

  // The next watch event line (chunks joined, split on '\n'); empty at the end of the stream.
  std::string next_event(milliseconds timeout = kWait) {
    std::size_t nl;
    while ((nl = events_.find('\n')) == std::string::npos) {
      Chunk c = next_chunk(timeout);
      last_kind_ = c.kind;
      if (c.kind != ChunkKind::kData) {
        return "";
      }
      events_ += c.data;
    }
    std::string line = events_.substr(0, nl + 1);
    events_.erase(0, nl + 1);
    return line;
  }
  ChunkKind last_kind() const { return last_kind_; }

 private:
  bool run(bool& done, milliseconds timeout = kWait) {
    ioc_.restart();
    ioc_.run_for(timeout);
    if (!done) {
      boost::system::error_code ec;
      stream_->lowest_layer().cancel(ec);
      ioc_.restart();
      ioc_.run();
      return false;
    }
    return true;
  }

  bool fill(milliseconds timeout) {
    char data[16384];
    boost::system::error_code ec;
    std::size_t n = 0;
    bool done = false;
    stream_->async_read_some(asio::buffer(data),
                             [&](const boost::system::error_code& e, std::size_t got) {
                               ec = e;
                               n = got;
                               done = true;
                             });
    timed_out_ = !run(done, timeout);
    if (timed_out_ || ec) {
      return false;
    }
    buf_.append(data, n);
    return true;
  }

  std::uint16_t port_;
  std::string token_;
  asio::io_context ioc_;
  ssl::context ctx_;
  std::optional<ssl::stream<tcp::socket>> stream_;
  std::string buf_;
  std::string events_;
  bool timed_out_ = false;
  ChunkKind last_kind_ = ChunkKind::kData;
};

// ---------------------------------------------------------------------------------------------
// Helpers

std::string data_file(const std::string& name) {
  std::ifstream in(std::string(EPC_TEST_DATA_DIR) + "/kube-apiserver/" + name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << name;
  return text.str();
}

json::object parse_object(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  EXPECT_FALSE(ec) << ec.message() << " in " << text.substr(0, 200);
  return v.is_object() ? v.get_object() : json::object{};
}

std::string str(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::value* v = nullptr;
  const json::object* at = &o;
  for (auto key : path) {
    v = at != nullptr ? at->if_contains(key) : nullptr;
    if (v == nullptr) {
      return "";
    }
    at = v->is_object() ? &v->get_object() : nullptr;
  }
  return v->is_string() ? std::string(v->get_string()) : json::serialize(*v);
}

// Values that differ between any two runs: uids, revisions, times.
std::string normalized(std::string text) {
  text = std::regex_replace(text, std::regex(R"("uid":"[^"]*")"), R"("uid":"U")");
  text = std::regex_replace(text, std::regex(R"("resourceVersion":"[0-9]*")"),
                            R"("resourceVersion":"R")");
  return std::regex_replace(
      text,
      std::regex(R"re("(creationTimestamp|time|lastTransitionTime|lastHeartbeatTime)":"[^"]*")re"),
      R"("$1":"T")");
}

// The item named `name` of a captured list, in its typed (GET, watch) form.
std::string captured_item(const std::string& list_file, const std::string& kind,
                          const std::string& name) {
  json::object list = parse_object(data_file(list_file));
  for (const auto& item : list["items"].as_array()) {
    if (str(item.as_object(), {"metadata", "name"}) == name) {
      return "{\"kind\":\"" + kind + "\",\"apiVersion\":\"v1\"," + json::serialize(item).substr(1);
    }
  }
  ADD_FAILURE() << name << " not in " << list_file;
  return "";
}

std::string binding_body(const std::string& ns, const std::string& name, const std::string& uid,
                         const std::string& node) {
  std::string metadata = "{\"name\":\"" + name + "\",\"namespace\":\"" + ns + "\"";
  if (!uid.empty()) {
    metadata += ",\"uid\":\"" + uid + "\"";
  }
  return "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":" + metadata +
         "},\"target\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"" + node + "\"}}";
}

std::string binding_path(const std::string& ns, const std::string& name) {
  return "/api/v1/namespaces/" + ns + "/pods/" + name + "/binding";
}

std::string rv_of(const std::string& body) {
  return str(parse_object(body), {"metadata", "resourceVersion"});
}

PodSpec sgx_pod(const std::string& ns, const std::string& name, const std::string& epc,
                const std::string& uid = "") {
  PodSpec p;
  p.namespace_name = ns;
  p.name = name;
  p.uid = uid;
  p.epc = epc;
  p.extra_requests = {{"cpu", "100m"}};
  p.termination_grace_period_seconds = 0;
  return p;
}

NodeSpec capture_node(const std::string& name, const std::string& epc) {
  NodeSpec n;
  n.name = name;
  n.capacity = {{"cpu", "8"},
                {"memory", "16Gi"},
                {"pods", "110"},
                {"sgx.intel.com/enclave", "20"},
                {"sgx.intel.com/epc", epc},
                {"sgx.intel.com/provision", "20"}};
  n.labels = {{"feature.node.kubernetes.io/cpu-sgx.enabled", "true"},
              {"kubernetes.io/hostname", name}};
  return n;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

class ApiServerStandinTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  void start(ApiServerStandin::Options options) {
    server_.reset();
    auto started = ApiServerStandin::start(std::move(options));
    ASSERT_TRUE(started.ok()) << started.error().message;
    server_ = std::move(started).value();
  }

  // The captures' starting pods (README "Cluster content"), with the captured uids.
  void seed_capture_pods() {
    auto bound_a = sgx_pod("default", "sgx-bound-a", "64Mi");
    bound_a.node_name = "node-a";
    PodSpec plain;
    plain.namespace_name = "default";
    plain.name = "plain-bound-b";
    plain.extra_requests = {{"cpu", "100m"}, {"memory", "64Mi"}};
    plain.node_name = "node-b";
    plain.termination_grace_period_seconds = 0;
    auto bound_c = sgx_pod("sgx-apps", "sgx-bound-c", "16Mi");
    bound_c.node_name = "node-c";
    for (const PodSpec& p :
         {bound_a, plain, bound_c,
          sgx_pod("sgx-apps", "sgx-pending-1", "32Mi", "ec1ec793-a147-472a-9f60-5712a9b0927f"),
          sgx_pod("sgx-apps", "sgx-pending-2", "16Mi", "49c83f43-9c64-4a0c-bb30-919892ab5d23")}) {
      ASSERT_TRUE(server_->create_pod(p).ok()) << p.name;
    }
  }

  std::unique_ptr<ApiServerStandin> server_;
};

// ---------------------------------------------------------------------------------------------
// LIST

TEST_F(ApiServerStandinTest, ListPagesKeepTheFirstPagesRevision) {
  seed_capture_pods();
  TestClient client(*server_);
  Response page1 = client.request("GET", "/api/v1/pods?limit=2");
  ASSERT_EQ(page1.status, 200);
  auto p1 = parse_object(page1.body);
  EXPECT_EQ(page1.body.back(), '\n');
  EXPECT_EQ(str(p1, {"kind"}), "PodList");
  const std::string rv = str(p1, {"metadata", "resourceVersion"});
  EXPECT_EQ(rv, std::to_string(server_->resource_version()));
  EXPECT_EQ(str(p1, {"metadata", "remainingItemCount"}), "3");
  const std::string token = str(p1, {"metadata", "continue"});
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(token.find_first_of("+/="), std::string::npos) << "base64url without padding";
  ASSERT_EQ(p1["items"].as_array().size(), 2u);
  // By namespace, then name; items without kind/apiVersion.
  EXPECT_EQ(str(p1["items"].as_array()[0].as_object(), {"metadata", "name"}), "plain-bound-b");
  EXPECT_EQ(str(p1["items"].as_array()[1].as_object(), {"metadata", "name"}), "sgx-bound-a");
  EXPECT_FALSE(p1["items"].as_array()[0].as_object().contains("kind"));
  EXPECT_TRUE(page1.chunked) << "a two-pod page is over 2048 bytes";
  EXPECT_EQ(page1.chunk_sizes.size(), 1u) << "as kube-apiserver: one chunk";

  // A write between pages moves the revision but not the snapshot.
  ASSERT_TRUE(server_->create_pod(sgx_pod("sgx-apps", "sgx-late", "8Mi")).ok());
  Response page2 = client.request("GET", "/api/v1/pods?limit=2&continue=" + token);
  ASSERT_EQ(page2.status, 200);
  auto p2 = parse_object(page2.body);
  EXPECT_EQ(str(p2, {"metadata", "resourceVersion"}), rv);
  EXPECT_EQ(str(p2, {"metadata", "remainingItemCount"}), "1");
  ASSERT_EQ(p2["items"].as_array().size(), 2u);
  EXPECT_EQ(str(p2["items"].as_array()[0].as_object(), {"metadata", "name"}), "sgx-bound-c");

  Response page3 =
      client.request("GET", "/api/v1/pods?limit=10&continue=" + str(p2, {"metadata", "continue"}));
  ASSERT_EQ(page3.status, 200);
  auto p3 = parse_object(page3.body);
  EXPECT_EQ(str(p3, {"metadata", "resourceVersion"}), rv);
  EXPECT_FALSE(p3["metadata"].as_object().contains("continue"));
  EXPECT_FALSE(p3["metadata"].as_object().contains("remainingItemCount"));
  ASSERT_EQ(p3["items"].as_array().size(), 1u) << "sgx-late came after the snapshot";
  EXPECT_EQ(str(p3["items"].as_array()[0].as_object(), {"metadata", "name"}), "sgx-pending-2");

  Response fresh = client.request("GET", "/api/v1/pods?resourceVersion=0");
  EXPECT_EQ(parse_object(fresh.body)["items"].as_array().size(), 6u);
  EXPECT_GT(std::stoull(rv_of(fresh.body)), std::stoull(rv));
  EXPECT_EQ(server_->counters().lists, 4u);
}

TEST_F(ApiServerStandinTest, SmallBodiesHaveContentLengthBigOnesAreChunked) {
  ApiServerStandin::Options options;
  options.list_chunk_bytes = 2048;
  start(options);
  PodSpec small = sgx_pod("sgx-apps", "small", "16Mi");
  PodSpec big = sgx_pod("sgx-apps", "big", "16Mi");
  big.extra_bytes = 3000;
  ASSERT_TRUE(server_->create_pod(small).ok());
  ASSERT_TRUE(server_->create_pod(big).ok());
  TestClient client(*server_);
  Response s = client.request("GET", "/api/v1/namespaces/sgx-apps/pods/small");
  ASSERT_EQ(s.status, 200);
  EXPECT_FALSE(s.chunked);
  EXPECT_EQ(s.header("content-length"), std::to_string(s.body.size()));
  EXPECT_LT(s.body.size(), 2048u);
  Response b = client.request("GET", "/api/v1/namespaces/sgx-apps/pods/big");
  ASSERT_EQ(b.status, 200);
  EXPECT_TRUE(b.chunked);
  EXPECT_FALSE(b.has("content-length"));
  EXPECT_GT(b.body.size(), 4000u);
  EXPECT_LT(b.body.size(), 6000u);
  EXPECT_EQ(b.chunk_sizes.front(), 2048u) << "list_chunk_bytes = 2048";
  EXPECT_EQ(str(parse_object(b.body), {"kind"}), "Pod");
  EXPECT_EQ(b.body.back(), '\n');
}

TEST_F(ApiServerStandinTest, PodAndNodeJsonAreShapedAsCaptured) {
  seed_capture_pods();
  ASSERT_TRUE(server_->add_node(capture_node("node-a", "128Mi")).ok());
  TestClient client(*server_);
  for (const std::string name : {"sgx-pending-1", "sgx-bound-c"}) {
    Response pod = client.request("GET", "/api/v1/namespaces/sgx-apps/pods/" + name);
    ASSERT_EQ(pod.status, 200);
    EXPECT_EQ(normalized(pod.body),
              normalized(captured_item("list-pods-all.json", "Pod", name) + "\n"));
  }
  Response plain = client.request("GET", "/api/v1/namespaces/default/pods/plain-bound-b");
  EXPECT_EQ(normalized(plain.body),
            normalized(captured_item("list-pods-all.json", "Pod", "plain-bound-b") + "\n"));
  Response node = client.request("GET", "/api/v1/nodes/node-a");
  ASSERT_EQ(node.status, 200);
  EXPECT_EQ(normalized(node.body),
            normalized(captured_item("list-nodes.json", "Node", "node-a") + "\n"));
  Response missing = client.request("GET", "/api/v1/namespaces/sgx-apps/pods/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(
      missing.body,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"nope\" not found","reason":"NotFound","details":{"name":"nope","kind":"pods"},"code":404})"
      "\n");
}

TEST_F(ApiServerStandinTest, FieldSelectorsFilterAndUnknownFieldsAreRefused) {
  seed_capture_pods();
  TestClient client(*server_);
  auto names = [&](const std::string& target) {
    std::vector<std::string> out;
    Response r = client.request("GET", target);
    EXPECT_EQ(r.status, 200) << r.body;
    json::object list = parse_object(r.body);
    for (const auto& item : list["items"].as_array()) {
      out.push_back(str(item.as_object(), {"metadata", "name"}));
    }
    return out;
  };
  EXPECT_EQ(names("/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a"),
            std::vector<std::string>{"sgx-bound-a"});
  EXPECT_EQ(names("/api/v1/pods?fieldSelector=spec.nodeName%3D"),
            (std::vector<std::string>{"sgx-pending-1", "sgx-pending-2"}));
  EXPECT_EQ(names("/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%21%3D"),
            (std::vector<std::string>{"plain-bound-b", "sgx-bound-a"}));
  Response bad = client.request("GET", "/api/v1/pods?fieldSelector=spec.priority%3D0");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(str(parse_object(bad.body), {"message"}), "field label not supported: spec.priority");
}

// ---------------------------------------------------------------------------------------------
// WATCH

TEST_F(ApiServerStandinTest, WatchFromAListRevisionSeesEveryChangeInOrder) {
  TestClient lister(*server_);
  const std::string rv = rv_of(lister.request("GET", "/api/v1/pods").body);
  TestClient watcher(*server_);
  auto head = watcher.send("GET", "/api/v1/pods?watch=1&resourceVersion=" + rv +
                                      "&allowWatchBookmarks=true&timeoutSeconds=30");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->chunked);
  EXPECT_EQ(head->header("content-type"), "application/json");

  ASSERT_TRUE(server_->create_pod(sgx_pod("sgx-apps", "watch-demo", "16Mi")).ok());
  ASSERT_TRUE(server_->set_pod_phase("sgx-apps", "watch-demo", "Pending").ok());
  Response bound = lister.request("POST", binding_path("sgx-apps", "watch-demo"),
                                  binding_body("sgx-apps", "watch-demo", "", "node-b"));
  ASSERT_EQ(bound.status, 201);
  ASSERT_TRUE(server_->delete_pod("sgx-apps", "watch-demo").ok());

  const std::vector<std::string> expected = {"ADDED", "MODIFIED", "MODIFIED", "MODIFIED",
                                             "DELETED"};
  std::uint64_t last_rv = std::stoull(rv);
  std::vector<json::object> events;
  for (const std::string& type : expected) {
    // Live events come one per chunk, each exactly one JSON line.
    Chunk c = watcher.next_chunk(kWait);
    ASSERT_EQ(c.kind, ChunkKind::kData);
    ASSERT_EQ(c.data.back(), '\n');
    ASSERT_EQ(c.data.find('\n'), c.data.size() - 1);
    json::object e = parse_object(c.data);
    EXPECT_EQ(str(e, {"type"}), type);
    json::object& object = e["object"].as_object();
    EXPECT_EQ(str(object, {"kind"}), "Pod");
    EXPECT_EQ(str(object, {"apiVersion"}), "v1");
    const std::uint64_t event_rv = std::stoull(str(object, {"metadata", "resourceVersion"}));
    EXPECT_GT(event_rv, last_rv);
    last_rv = event_rv;
    events.push_back(std::move(e));
  }
  EXPECT_EQ(str(events[2], {"object", "spec", "nodeName"}), "node-b");
  EXPECT_NE(str(events[2], {"object", "status", "conditions"}).find("\"PodScheduled\""),
            std::string::npos);
  EXPECT_EQ(str(events[3], {"object", "metadata", "deletionGracePeriodSeconds"}), "0");
  // The DELETED event carries the deletion's revision, the last state otherwise.
  EXPECT_EQ(last_rv, server_->resource_version());
  EXPECT_EQ(str(events[4], {"object", "spec", "nodeName"}), "node-b");
  EXPECT_EQ(server_->counters().open_watches, 1u);
}

TEST_F(ApiServerStandinTest, WatchFromZeroSendsTheInitialStateThenTheEndMarker) {
  seed_capture_pods();
  TestClient watcher(*server_);
  auto head = watcher.send(
      "GET", "/api/v1/pods?watch=1&resourceVersion=0&allowWatchBookmarks=true&timeoutSeconds=30");
  ASSERT_TRUE(head);
  ASSERT_EQ(head->status, 200);
  std::vector<std::size_t> sizes;
  std::string stream;
  // Five pods of ~1.8 KB then the marker: 2048-byte chunks, events straddling them (42).
  while (std::count(stream.begin(), stream.end(), '\n') < 6) {
    Chunk c = watcher.next_chunk(kWait);
    ASSERT_EQ(c.kind, ChunkKind::kData);
    sizes.push_back(c.data.size());
    stream += c.data;
  }
  ASSERT_GE(sizes.size(), 4u);
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
    EXPECT_EQ(sizes[i], 2048u);
  }
  EXPECT_LE(sizes.back(), 2048u);
  std::vector<std::string> lines;
  std::istringstream in(stream);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line + "\n");
  }
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(str(parse_object(lines[0]), {"object", "metadata", "name"}), "plain-bound-b");
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(str(parse_object(lines[i]), {"type"}), "ADDED");
  }
  const std::string rv = std::to_string(server_->resource_version());
  EXPECT_EQ(lines[5],
            replace_all(data_file("watch-pods-initial-events-end.jsonl"),
                        "\"resourceVersion\":\"271\"", "\"resourceVersion\":\"" + rv + "\""));
}

TEST_F(ApiServerStandinTest, NoBookmarkWhileNothingChangedThenBookmarksAtTheNewRevision) {
  ApiServerStandin::Options options;
  options.bookmark_interval = milliseconds(20);
  start(options);
  const std::string rv = std::to_string(server_->resource_version());
  {
    // 29/30: nothing changed, so the stream is only the last chunk when timeoutSeconds ends.
    TestClient watcher(*server_);
    auto head = watcher.send("GET", "/api/v1/pods?watch=1&resourceVersion=" + rv +
                                        "&allowWatchBookmarks=true&timeoutSeconds=1");
    ASSERT_TRUE(head);
    EXPECT_EQ(watcher.next_chunk(milliseconds(3000)).kind, ChunkKind::kLast);
  }
  TestClient watcher(*server_);
  auto head = watcher.send("GET", "/api/v1/pods?watch=1&resourceVersion=" + rv +
                                      "&allowWatchBookmarks=true&timeoutSeconds=30");
  ASSERT_TRUE(head);
  // A node write moves the shared revision; the pod watch learns it from a bookmark.
  ASSERT_TRUE(server_->add_node(capture_node("node-d", "64Mi")).ok());
  const std::string now = std::to_string(server_->resource_version());
  const std::string line = watcher.next_event();
  EXPECT_EQ(line,
            replace_all(data_file("watch-pods-bookmark.jsonl"), "\"224\"", "\"" + now + "\""));
}

TEST_F(ApiServerStandinTest, SendBookmarksReachesEveryWatchThatAllowsThem) {
  ApiServerStandin::Options options;
  options.bookmark_interval = milliseconds(0);
  start(options);
  TestClient pods(*server_);
  TestClient nodes(*server_);
  const std::string rv = std::to_string(server_->resource_version());
  ASSERT_TRUE(pods.send(
      "GET", "/api/v1/pods?watch=true&resourceVersion=" + rv + "&allowWatchBookmarks=true"));
  ASSERT_TRUE(nodes.send(
      "GET", "/api/v1/nodes?watch=1&resourceVersion=" + rv + "&allowWatchBookmarks=true"));
  ASSERT_TRUE(server_->wait_for_open_watches(2, kWait));
  server_->send_bookmarks();
  EXPECT_EQ(pods.next_event(),
            replace_all(data_file("watch-pods-bookmark.jsonl"), "\"224\"", "\"" + rv + "\""));
  EXPECT_EQ(nodes.next_event(),
            replace_all(data_file("watch-nodes-bookmark.jsonl"), "\"256\"", "\"" + rv + "\""));
}

TEST_F(ApiServerStandinTest, NodeWatchSeesAllocatableChangesAndDeletion) {
  ASSERT_TRUE(server_->add_node(capture_node("node-a", "128Mi")).ok());
  const std::string rv = std::to_string(server_->resource_version());
  TestClient watcher(*server_);
  ASSERT_TRUE(watcher.send("GET", "/api/v1/nodes?watch=1&resourceVersion=" + rv));
  ASSERT_TRUE(server_->update_node_allocatable("node-a", {{"sgx.intel.com/epc", "96Mi"}}).ok());
  ASSERT_TRUE(server_->delete_node("node-a").ok());
  json::object modified = parse_object(watcher.next_event());
  EXPECT_EQ(str(modified, {"type"}), "MODIFIED");
  EXPECT_EQ(str(modified, {"object", "status", "allocatable", "sgx.intel.com/epc"}), "96Mi");
  EXPECT_EQ(str(modified, {"object", "status", "capacity", "sgx.intel.com/epc"}), "128Mi");
  json::object deleted = parse_object(watcher.next_event());
  EXPECT_EQ(str(deleted, {"type"}), "DELETED");
  EXPECT_EQ(str(deleted, {"object", "metadata", "resourceVersion"}),
            std::to_string(server_->resource_version()));
}

TEST_F(ApiServerStandinTest, UnboundPodWatchSeesTheBindingAsDeleted) {
  TestClient watcher(*server_);
  const std::string rv = std::to_string(server_->resource_version());
  ASSERT_TRUE(watcher.send(
      "GET", "/api/v1/pods?watch=1&resourceVersion=" + rv + "&fieldSelector=spec.nodeName%3D"));
  ASSERT_TRUE(server_->create_pod(sgx_pod("sgx-apps", "fs-demo", "16Mi")).ok());
  TestClient binder(*server_);
  ASSERT_EQ(binder
                .request("POST", binding_path("sgx-apps", "fs-demo"),
                         binding_body("sgx-apps", "fs-demo", "", "node-a"))
                .status,
            201);
  EXPECT_EQ(str(parse_object(watcher.next_event()), {"type"}), "ADDED");
  json::object left = parse_object(watcher.next_event());
  EXPECT_EQ(str(left, {"type"}), "DELETED") << "43: a pod leaving the selector";
  EXPECT_EQ(str(left, {"object", "spec", "nodeName"}), "node-a");
}

TEST_F(ApiServerStandinTest, TooOldRevisionAfterRestartGivesOneErrorEvent) {
  const std::string old_rv = std::to_string(server_->resource_version());
  ASSERT_TRUE(server_->create_pod(sgx_pod("sgx-apps", "p", "16Mi")).ok());
  server_->restart();
  const std::string now = std::to_string(server_->resource_version());
  TestClient watcher(*server_);
  auto head = watcher.send("GET", "/api/v1/pods?watch=1&resourceVersion=" + old_rv +
                                      "&allowWatchBookmarks=true&timeoutSeconds=20");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200) << "41: no HTTP 410 for watches";
  Chunk error = watcher.next_chunk(kWait);
  ASSERT_EQ(error.kind, ChunkKind::kData);
  EXPECT_EQ(error.data, replace_all(data_file("watch-pods-rv-too-old-410.jsonl"), "214 (271)",
                                    old_rv + " (" + now + ")"));
  EXPECT_EQ(watcher.next_chunk(kWait).kind, ChunkKind::kLast);
  // From the revision the error named, watching works again.
  TestClient again(*server_);
  ASSERT_TRUE(again.send("GET", "/api/v1/pods?watch=1&resourceVersion=" + now));
  ASSERT_TRUE(server_->create_pod(sgx_pod("sgx-apps", "q", "16Mi")).ok());
  EXPECT_EQ(str(parse_object(again.next_event()), {"type"}), "ADDED");
}

TEST_F(ApiServerStandinTest, HistoryBeyondItsSizeIsTooOld) {
  ApiServerStandin::Options options;
  options.history_size = 2;
  start(options);
  const std::string start_rv = std::to_string(server_->resource_version());
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(server_->create_pod(sgx_pod("default", name, "1Mi")).ok());
  }
  TestClient watcher(*server_);
  ASSERT_TRUE(watcher.send("GET", "/api/v1/pods?watch=1&resourceVersion=" + start_rv));
  json::object e = parse_object(watcher.next_event());
  EXPECT_EQ(str(e, {"type"}), "ERROR");
  EXPECT_EQ(str(e, {"object", "code"}), "410");
  EXPECT_EQ(watcher.next_event(), "");
  EXPECT_EQ(watcher.last_kind(), ChunkKind::kLast);
}

TEST_F(ApiServerStandinTest, DropWatchesCutsTheStreamWithoutTheLastChunk) {
  TestClient watcher(*server_);
  ASSERT_TRUE(watcher.send("GET", "/api/v1/pods?watch=1"));
  ASSERT_TRUE(server_->wait_for_open_watches(1, kWait));
  server_->drop_watches();
  EXPECT_EQ(watcher.next_chunk(kWait).kind, ChunkKind::kClosed);
  EXPECT_EQ(server_->counters().open_watches, 0u);
  // The server itself goes on.
  TestClient other(*server_);
  EXPECT_EQ(other.request("GET", "/api/v1/nodes").status, 200);
}

TEST_F(ApiServerStandinTest, ContinueTokensExpireOnRestartAndCompaction) {
  seed_capture_pods();
  TestClient client(*server_);
  for (int round = 0; round < 2; ++round) {
    auto page = parse_object(client.request("GET", "/api/v1/pods?limit=2").body);
    const std::string token = str(page, {"metadata", "continue"});
    ASSERT_FALSE(token.empty());
    if (round == 0) {
      server_->restart();
    } else {
      server_->compact();
    }
    Response expired = client.request("GET", "/api/v1/pods?limit=2&continue=" + token);
    EXPECT_EQ(expired.status, 410);
    auto status = parse_object(expired.body);
    auto captured = parse_object(data_file("list-pods-expired-continue-410.json"));
    EXPECT_EQ(str(status, {"message"}), str(captured, {"message"}));
    EXPECT_EQ(str(status, {"reason"}), "Expired");
    // The fresh token continues inconsistently, after the same item.
    const std::string fresh = str(status, {"metadata", "continue"});
    ASSERT_FALSE(fresh.empty());
    Response rest = client.request("GET", "/api/v1/pods?continue=" + fresh);
    ASSERT_EQ(rest.status, 200);
    EXPECT_EQ(parse_object(rest.body)["items"].as_array().size(), 3u);
  }
}

// ---------------------------------------------------------------------------------------------
// BINDING

TEST_F(ApiServerStandinTest, BindingAnswersAsTheCaptures) {
  seed_capture_pods();
  std::vector<BindingRecord> observed;
  server_->set_binding_observer([&](const BindingRecord& r) { observed.push_back(r); });
  TestClient client(*server_);
  const std::string uid1 = "ec1ec793-a147-472a-9f60-5712a9b0927f";
  Response created = client.request("POST", binding_path("sgx-apps", "sgx-pending-1"),
                                    binding_body("sgx-apps", "sgx-pending-1", uid1, "node-a"));
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.body, data_file("binding-201.json"));
  EXPECT_EQ(created.header("content-length"), "80");
  EXPECT_EQ(server_->pod_node("sgx-apps", "sgx-pending-1"), "node-a");
  ASSERT_EQ(observed.size(), 1u);
  EXPECT_EQ(observed[0].node_name, "node-a");
  EXPECT_EQ(observed[0].uid, uid1);
  EXPECT_EQ(observed[0].requests.at("sgx.intel.com/epc"), "32Mi");

  // Again, to another node: 409 naming the node it is already on (16).
  Response again = client.request("POST", binding_path("sgx-apps", "sgx-pending-1"),
                                  binding_body("sgx-apps", "sgx-pending-1", uid1, "node-b"));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.body, data_file("binding-again-409.json"));

  Response missing = client.request(
      "POST", binding_path("sgx-apps", "no-such-pod"),
      binding_body("sgx-apps", "no-such-pod", "11111111-2222-3333-4444-555555555555", "node-a"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, data_file("binding-missing-pod-404.json"));

  Response wrong_uid = client.request(
      "POST", binding_path("sgx-apps", "sgx-pending-2"),
      binding_body("sgx-apps", "sgx-pending-2", "00000000-0000-0000-0000-000000000000", "node-a"));
  EXPECT_EQ(wrong_uid.status, 409);
  EXPECT_EQ(wrong_uid.body, data_file("binding-wrong-uid-409.json"));
  EXPECT_EQ(server_->pod_node("sgx-apps", "sgx-pending-2"), std::nullopt);

  Response mismatch = client.request(
      "POST", binding_path("sgx-apps", "sgx-pending-2"),
      R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":"other-name","namespace":"sgx-apps"},"target":{"apiVersion":"v1","kind":"Node","name":"node-a"}})");
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_EQ(mismatch.body, data_file("binding-name-mismatch-400.json"));

  Response garbage = client.request("POST", binding_path("sgx-apps", "sgx-pending-2"), "{not json");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(str(parse_object(garbage.body), {"reason"}), "BadRequest");

  // A pre-bound pod (17), and a GET on the binding path.
  Response prebound = client.request("POST", binding_path("default", "sgx-bound-a"),
                                     binding_body("default", "sgx-bound-a", "", "node-b"));
  EXPECT_EQ(prebound.status, 409);
  EXPECT_NE(prebound.body.find("already assigned to node \\\"node-a\\\""), std::string::npos);
  EXPECT_EQ(client.request("GET", binding_path("default", "sgx-bound-a")).status, 405);

  EXPECT_EQ(observed.size(), 1u);
  const ApiServerCounters counters = server_->counters();
  EXPECT_EQ(counters.bindings, 1u);
  EXPECT_EQ(counters.binding_requests, 7u);
  EXPECT_EQ(counters.responses_by_status.at(409), 3u);
}

TEST_F(ApiServerStandinTest, InjectedBindingFailuresChangeNothing) {
  ASSERT_TRUE(server_->create_pod(sgx_pod("sgx-apps", "p", "16Mi")).ok());
  server_->fail_next_bindings(2, 500);
  TestClient client(*server_);
  const std::string body = binding_body("sgx-apps", "p", "", "node-a");
  for (int i = 0; i < 2; ++i) {
    Response failed = client.request("POST", binding_path("sgx-apps", "p"), body);
    EXPECT_EQ(failed.status, 500);
    auto status = parse_object(failed.body);
    EXPECT_EQ(str(status, {"kind"}), "Status");
    EXPECT_EQ(str(status, {"code"}), "500");
    EXPECT_EQ(server_->pod_node("sgx-apps", "p"), std::nullopt);
  }
  server_->fail_next_bindings(1, 429);
  Response throttled = client.request("POST", binding_path("sgx-apps", "p"), body);
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(throttled.header("retry-after"), "1");
  EXPECT_EQ(client.request("POST", binding_path("sgx-apps", "p"), body).status, 201);
  EXPECT_EQ(server_->pod_node("sgx-apps", "p"), "node-a");
}

TEST_F(ApiServerStandinTest, BindingDelayHoldsTheBindingBack) {
  ASSERT_TRUE(server_->create_pod(sgx_pod("sgx-apps", "p", "16Mi")).ok());
  server_->set_binding_delay(milliseconds(200));
  TestClient client(*server_);
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(client
                .request("POST", binding_path("sgx-apps", "p"),
                         binding_body("sgx-apps", "p", "", "node-a"))
                .status,
            201);
  EXPECT_GE(std::chrono::steady_clock::now() - before, milliseconds(200));
}

// ---------------------------------------------------------------------------------------------
// Authentication, authorization, routes, transport

TEST_F(ApiServerStandinTest, AuthenticationAndAuthorizationAnswerAsTheCaptures) {
  TestClient bad(*server_, "no-such-token");
  Response unauthorized = bad.request("GET", "/api/v1/pods");
  EXPECT_EQ(unauthorized.status, 401);
  EXPECT_EQ(unauthorized.body, data_file("list-pods-bad-token-401.json"));
  EXPECT_FALSE(unauthorized.has("x-kubernetes-pf-flowschema-uid"));

  TestClient alice(*server_, "alice-token");
  Response list = alice.request("GET", "/api/v1/pods");
  EXPECT_EQ(list.status, 403);
  EXPECT_EQ(list.body, data_file("list-pods-unprivileged-403.json"));
  EXPECT_EQ(list.header("x-content-type-options"), "nosniff");
  Response watch = alice.request("GET", "/api/v1/pods?watch=1&timeoutSeconds=5");
  EXPECT_EQ(watch.status, 403);
  EXPECT_FALSE(watch.chunked) << "26: a plain response, not a stream";
  EXPECT_EQ(watch.body, data_file("watch-pods-unprivileged-403.json"));
  Response bind = alice.request(
      "POST", binding_path("sgx-apps", "sgx-pending-2"),
      R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":"other-name","namespace":"sgx-apps"},"target":{"apiVersion":"v1","kind":"Node","name":"node-a"}})");
  EXPECT_EQ(bind.status, 403);
  EXPECT_EQ(bind.body, data_file("binding-unprivileged-403.json"));

  TestClient anonymous(*server_, "");
  Response anon = anonymous.request("GET", "/api/v1/pods");
  EXPECT_EQ(anon.status, 403);
  EXPECT_EQ(anon.body, data_file("list-pods-anonymous-403.json"));

  TestClient mtls(*server_, "", true);
  EXPECT_EQ(mtls.request("GET", "/api/v1/pods").status, 200);

  TestClient admin(*server_);
  Response unknown = admin.request("GET", "/api/v1/configmaps");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(str(parse_object(unknown.body), {"reason"}), "NotFound");
  Response post_list = admin.request("POST", "/api/v1/pods", "{}");
  EXPECT_EQ(post_list.status, 405);
  EXPECT_EQ(str(parse_object(post_list.body), {"reason"}), "MethodNotAllowed");
  EXPECT_EQ(server_->counters().responses_by_status.at(403), 4u);
}

TEST_F(ApiServerStandinTest, SpeaksHttp11OnlyAndKeepsConnectionsAlive) {
  TestClient client(*server_);
  ASSERT_TRUE(client.connect(std::string("\x02h2\x08http/1.1", 12)));
  EXPECT_EQ(client.alpn_selected(), "http/1.1");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client.request("GET", "/api/v1/nodes").status, 200) << "request " << i;
  }
  // After a watch ends cleanly, the same connection serves the next request.
  auto head = client.send("GET", "/api/v1/nodes?watch=1&timeoutSeconds=1");
  ASSERT_TRUE(head);
  EXPECT_EQ(client.next_chunk(milliseconds(3000)).kind, ChunkKind::kLast);
  EXPECT_EQ(client.request("GET", "/api/v1/nodes").status, 200);
}

TEST_F(ApiServerStandinTest, DownRefusesConnectionsUntilUpAgain) {
  ASSERT_TRUE(server_->set_down(true).ok());
  TestClient refused(*server_);
  EXPECT_FALSE(refused.connect());
  ASSERT_TRUE(server_->set_down(false).ok());
  TestClient client(*server_);
  EXPECT_EQ(client.request("GET", "/api/v1/pods").status, 200);
}

TEST_F(ApiServerStandinTest, KubeconfigNamesTheServerTheCaAndTheUser) {
  TempDir dir("epc-kubeconfig");
  ASSERT_TRUE(dir.status().ok());
  ASSERT_TRUE(server_->write_kubeconfig(dir.file("token"), KubeconfigUser::kAdminToken).ok());
  ASSERT_TRUE(server_->write_kubeconfig(dir.file("cert"), KubeconfigUser::kClientCertificate).ok());
  auto read = [&](const std::string& name) {
    std::ifstream in(dir.file(name));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  const std::string token = read("token");
  EXPECT_NE(token.find("server: " + server_->url() + "\n"), std::string::npos);
  EXPECT_NE(token.find("token: admin-token\n"), std::string::npos);
  EXPECT_NE(token.find("current-context: epc-standin\n"), std::string::npos);
  std::smatch ca;
  ASSERT_TRUE(std::regex_search(token, ca, std::regex("certificate-authority-data: (\\S+)")));
  EXPECT_EQ(ca[1].str().substr(0, 20), "LS0tLS1CRUdJTiBDRVJU") << "base64 of -----BEGIN CERT";
  const std::string cert = read("cert");
  EXPECT_NE(cert.find("client-certificate-data: "), std::string::npos);
  EXPECT_NE(cert.find("client-key-data: "), std::string::npos);
  EXPECT_EQ(cert.find("token:"), std::string::npos);
}

}  // namespace
}  // namespace epc::tools::standins
