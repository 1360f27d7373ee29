#include "tools/standins/kubelet_standin.h"

#include <atomic>
#include <utility>

#include <dirent.h>
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

namespace epc::tools::standins {

namespace {

// Kubelet waits 10 s for the dial-back; tests want failures sooner.
constexpr auto kDialTimeout = std::chrono::seconds(5);
// Generous: a stand-in's calls should fail clearly, not early. Under TSan, with a dozen
// instrumented plugins on two cores, an Allocate once took longer than 5 s.
constexpr auto kCallTimeout = std::chrono::seconds(20);

std::chrono::system_clock::time_point deadline_in(std::chrono::seconds d) {
  return std::chrono::system_clock::now() + d;
}

std::string status_text(const grpc::Status& status) {
  return status.error_message() + " (code " +
         std::to_string(static_cast<int>(status.error_code())) + ")";
}

// Kubelet's extended resource name rules, reduced to what a test can get wrong (spec §5).
bool valid_extended_resource(const std::string& name) {
  const auto slash = name.find('/');
  return slash != std::string::npos && slash > 0 && slash + 1 < name.size() &&
         !name.starts_with("kubernetes.io/") && !name.starts_with("requests.");
}

void remove_sockets(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return;
  }
  std::vector<std::string> sockets;
  while (const dirent* entry = ::readdir(d)) {
    const std::string path = dir + "/" + entry->d_name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      sockets.push_back(path);
    }
  }
  ::closedir(d);
  for (const std::string& path : sockets) {
    ::unlink(path.c_str());
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

class KubeletStandin::RegistrationService final : public v1beta1::Registration::Service {
 public:
  explicit RegistrationService(KubeletStandin& owner) : owner_(owner) {}

  grpc::Status Register(grpc::ServerContext* /*context*/, const v1beta1::RegisterRequest* request,
                        v1beta1::Empty* /*response*/) override {
    return owner_.handle_register(*request);
  }

 private:
  KubeletStandin& owner_;
};

struct KubeletStandin::Endpoint {
  std::string resource;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1beta1::DevicePlugin::Stub> stub;
  grpc::ClientContext stream_context;
  std::thread reader;
  std::atomic<bool> open{false};
};

KubeletStandin::KubeletStandin(std::string dir) : dir_(std::move(dir)) {}

KubeletStandin::~KubeletStandin() { stop(); }

std::string KubeletStandin::socket_path() const { return dir_ + "/kubelet.sock"; }

common::Result<std::monostate> KubeletStandin::start() {
  std::lock_guard lock(server_mutex_);
  if (server_ != nullptr) {
    return std::monostate{};
  }
  service_ = std::make_unique<RegistrationService>(*this);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path(), grpc::InsecureServerCredentials());
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr) {
    service_.reset();
    return common::Error{"kubelet stand-in cannot listen on " + socket_path()};
  }
  return std::monostate{};
}

void KubeletStandin::stop() {
  {
    std::lock_guard lock(server_mutex_);
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now());
      server_->Wait();
      server_.reset();
      service_.reset();
    }
  }
  std::map<std::string, std::shared_ptr<Endpoint>> endpoints;
  {
    std::lock_guard lock(mutex_);
    endpoints.swap(endpoints_);
  }
  for (auto& [resource, endpoint] : endpoints) {
    close_endpoint(endpoint);
  }
  ::unlink(socket_path().c_str());
}

common::Result<std::monostate> KubeletStandin::restart() {
  stop();
  remove_sockets(dir_);
  return start();
}

grpc::Status KubeletStandin::handle_register(const v1beta1::RegisterRequest& request) {
  if (request.version() != "v1beta1") {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "requested API version \"" + request.version() + "\" is not supported by kubelet"};
  }
  if (!valid_extended_resource(request.resource_name())) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "the ResourceName \"" + request.resource_name() + "\" is invalid"};
  }
  auto endpoint = std::make_shared<Endpoint>();
  endpoint->resource = request.resource_name();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  endpoint->channel = grpc::CreateCustomChannel("unix://" + dir_ + "/" + request.endpoint(),
                                                grpc::InsecureChannelCredentials(), args);
  if (!endpoint->channel->WaitForConnected(deadline_in(kDialTimeout))) {
    return {grpc::StatusCode::UNAVAILABLE,
            "failed to dial device plugin at " + dir_ + "/" + request.endpoint()};
  }
  endpoint->stub = v1beta1::DevicePlugin::NewStub(endpoint->channel);
  v1beta1::DevicePluginOptions options;
  {
    grpc::ClientContext context;
    context.set_deadline(deadline_in(kCallTimeout));
    const grpc::Status status =
        endpoint->stub->GetDevicePluginOptions(&context, v1beta1::Empty(), &options);
    if (!status.ok()) {
      return {grpc::StatusCode::UNAVAILABLE,
              "failed to get device plugin options: " + status_text(status)};
    }
  }

  RegistrationRecord record;
  record.version = request.version();
  record.endpoint = request.endpoint();
  record.resource_name = request.resource_name();
  record.request_pre_start_required = request.options().pre_start_required();
  record.request_get_preferred_allocation_available =
      request.options().get_preferred_allocation_available();
  record.options_pre_start_required = options.pre_start_required();
  record.options_get_preferred_allocation_available = options.get_preferred_allocation_available();
  record.at = std::chrono::steady_clock::now();

  // Kubelet consumes ListAndWatch until it ends; it never re-dials by itself.
  endpoint->open = true;
  Endpoint* raw = endpoint.get();
  endpoint->reader = std::thread([this, raw] {
    auto reader = raw->stub->ListAndWatch(&raw->stream_context, v1beta1::Empty());
    v1beta1::ListAndWatchResponse response;
    while (reader->Read(&response)) {
      std::vector<DeviceView> list;
      list.reserve(static_cast<std::size_t>(response.devices_size()));
      for (const auto& device : response.devices()) {
        list.push_back(DeviceView{device.id(), device.health(), device.has_topology()});
      }
      std::lock_guard lock(mutex_);
      devices_[raw->resource] = std::move(list);
      ++list_messages_[raw->resource];
      changed_.notify_all();
    }
    reader->Finish();
    std::lock_guard lock(mutex_);
    raw->open = false;
    changed_.notify_all();
  });

  std::shared_ptr<Endpoint> replaced;
  {
    std::lock_guard lock(mutex_);
    auto& slot = endpoints_[request.resource_name()];
    replaced = std::move(slot);  // last registration wins
    slot = endpoint;
    registrations_.push_back(record);
    changed_.notify_all();
  }
  close_endpoint(replaced);
  return grpc::Status::OK;
}

