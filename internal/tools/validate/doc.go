// Package validate is the engine of cmd/validate: it replays the scaling
// policy with backtest.Run over a fixed matrix of traces and volumes and
// judges every row against the project's goals, so that a user can rerun one
// command and see whether the shipped policy keeps its promise.
//
// The promise is the SLA (p95 latency within 3 s on every business-hours
// day, availability of at least 99.9%) at close to the lowest possible GPU
// bill, on traffic the policy was never tuned on, from 0.5M to 60M requests
// a day. Hence the matrix: the shared NASA trace at four volumes, each also
// scored on its first 14 days (train) and the rest (held out) separately;
// the same trace smoothed and re-sampled with Poisson counts, as real traffic
// at that volume would be; and the standard set of seeded synthetic traces
// of internal/tools/tracegen at the four volumes.
//
// The runs are independent and run concurrently; the table is printed in
// matrix order and does not depend on which run finishes first.
package validate
