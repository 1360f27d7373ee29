#include "extender/http/codec/pod_decoder.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "common/quantity.h"
#include "common/result.h"
#include "common/sgx_resources.h"
#include "extender/http/codec/scanner.h"

namespace epc::http::codec {

namespace {

// Which resource of ours a ResourceList key names, if any: an SGX one, or the CPU and memory that
// scoring weighs against EPC.
enum class Resource : std::uint8_t { kNone, kEpc, kEnclave, kProvision, kEpcAlias, kCpu, kMemory };

struct ResourceName {
  Resource resource = Resource::kNone;
  std::int64_t bytes_per_unit = 1;  // kEpcAlias only
};

ResourceName resource_of(std::string_view key, std::span<const common::ResourceAlias> aliases) {
  if (key == common::kEpcResource) {
    return {Resource::kEpc};
  }
  if (key == common::kEnclaveResource) {
    return {Resource::kEnclave};
  }
  if (key == common::kProvisionResource) {
    return {Resource::kProvision};
  }
  if (key == "cpu") {
    return {Resource::kCpu};
  }
  if (key == "memory") {
    return {Resource::kMemory};
  }
  for (const common::ResourceAlias& alias : aliases) {
    if (key == alias.name) {
      return {Resource::kEpcAlias, alias.bytes_per_unit};
    }
  }
  return {};
}

// quantity × unit, saturating: an alias amount written with a suffix ("10Mi" MiB) is absurd but
// must clamp, never wrap (fit then reports a demand no node has).
std::int64_t scaled(std::int64_t amount, std::int64_t unit) {
  if (unit <= 1 || amount == 0) {
    return amount;
  }
  if (amount > std::numeric_limits<std::int64_t>::max() / unit) {
    return std::numeric_limits<std::int64_t>::max();
  }
  return amount * unit;
}

// Where one ResourceList's amounts go: the SGX ones and/or CPU and memory (null: not read there).
struct ResourceTargets {
  core::SgxAmounts* sgx = nullptr;
  CpuMemoryAmounts* cpu_memory = nullptr;
};

// The first bad quantity met inside a container, held back until the container's name is known
// (Go writes "name" first, but nothing obliges a client to).
struct QuantityProblem {
  bool present = false;
  std::string_view resource;
  std::string_view list;  // "request", "limit", "overhead"
  std::string_view text;
  std::string detail;  // "is negative" or the quantity parser's message
};

// One decode_pod call: the reader and the output, so the steps need not pass them along.
class PodWalk {
 public:
  PodWalk(JsonReader& reader, PodFields& out, const PodDecodeOptions& options)
      : reader_(reader), out_(out), options_(options) {}

  bool pod(ondemand::value& value) {
    ondemand::object pod_object;
    bool present = false;
    if (!reader_.open_object(value, "ExtenderArgs.Pod", pod_object, present)) {
      return false;
    }
    out_.clear();
    out_.present = present;
    if (!present) {
      return true;
    }
    return reader_.for_each_field(pod_object, [this](std::string_view key, ondemand::value& field) {
      if (key_is(key, "metadata")) {
        return metadata(field);
      }
      if (key_is(key, "spec")) {
        return spec(field);
      }
      if (options_.placement && key_is(key, "status")) {
        return status(field);
      }
      return true;
    });
  }

 private:
  bool metadata(ondemand::value& value) {
    return reader_.for_each_field(
        value, "Pod.metadata", [this](std::string_view key, ondemand::value& field) {
          if (key_is(key, "name")) {
            return reader_.read_string(field, "Pod.metadata.name", out_.identity.name);
          }
          if (key_is(key, "namespace")) {
            return reader_.read_string(field, "Pod.metadata.namespace",
                                       out_.identity.namespace_name);
          }
          if (key_is(key, "uid")) {
            return reader_.read_string(field, "Pod.metadata.uid", out_.identity.uid);
          }
          if (options_.placement) {
            if (key_is(key, "resourceversion")) {
              return reader_.read_string(field, "Pod.metadata.resourceVersion",
                                         out_.resource_version);
            }
            if (key_is(key, "deletiontimestamp")) {
              ondemand::json_type type = ondemand::json_type::null;
              if (!reader_.type_of(field, type)) {
                return false;
              }
              out_.deleting = type != ondemand::json_type::null;
              return true;
            }
          }
          return true;
        });
  }

  bool status(ondemand::value& value) {
    return reader_.for_each_field(
        value, "Pod.status", [this](std::string_view key, ondemand::value& field) {
          if (key_is(key, "phase")) {
            return reader_.read_string(field, "Pod.status.phase", out_.phase);
          }
          return true;
        });
  }

