// Package rollout is the engine of cmd/rollout: it rolls a new instance
// template (a golden image) over a fleet's GPU MIGs while the autoscaler
// keeps scaling them.
//
//  1. Preflight: the template exists; each MIG's current template is
//     recorded (what a rollback returns to); the queues' consumer counts
//     are the baseline.
//  2. Canary: the first MIG gets the new template as a second version of
//     targetSize 1 (PROACTIVE, maxSurge 1, maxUnavailable 0): GCE creates
//     one new VM before it deletes an old one. The canary passes when its
//     Nomad node is ready and eligible, names the template in its meta
//     (instance_template), runs a worker allocation that is running and
//     not unhealthy, and no queue has fewer consumers than before.
//  3. Update: each MIG in turn gets the new template as its only version,
//     and every new VM is checked the same way.
//
// A failed worker allocation, a VM not serving within -health-timeout, or
// no VM serving for -step-timeout rolls every MIG back to its previous
// template the same way (one VM at a time, none fewer serving) and exits
// non-zero with the reason. A cancelled context (Ctrl-C) switches the MIGs
// still updating to OPPORTUNISTIC, so that no VM is replaced unchecked, and
// prints the command that resumes (the same one) and the one that rolls
// back (the same with the previous template).
//
// What to do next is decided by nextAction from what the MIGs look like,
// never from memory, so a run resumes wherever the last one stopped.
package rollout
