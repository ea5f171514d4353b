# ACL policy for the workload identity of the nomad-autoscaler job
# (deploy/nomad-autoscaler.nomad.hcl):
#
#   nomad acl policy apply -namespace default -job nomad-autoscaler \
#     nomad-autoscaler deploy/nomad-autoscaler.acl.hcl
#
# - node write: target-gce-gpu lists nodes, drains them, toggles eligibility,
#   writes node meta (its scale-in markers) and purges deleted nodes.
# - read-job and list-scaling-policies: the agent's Nomad policy source.
# - read-job in every namespace: before a scale-in, target-gce-gpu counts the
#   running allocations and GPUs on each node, and Nomad lists a node's
#   allocations only in the namespaces where the token has read-job,
#   leaving the others out without an error: a node busy with a worker in a
#   namespace this policy forgot would look idle and be drained first.
# - variables: the HA lock (nomad-autoscaler/lock), the runtime overrides
#   strategy-slope reads (override_variable), and target-gce-gpu's
#   last_event Variables and per-policy writer locks.

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
    # restores its cooldown after a restart or an HA failover, and locks
    # <policy digest>/writer so that two agents never change a policy's
    # MIGs at once.
    path "nomad-autoscaler/target-gce-gpu/*" {
      capabilities = ["read", "write"]
    }
  }
}

# Only read-job: the policy of a namespace named above (default) is not
# widened, since Nomad applies the exact namespace rule instead of this one.
# read-job also lets the token read job specifications; to narrow it, name
# the namespaces that run on the GPU nodes instead of "*" (a namespace left
# out hides its workers from the scale-in's node selection).
namespace "*" {
  capabilities = ["read-job"]
}

node {
  policy = "write"
}