void KubeletStandin::close_endpoint(const std::shared_ptr<Endpoint>& endpoint) {
  if (endpoint == nullptr) {
    return;
  }
  endpoint->stream_context.TryCancel();
  if (endpoint->reader.joinable()) {
    endpoint->reader.join();
  }
}

std::shared_ptr<KubeletStandin::Endpoint> KubeletStandin::endpoint_of(
    const std::string& resource) const {
  std::lock_guard lock(mutex_);
  const auto it = endpoints_.find(resource);
  return it == endpoints_.end() ? nullptr : it->second;
}

std::vector<RegistrationRecord> KubeletStandin::registrations() const {
  std::lock_guard lock(mutex_);
  return registrations_;
}

std::size_t KubeletStandin::registration_count(const std::string& resource) const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& record : registrations_) {
    n += record.resource_name == resource ? 1 : 0;
  }
  return n;
}

bool KubeletStandin::wait_for_registrations(const std::string& resource, std::size_t count,
                                            std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    std::size_t n = 0;
    for (const auto& record : registrations_) {
      n += record.resource_name == resource ? 1 : 0;
    }
    return n >= count;
  });
}

std::optional<std::vector<DeviceView>> KubeletStandin::devices(const std::string& resource) const {
  std::lock_guard lock(mutex_);
  const auto it = devices_.find(resource);
  if (it == devices_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::size_t KubeletStandin::list_messages(const std::string& resource) const {
  std::lock_guard lock(mutex_);
  const auto it = list_messages_.find(resource);
  return it == list_messages_.end() ? 0 : it->second;
}

bool KubeletStandin::wait_for_devices(
    const std::string& resource,
    const std::function<bool(const std::vector<DeviceView>&)>& predicate,
    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    const auto it = devices_.find(resource);
    return it != devices_.end() && predicate(it->second);
  });
}

bool KubeletStandin::stream_open(const std::string& resource) const {
  const auto endpoint = endpoint_of(resource);
  return endpoint != nullptr && endpoint->open.load();
}

common::Result<v1beta1::AllocateResponse> KubeletStandin::allocate(
    const std::string& resource, const std::vector<std::vector<std::string>>& containers) {
  const auto endpoint = endpoint_of(resource);
  if (endpoint == nullptr) {
    return common::Error{"no registered plugin for " + resource};
  }
  v1beta1::AllocateRequest request;
  for (const auto& ids : containers) {
    auto* container = request.add_container_requests();
    for (const auto& id : ids) {
      container->add_devices_ids(id);
    }
  }
  grpc::ClientContext context;
  context.set_deadline(deadline_in(kCallTimeout));
  v1beta1::AllocateResponse response;
  const grpc::Status status = endpoint->stub->Allocate(&context, request, &response);
  if (!status.ok()) {
    return common::Error{status_text(status)};
  }
  return response;
}

common::Result<v1beta1::PreferredAllocationResponse> KubeletStandin::get_preferred_allocation(
    const std::string& resource, const std::vector<std::string>& available,
    const std::vector<std::string>& must_include, std::int32_t size) {
  const auto endpoint = endpoint_of(resource);
  if (endpoint == nullptr) {
    return common::Error{"no registered plugin for " + resource};
  }
  v1beta1::PreferredAllocationRequest request;
  auto* container = request.add_container_requests();
  for (const auto& id : available) {
    container->add_available_deviceids(id);
  }
  for (const auto& id : must_include) {
    container->add_must_include_deviceids(id);
  }
  container->set_allocation_size(size);
  grpc::ClientContext context;
  context.set_deadline(deadline_in(kCallTimeout));
  v1beta1::PreferredAllocationResponse response;
  const grpc::Status status = endpoint->stub->GetPreferredAllocation(&context, request, &response);
  if (!status.ok()) {
    return common::Error{status_text(status)};
  }
  return response;
}

common::Result<v1beta1::PreStartContainerResponse> KubeletStandin::pre_start_container(
    const std::string& resource, const std::vector<std::string>& ids) {
  const auto endpoint = endpoint_of(resource);
  if (endpoint == nullptr) {
    return common::Error{"no registered plugin for " + resource};
  }
  v1beta1::PreStartContainerRequest request;
  for (const auto& id : ids) {
    request.add_devices_ids(id);
  }
  grpc::ClientContext context;
  context.set_deadline(deadline_in(kCallTimeout));
  v1beta1::PreStartContainerResponse response;
  const grpc::Status status = endpoint->stub->PreStartContainer(&context, request, &response);
  if (!status.ok()) {
    return common::Error{status_text(status)};
  }
  return response;
}

}  // namespace epc::tools::standins
