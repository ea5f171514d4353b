# ACL policy for the workload identity of the nomad-autoscaler job
# (deploy/nomad-autoscaler.nomad.hcl):
#
#   nomad acl policy apply -namespace default -job nomad-autoscaler \
#     nomad-autoscaler deploy/nomad-autoscaler.acl.hcl
#
# - node write: target-gce-gpu lists nodes, drains them, toggles eligibility,
#   writes node meta (its scale-in markers) and purges deleted nodes.
# - read-job and list-scaling-policies: the agent's Nomad policy source.
# - variables: the HA lock (nomad-autoscaler/lock) and the runtime overrides
#   strategy-slope reads (override_variable).

namespace "default" {
  capabilities = ["read-job", "list-jobs", "list-scaling-policies", "read-scaling-policy"]

  variables {
    path "nomad-autoscaler/lock" {
      capabilities = ["read", "write", "list", "destroy"]
    }

    path "nomad-autoscaler/overrides/*" {
      capabilities = ["read", "list"]
    }

    # target-gce-gpu keeps each policy's last scaling time here so the agent
    # restores its cooldown after a restart or an HA failover.
    path "nomad-autoscaler/target-gce-gpu/*" {
      capabilities = ["read", "write"]
    }
  }
}

node {
  policy = "write"
}
