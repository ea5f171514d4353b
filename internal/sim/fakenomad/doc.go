// Package fakenomad is an in-process fake of the Nomad HTTP API, as used by
// github.com/hashicorp/nomad/api and by nomad-autoscaler v0.5.0
// sdk/helper/scaleutils (node listing and pool filtering, node info, node
// allocations, drain with the drain monitor's blocking queries, eligibility,
// purge), plus dynamic node metadata and Variables.
//
// A *Server is an http.Handler: serve it with httptest.NewServer (or any
// http.Server) and point a real api.Client at it (api.Config{Address: url}).
// It is safe for concurrent use.
//
// # Go API
//
//	New(Options{Now, MaxBlockingWait, PollInterval, DrainDuration}) *Server
//	(s) ServeHTTP(w, r)                         // the Nomad API under /v1
//	(s) Close()                                 // releases blocked queries; call before closing the http server
//	(s) AddNode(NodeSpec) (id string)           // registers a node (status "ready", eligible by default)
//	(s) RemoveNode(id string) bool              // deregisters a node and its allocations
//	(s) SetNodeStatus(id, status string) error  // "ready", "down" (its allocations become lost), "initializing", ...
//	(s) NodeIDByName(name string) (string, bool)
//	(s) AddAllocation(nodeID string, AllocSpec) (id string) // "" when the node does not exist; AllocSpec.Namespace defaults to "default"
//	(s) SetDrainDuration(d time.Duration)       // default drain duration of every node
//	(s) SetNodeDrainDuration(nodeName string, d time.Duration)
//	(s) FailDrain(nodeName, message string)     // drains of that node fail; "" clears
//	(s) SetVariable(namespace, path string, items map[string]string)
//	(s) DeleteVariable(namespace, path string)
//	(s) Variable(namespace, path string) (map[string]string, bool)
//	(s) InjectHTTPErrors(status, n int)         // the next n API requests answer status
//	(s) Node(id string) NodeSnapshot            // zero value (ID "") when the node does not exist
//	(s) Nodes() []NodeSnapshot                  // sorted by name
//	(s) Requests() []Request                    // {Time, Received, Method, Path, Query, Body, Status}, in order answered
//	(s) Events() []Event                        // {Time, Received, Kind, NodeID, NodeName, Message}: node added/removed, drain started/completed/canceled/failed
//	(s) OnDrainComplete(func(nodeID string))    // called without the lock held
//	(s) Advance()                               // applies time-driven changes now (drain completion)
//	(s) AddACLToken(secretID string, policies ...string) error // turns ACLs on; policies in Nomad's HCL syntax; "" is the anonymous token
//	(s) AddManagementToken(secretID string)     // turns ACLs on
//
// Against the plan in notes/fakes-api.md: RemoveNode also reports whether the
// node existed (a plain call compiles unchanged); everything else is as
// planned, plus the extra methods above.
//
// # Time
//
// All time comes from Options.Now (default time.Now), so tests can use a fake
// clock and the simulator can compress time. Drains complete lazily: state is
// brought up to date on every request, on Advance, and every PollInterval
// while a blocking query waits, so a client blocked on a draining node wakes
// up once Now passes the drain's end.
//
// # Behaviour worth knowing (as in real Nomad)
//
//   - Every response carries X-Nomad-Index, X-Nomad-KnownLeader and
//     X-Nomad-LastContact. Queries with ?index=N block until the relevant
//     table (nodes, allocs or vars) changes past N, or until ?wait= (bounded
//     by Options.MaxBlockingWait) passes.
//   - GET /v1/nodes returns stubs; NodeResources only with ?resources=true,
//     Attributes only with ?os=true (and then only os.name). Node attributes
//     such as unique.platform.gce.hostname need GET /v1/node/<id>. ?prefix=
//     filters by ID prefix; ?filter= (bexpr) is not supported and answers 400.
//   - PUT /v1/node/<id>/drain with a DrainSpec marks the node ineligible and
//     starts a drain that completes after the node's drain duration or at its
//     deadline, whichever is first (a negative deadline forces it at once). On
//     completion the drained allocations (all, or all but system jobs when
//     IgnoreSystemJobs) become DesiredStatus "stop" / ClientStatus "complete",
//     DrainStrategy becomes nil, LastDrain.Status "complete", and the node
//     stays ineligible. The request's Meta is kept in LastDrain.Meta (not in
//     Node.Meta). A nil DrainSpec cancels the drain (LastDrain.Status
//     "canceled") and MarkEligible makes the node eligible again.
//   - PUT /v1/node/<id>/eligibility with "eligible" on a node that is still
//     draining fails with HTTP 500, as Nomad does: cancel the drain instead.
//   - FailDrain(name, msg): a drain of that node starts normally (node
//     ineligible) but never completes, and every blocking query (?index>0) on
//     GET /v1/node/<id> or /v1/node/<id>/allocations answers HTTP 500 with
//     msg, so api.Nodes.MonitorDrain (and scaleutils.DrainNodes) report an
//     error. The stuck drain stays until canceled or the node is removed.
//   - POST /v1/client/metadata {NodeID, Meta map[string]*string} merges
//     dynamic metadata (a null value deletes a key) and it is visible at once
//     in Node.Meta (real Nomad batches this for up to 10 s);
//     GET /v1/client/metadata?node_id= reads it.
//   - Variables: GET/PUT/DELETE /v1/var/<path> (?namespace=, ?cas=), GET
//     /v1/vars (?prefix=). A missing variable answers 404.
//   - Variable locks (PUT /v1/var/<path>?lock-acquire, ?lock-renew,
//     ?lock-release): one holder (lock ID) at a time, TTL expiry, lock delay
//     after an expiry, 409 on conflicts; see locks.go. LockHolder(ns, path)
//     reads the holder; lock events are in Events.
//   - Namespaces: allocations belong to one (AllocSpec.Namespace).
//     GET /v1/node/<id>/allocations ignores ?namespace= and answers the
//     allocations of every namespace where the token has read-job, leaving
//     the others out without an error; GET /v1/allocations lists
//     ?namespace= (default "default"; "*" is every namespace the token may
//     read); variables live in ?namespace= (default "default").
//   - ACLs are off until AddACLToken or AddManagementToken is called. Then
//     the token comes from X-Nomad-Token (or Authorization: Bearer); an
//     unknown one answers 403 "ACL token not found", and a request the
//     token's policies do not allow answers 403 "Permission denied": node
//     reads (nodes, node info and allocations, GET client/metadata) need
//     node read, node writes (drain, eligibility, purge, POST
//     client/metadata) node write, allocations read-job in their
//     namespace, variables the read/write/destroy/list capability of their
//     path, agent/self agent read. Rules combine as in Nomad: the union of
//     a token's policies, deny wins, an exact namespace or path rule beats
//     globs and the closest glob beats the others; a variables "read"
//     implies "list". Policies are parsed strictly (unknown blocks,
//     attributes, policies or capabilities are errors). Not modelled:
//     node_pool and host_volume rules (accepted, not enforced), workload
//     identities' implicit access to nomad/jobs/... variables, JSON policies.
//   - Unknown node or allocation IDs answer 404; PUT /v1/node/<id>/purge
//     removes the node and its allocations.
//   - GET /v1/status/leader, /v1/agent/self and /v1/allocation/<id> exist for
//     clients that probe them.
package fakenomad
