// Package override is cmd/override: it pins the worker count of a scaling
// policy run by strategy-slope until a deadline, ends such an override, and
// shows what every policy's strategy will do next, without hand-editing HCL.
//
// Two places hold an override, as plugins/strategy-slope/README.md
// describes:
//
//   - the Nomad Variable named by override_variable in the policy's strategy
//     blocks (items count, until, reason): written with the Nomad API, read
//     by the plugin within 30 s, no file edit and no signal;
//   - the policy file itself (override_count, override_until,
//     override_reason in every strategy block of the policy): the edited
//     policy is saved under a new file name, the old file removed and the
//     agent sent SIGHUP, because agent v0.5.0 ignores an edit in place.
//
// Every request is checked against the policy before anything is written:
// an until in the past or beyond override_max_duration, a count outside the
// policy's min and max, a policy whose strategy blocks cannot be overridden
// there. The edited file is also run through the strategy plugin itself,
// which must read exactly the override asked for. Status asks the same
// plugin what it will do, so it shows what the agent's strategy sees.
package override
