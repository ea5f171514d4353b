// Package sli is the engine of cmd/sli: the SLA as it was actually
// delivered, per local day, from the requests table that the API writes
// (one row per request: created_at, status, latency_ms; see
// scripts/schema.sql).
//
// The definitions are those of cmd/sli/README.md: availability and
// latency SLIs of the requests made in business hours, nearest-rank p95,
// an error budget over the whole period and burn rates over its last hour
// and six hours. PostgreSQL does the aggregation in one READ ONLY
// statement (a histogram per bucket of time, outcome and latency), so a
// month at 60M requests a day never leaves the server as rows; this
// package turns the buckets into days (Score is the definitions, a pure
// function) and writes the table, sli.json, sli.csv and sli.png.
package sli
