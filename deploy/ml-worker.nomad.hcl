# The eKYC ML workers: on every GPU node that the autoscaler adds
# (policies/gpu-workers.hcl through target-gce-gpu), one allocation with the
# two model containers that serve the queues ekyc.facematch and ekyc.ocr.
#
#   nomad var put nomad/jobs/ml-worker amqp_password=...
#   nomad job run -var image_tag=2026.11.3 deploy/ml-worker.nomad.hcl
#
# deploy/README.md ("Running the workers") explains each choice below, and
# deploy/ml_worker_test.go checks them against the shipped policy: the node
# class, the stop within the drain deadline, the GPU, the pinned cores, a
# health check per model container and the rollout.

variable "image_registry" {
  type        = string
  default     = "europe-west4-docker.pkg.dev/ekyc-prod/ml"
  description = "Registry of the model images."
}

variable "image_tag" {
  type        = string
  description = "Release of the model images (the same tag for both models)."
}

variable "rabbitmq_hosts" {
  type    = list(string)
  default = ["rabbitmq-1.internal", "rabbitmq-2.internal", "rabbitmq-3.internal"]
}

job "ml-worker" {
  # A system job: exactly one worker on every GPU node of the class, placed
  # as soon as a new VM registers its node and stopped when target-gce-gpu
  # drains a node, so the number of workers always follows the MIGs. A
  # service job would not: its count is not the number of VMs, and a count
  # as high as the policy's max leaves a deployment waiting for allocations
  # it cannot place until its progress_deadline fails it.
  #
  # No spread block: Nomad refuses one in a system job ("System jobs may not
  # have a spread block"), and with one worker per node the workers are
  # spread over the zones exactly as the VMs are: target-gce-gpu puts worker
  # i in zone i mod N and moves capacity away from a zone in stockout. So
  # nothing here may tie the job to a zone.
  type = "system"

  group "worker" {
    # Only the GPU worker VMs: the node_class of the policy's target.
    constraint {
      attribute = "${node.class}"
      value     = "gpu-l4"
    }

    # Canary node first, then one node at a time. In a system job (Nomad
    # 1.11 and later) canary is a percentage of the nodes, rounded up: one
    # node while the fleet has at most 100. Each node has one GPU, so each
    # step stops the old worker before the new one starts there: the fleet
    # serves one worker short during each step, which the backlog check
    # makes up for.
    update {
      canary       = 1
      max_parallel = 1
      health_check = "checks"
      # Healthy means both models on the GPU and consuming for this long.
      min_healthy_time = "30s"
      # Image pull and model load take a few minutes on a fresh VM (the
      # policy's lead of 5m covers boot, driver, image and model).
      healthy_deadline  = "5m"
      progress_deadline = "10m"
      # Nodes that register while a canary waits for promotion get no
      # worker until it is promoted: a scale-up during a rollout would add
      # idle VMs. Promote as soon as the canary is healthy.
      auto_promote = true
      auto_revert  = true
    }

    network {
      port "facematch_health" {
        to = 8080
      }
      port "ocr_health" {
        to = 8080
      }
    }

    # facematch holds the node's GPU (an L4) through the device block, so
    # Nomad counts it as used and places no other GPU job on the node.
    task "facematch" {
      driver = "docker"

      config {
        image = "${var.image_registry}/facematch:${var.image_tag}"
        ports = ["facematch_health"]
        # tini as PID 1 hands SIGTERM to the worker and reaps its children.
        init = true
      }

      env {
        QUEUE = "ekyc.facematch"
        # One unacknowledged job at a time, acknowledged only after it is
        # processed: RabbitMQ redelivers the job of a worker that dies.
        AMQP_PREFETCH = "1"
        # The worker's own deadline for a graceful stop, under kill_timeout.
        STOP_TIMEOUT = "25s"
      }

      # The RabbitMQ password from the Nomad Variable, escaped for the
      # userinfo of a URL as in nomad-autoscaler.nomad.hcl.
      template {
        destination = "secrets/amqp.env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/ml-worker" }}{{ $pw := .amqp_password | urlquery | replaceAll "+" "%20" }}AMQP_URLS=${join(",", formatlist("amqps://ml-worker:{{ $pw }}@%s:5671/", var.rabbitmq_hosts))}{{ end }}
        EOT
      }

      # Graceful stop, when Nomad stops the allocation (a drain before
      # target-gce-gpu deletes the VM, a rollout, a job stop): on SIGTERM
      # the worker cancels its consumer, finishes and acknowledges the job
      # in flight (a request takes about 1 s) and exits 0 within
      # STOP_TIMEOUT. kill_timeout is how long Nomad waits before SIGKILL;
      # it must fit inside the policy's node_drain_deadline (5m), at which
      # Nomad force-stops what is left, and a Nomad client caps it at its
      # max_kill_timeout (30s by default). A job cut off by SIGKILL is not
      # lost: it was never acknowledged, so RabbitMQ redelivers it.
      # No shutdown_delay: nothing routes requests to a worker, it pulls
      # them from its queue.
      kill_signal  = "SIGTERM"
      kill_timeout = "30s"

      resources {
        # Pinned cores (not cpu shares): the preprocessing before and after
        # the GPU must not be slowed by the other container. A g2-standard-8
        # has 8; 2 are left to the OS, Docker, the Nomad client and the
        # node exporter (reserve them with the client's reservable_cores).
        cores  = 3
        memory = 12288

        device "nvidia/gpu" {
          count = 1

          # The models need 20 GiB of GPU memory together; an L4 has 24.
          constraint {
            attribute = "${device.attr.memory}"
            operator  = ">="
            value     = "20 GiB"
          }
        }
      }

      # One check per model container: healthy once the model is loaded on
      # the GPU and the consumer is registered with RabbitMQ. The rollout
      # waits for it (health_check = "checks").
      service {
        provider = "nomad"
        name     = "ml-worker-facematch"
        port     = "facematch_health"

        check {
          name     = "facematch consuming"
          type     = "http"
          path     = "/healthz"
          interval = "10s"
          timeout  = "2s"

          # A worker that stops consuming is restarted; loading the model
          # takes minutes, hence the grace.
          check_restart {
            limit = 3
            grace = "5m"
          }
        }
      }
    }

    # ocr shares the GPU that facematch holds: Nomad hands a GPU instance to
    # one task only, so the second model container reaches it through the
    # NVIDIA runtime (the clients' docker plugin needs
    # allow_runtimes = ["runc", "nvidia"]). The node has one GPU and the
    # allocation holds it, so "all" is that GPU.
    task "ocr" {
      driver = "docker"

      config {
        image   = "${var.image_registry}/ocr:${var.image_tag}"
        ports   = ["ocr_health"]
        init    = true
        runtime = "nvidia"
      }

      env {
        QUEUE                  = "ekyc.ocr"
        AMQP_PREFETCH          = "1"
        STOP_TIMEOUT           = "25s"
        NVIDIA_VISIBLE_DEVICES = "all"
      }

      template {
        destination = "secrets/amqp.env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/ml-worker" }}{{ $pw := .amqp_password | urlquery | replaceAll "+" "%20" }}AMQP_URLS=${join(",", formatlist("amqps://ml-worker:{{ $pw }}@%s:5671/", var.rabbitmq_hosts))}{{ end }}
        EOT
      }

      kill_signal  = "SIGTERM"
      kill_timeout = "30s"

      resources {
        cores  = 3
        memory = 10240
      }

      service {
        provider = "nomad"
        name     = "ml-worker-ocr"
        port     = "ocr_health"

        check {
          name     = "ocr consuming"
          type     = "http"
          path     = "/healthz"
          interval = "10s"
          timeout  = "2s"

          check_restart {
            limit = 3
            grace = "5m"
          }
        }
      }
    }

    # The seed's alternative, for clients without the NVIDIA device plugin:
    # one raw_exec task that runs docker compose, whose file gives both
    # model containers the GPU (deploy.resources.reservations.devices). It
    # existed because Nomad gives a GPU instance to one task only, and the
    # two containers had to share the node's single L4. It costs what the
    # tasks above provide: Nomad does not know the GPU is taken, cannot pin
    # cores, sees one task for two containers (one health state), and its
    # SIGTERM reaches docker compose, which stops the containers after its
    # own stop_grace_period (10s unless set): set it under kill_timeout or
    # in-flight jobs are cut off. raw_exec must be enabled on the clients
    # and runs as root. To use it, replace both tasks with:
    #
    # task "models" {
    #   driver = "raw_exec"
    #   config {
    #     command = "/usr/bin/docker"
    #     args    = ["compose", "--file", "local/compose.yaml", "up", "--abort-on-container-exit"]
    #   }
    #   kill_signal  = "SIGTERM"
    #   kill_timeout = "30s"
    #   template {
    #     destination = "local/compose.yaml"
    #     data        = file("compose.yaml") # the two models, stop_grace_period: 25s each
    #   }
    # }
  }
}
