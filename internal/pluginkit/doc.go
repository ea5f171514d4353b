// Package pluginkit is what the three plugins (apm-rabbitmq, strategy-slope,
// target-gce-gpu) share, so that they behave alike at the agent's boundary
// and a fourth plugin gets the same by writing a table:
//
//   - config as a Table of keys (name, kind, default, bounds, one-line doc),
//     parsed by a Parser that reports every problem at once, names the key
//     and its value (never a Secret key's, nor an unknown key's); one rule
//     for unknown keys and one list of
//     the nomad_* keys the agent merges into every plugin's config;
//   - AtBoundary, the one error type handed to the agent: credentials and
//     the agent's restart phrases stripped, the cause kept for errors.Is;
//   - Recover, one panic recovery with the same log keys everywhere;
//   - Cache, parsed configs remembered by content;
//   - ReadVariable, one Nomad Variables reader that does not take a 403
//     for a missing variable;
//   - Metrics, a Prometheus registry served on the opt-in metrics_address;
//   - Backoff, Retryable and Permanent, one retry policy for the GCE, Nomad
//     and plain HTTP APIs, and NewRequestID for GCE's idempotent requests;
//   - Main and Run, the plugin binaries' entry point;
//   - CheckReadme, which holds a README's key table to the Table.
package pluginkit