  bool priority(ondemand::value& value) {
    ondemand::json_type type = ondemand::json_type::null;
    if (!reader_.type_of(value, type)) {
      return false;
    }
    if (type == ondemand::json_type::null) {
      out_.priority = 0;
      return true;
    }
    std::int64_t priority = 0;
    if (value.get_int64().get(priority) != simdjson::SUCCESS ||
        priority < std::numeric_limits<std::int32_t>::min() ||
        priority > std::numeric_limits<std::int32_t>::max()) {
      return reader_.fail("Pod.spec.priority must be a 32-bit integer");
    }
    out_.priority = static_cast<std::int32_t>(priority);
    return true;
  }

  bool spec(ondemand::value& value) {
    return reader_.for_each_field(
        value, "Pod.spec", [this](std::string_view key, ondemand::value& field) {
          if (key_is(key, "containers")) {
            return container_list(field, /*init=*/false, out_.containers);
          }
          if (key_is(key, "initcontainers")) {
            return container_list(field, /*init=*/true, out_.init_containers);
          }
          if (options_.placement) {
            if (key_is(key, "nodename")) {
              return reader_.read_string(field, "Pod.spec.nodeName", out_.node_name);
            }
            if (key_is(key, "priority")) {
              return priority(field);
            }
          }
          if (key_is(key, "overhead")) {
            QuantityProblem problem;
            if (!resource_list(field, "Pod.spec.overhead", "overhead",
                               {&out_.overhead, &out_.cpu_memory.overhead()}, problem)) {
              return false;
            }
            if (problem.present) {
              return fail_quantity("pod overhead", problem);
            }
          }
          if (key_is(key, "resources")) {
            return pod_level_resources(field);
          }
          return true;
        });
  }

  // spec.resources (pod-level resources, KEP-2837): only its requests count, and of them only cpu
  // and memory (the only resources kube-scheduler takes at pod level).
  bool pod_level_resources(ondemand::value& value) {
    QuantityProblem problem;
    const bool read = reader_.for_each_field(
        value, "Pod.spec.resources", [&](std::string_view key, ondemand::value& field) {
          if (key_is(key, "requests")) {
            return resource_list(field, "Pod.spec.resources.requests", "request",
                                 {nullptr, &out_.cpu_memory.pod_requests()}, problem);
          }
          return true;
        });
    if (!read) {
      return false;
    }
    return !problem.present || fail_quantity("pod-level resources", problem);
  }

  bool container_list(ondemand::value& value, bool init,
                      std::vector<core::ContainerResources>& list_out) {
    const std::string_view what = init ? "Pod.spec.initContainers" : "Pod.spec.containers";
    ondemand::array list;
    bool present = false;
    if (!reader_.open_array(value, what, list, present)) {
      return false;
    }
    if (!present) {
      return true;  // keeps a list an earlier repeated key gave
    }
    list_out.clear();
    if (init) {
      out_.cpu_memory.begin_init_containers();
    } else {
      out_.cpu_memory.begin_containers();
    }
    std::size_t index = 0;
    return reader_.for_each_element(list, [&](ondemand::value& element) {
      return container(element, init, index++, list_out.emplace_back());
    });
  }

  bool container(ondemand::value& value, bool init, std::size_t index,
                 core::ContainerResources& container_out) {
    const std::string_view what = init ? "Pod.spec.initContainers[]" : "Pod.spec.containers[]";
    ondemand::object object;
    bool present = false;
    if (!reader_.open_object(value, what, object, present)) {
      return false;
    }
    container_out = {};
    if (!present) {
      return true;
    }
    std::string_view name;
    QuantityProblem problem;
    CpuMemoryAmounts cpu_memory_requests;
    CpuMemoryAmounts cpu_memory_limits;
    const bool read =
        reader_.for_each_field(object, [&](std::string_view key, ondemand::value& field) {
          if (key_is(key, "name")) {
            return reader_.read_string(field, "container name", name);
          }
          if (init && key_is(key, "restartpolicy")) {
            std::string_view policy;
            if (!reader_.read_string(field, "container restartPolicy", policy)) {
              return false;
            }
            // Only an init container with restartPolicy Always is a sidecar (KEP-753).
            container_out.restartable = policy == "Always";
            return true;
          }
          if (key_is(key, "resources")) {
            return reader_.for_each_field(
                field, "container resources",
                [&](std::string_view resource_key, ondemand::value& resource_field) {
                  if (key_is(resource_key, "requests")) {
                    return resource_list(resource_field, "container resources.requests", "request",
                                         {&container_out.requests, &cpu_memory_requests}, problem);
                  }
                  if (key_is(resource_key, "limits")) {
                    return resource_list(resource_field, "container resources.limits", "limit",
                                         {&container_out.limits, &cpu_memory_limits}, problem);
                  }
                  return true;
                });
          }
          return true;
        });
    if (!read) {
      return false;
    }
    if (problem.present) {
      std::string where = init ? "init container " : "container ";
      if (name.empty()) {
        where.append("#").append(std::to_string(index));
      } else {
        where.append("\"").append(name).append("\"");
      }
      return fail_quantity(where, problem);
    }
    if (init) {
      out_.cpu_memory.add_init_container(cpu_memory_requests, cpu_memory_limits,
                                         container_out.restartable);
    } else {
      out_.cpu_memory.add_container(cpu_memory_requests, cpu_memory_limits);
    }
    return true;
  }

