# The host-maintenance daemon (cmd/maintenance-drain) on every GPU node of
# the policy's class (policies/gpu-workers.hcl, target node_class). When the
# GCE metadata server announces that the VM's host goes away (a maintenance,
# about an hour ahead for GPU VMs, or a Spot preemption, 30 s ahead), it
# marks its own Nomad node as leaving, so that target-gce-gpu stops counting
# it and orders a replacement, and then drains it so that the drain ends
# before the host goes away.
#
#   nomad acl policy apply -namespace default -job maintenance-drain \
#     maintenance-drain deploy/maintenance-drain.acl.hcl   # node write
#   nomad job run -var binary_url=https://.../maintenance-drain_<version>_linux_amd64 \
#     -var binary_sha256=<its line of SHA256SUMS> deploy/maintenance-drain.nomad.hcl
#
# `make dist` builds the binary for linux/amd64 and linux/arm64 beside the
# plugin archives and lists it in SHA256SUMS.
#
# deploy/README.md ("Host maintenance") explains what it does and how to
# watch it; deploy/maintenance_drain_test.go checks this file against the
# shipped policy and the worker job.

variable "binary_url" {
  type        = string
  description = "URL of maintenance-drain_<version>_linux_<arch> from make dist (or any linux build of ./cmd/maintenance-drain)."
}

variable "binary_sha256" {
  type        = string
  description = "SHA-256 of the file at binary_url."
}

job "maintenance-drain" {
  # One daemon on every GPU node, placed as soon as a node registers. Its
  # own allocation is stopped last by the drain it starts: system jobs are
  # drained after everything else, and by then its work is done.
  type = "system"
  # Placed before the workers on a new node, and never preempted by them.
  priority = 90

  group "drain" {
    # The node_class of the policy's target: the nodes target-gce-gpu scales.
    constraint {
      attribute = "${node.class}"
      value     = "gpu-l4"
    }

    # A daemon that fails (Nomad unreachable at start, a bad node ID) is
    # restarted every 15 s for as long as it takes: a node without it would
    # vanish unannounced at its next maintenance.
    restart {
      attempts = 4
      interval = "1m"
      delay    = "15s"
      mode     = "delay"
    }

    task "maintenance-drain" {
      driver = "exec"

      artifact {
        source      = var.binary_url
        destination = "local/maintenance-drain"
        mode        = "file"
        options {
          checksum = "sha256:${var.binary_sha256}"
        }
      }

      config {
        command = "local/maintenance-drain"
        # The drain timing, in the order it happens after a maintenance
        # notice at T (the GCE GPU documentation: a 1-hour notice):
        #   T        the node is marked as leaving: target-gce-gpu orders a
        #            replacement, which serves about 5m later (the policy's
        #            lead) plus an evaluation and a Scale;
        #   T+10m    the drain starts: the workers stop gracefully (their
        #            kill_timeout is 30s) and the replacement serves;
        #   T+55m    the drain's deadline: Nomad stops what is left;
        #   T+60m    the host goes away.
        # A Spot preemption drains at once with a 20s deadline, 10 s before
        # the VM stops.
        args = [
          "-node-id", "${node.unique.id}",
          "-notice", "1h",
          "-drain-delay", "10m",
          "-margin", "5m",
          "-preempt-deadline", "20s",
        ]
      }

      # The Nomad API through the task API socket with the workload
      # identity's token in NOMAD_TOKEN: no long-lived token anywhere. The
      # identity gets node write from deploy/maintenance-drain.acl.hcl.
      identity {
        env = true
      }

      env {
        NOMAD_ADDR = "unix://${NOMAD_SECRETS_DIR}/api.sock"
      }

      # The daemon keeps nothing in memory that the node does not hold: a
      # stop at any moment loses nothing.
      kill_timeout = "5s"

      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
