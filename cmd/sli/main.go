// Command sli reports the SLA as it was actually delivered: per local day,
// the availability and the p95 latency of the API's business-hours
// requests against their SLOs, read from the requests table in PostgreSQL,
// with the error budget left over the period and the latest burn rates.
//
//	go run ./cmd/sli -postgres "$DATABASE_URL" -from 2026-11-01 -to 2026-11-28 \
//	    -tz Asia/Kolkata -business-hours 08:00-22:00 -latency-slo 3s -availability-slo 99 -out out/sli
//
// With -listen it runs as an exporter instead: the same definitions over the
// last minutes and today's business window, read every minute and served as
// Prometheus metrics for the SLO burn-rate alerts of
// deploy/prometheus-alerts.yml.
//
// The definitions and flags are in cmd/sli/README.md; all the logic lives
// in internal/tools/sli.
package main

import (
	// The zone rules ship with the binary, for hosts without a tz
	// database (distroless images); a host's own database still comes
	// first.
	_ "time/tzdata"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/sli"
)

func main() { cli.Run("sli", sli.Main) }