  // A ResourceList (map of resource name → quantity). Only the resources `targets` takes are
  // read; the first bad quantity among them is recorded in `problem` (the caller names the
  // container).
  bool resource_list(ondemand::value& value, std::string_view what, std::string_view list,
                     ResourceTargets targets, QuantityProblem& problem) {
    return reader_.for_each_field(
        value, what, [&](std::string_view key, ondemand::value& quantity_value) {
          const ResourceName resource = resource_of(key, options_.epc_aliases);
          const bool cpu_memory =
              resource.resource == Resource::kCpu || resource.resource == Resource::kMemory;
          if (resource.resource == Resource::kNone ||
              (cpu_memory ? targets.cpu_memory == nullptr : targets.sgx == nullptr)) {
            return true;
          }
          return quantity(key, resource, quantity_value, list, targets, problem);
        });
  }

  // One entry of a ResourceList. A bad quantity is not a failure here (false means the JSON
  // itself is broken): it is held in `problem` until the container's name is known.
  bool quantity(std::string_view key, ResourceName resource, ondemand::value& value,
                std::string_view list, ResourceTargets targets, QuantityProblem& problem) {
    ondemand::json_type type = ondemand::json_type::null;
    if (!reader_.type_of(value, type)) {
      return false;
    }
    std::string_view text;
    if (type == ondemand::json_type::string) {
      if (auto code = value.get_string().get(text); code) {
        return reader_.fail_json(code);
      }
    } else if (type == ondemand::json_type::number) {
      // Go's Quantity.UnmarshalJSON also takes a bare number.
      text = trim_trailing_space(value.raw_json_token());
    } else if (type == ondemand::json_type::null) {
      text = "0";  // Go decodes a null Quantity as zero
    } else {
      if (!problem.present) {
        problem = {true, key, list, json_type_name(type), "is not a quantity"};
      }
      return true;
    }
    const common::Result<std::int64_t> amount =
        resource.resource == Resource::kCpu      ? parse_cpu_milli(text)
        : resource.resource == Resource::kMemory ? parse_memory_bytes(text)
                                                 : common::parse_quantity_units(text);
    if (!amount.ok()) {
      if (!problem.present) {
        problem = {true, key, list, text, "is not a valid quantity: " + amount.error().message};
      }
      return true;
    }
    if (*amount < 0) {
      if (!problem.present) {
        problem = {true, key, list, text, "is negative"};
      }
      return true;
    }
    // A repeated key: the last wins, as in Go.
    switch (resource.resource) {
      case Resource::kEpc:
        targets.sgx->epc_bytes = *amount;
        break;
      case Resource::kEpcAlias:
        targets.sgx->epc_bytes =
            std::max(scaled(*amount, resource.bytes_per_unit), targets.sgx->epc_bytes.value_or(0));
        break;
      case Resource::kEnclave:
        targets.sgx->enclave_slots = *amount;
        break;
      case Resource::kProvision:
        targets.sgx->provision_slots = *amount;
        break;
      case Resource::kCpu:
        targets.cpu_memory->cpu_milli = *amount;
        break;
      case Resource::kMemory:
        targets.cpu_memory->memory_bytes = *amount;
        break;
      case Resource::kNone:
        break;
    }
    return true;
  }

  // `where: <resource> <list> "<text>" <detail>`, e.g.
  //   container "app": sgx.intel.com/epc request "-16Mi" is negative
  bool fail_quantity(std::string_view where, const QuantityProblem& problem) {
    std::string message(where);
    message.append(": ")
        .append(problem.resource)
        .append(" ")
        .append(problem.list)
        .append(" \"")
        .append(problem.text)
        .append("\" ")
        .append(problem.detail);
    return reader_.fail(std::move(message));
  }

  JsonReader& reader_;
  PodFields& out_;
  const PodDecodeOptions& options_;
};

}  // namespace

bool decode_pod(ondemand::value& value, JsonReader& reader, PodFields& out,
                const PodDecodeOptions& options) {
  return PodWalk(reader, out, options).pod(value);
}

core::PodRequest pod_request(const PodFields& pod, const core::PodRequestOptions& options) {
  core::PodRequest request = core::compute_pod_request(
      core::PodSpecResources{pod.containers, pod.init_containers, pod.overhead}, options);
  const CpuMemory cpu_memory = pod.cpu_memory.total();
  request.cpu_milli = cpu_memory.cpu_milli;
  request.memory_bytes = cpu_memory.memory_bytes;
  return request;
}

}  // namespace epc::http::codec
