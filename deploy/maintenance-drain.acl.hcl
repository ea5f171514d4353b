# ACL policy for the workload identity of the maintenance-drain job
# (deploy/maintenance-drain.nomad.hcl):
#
#   nomad acl policy apply -namespace default -job maintenance-drain \
#     maintenance-drain deploy/maintenance-drain.acl.hcl
#
# node write: the daemon reads its node and its dynamic metadata, writes the
# leaving notice (POST /v1/client/metadata) and drains the node. Nothing
# else: no jobs, no allocations, no variables.

node {
  policy = "write"
}
