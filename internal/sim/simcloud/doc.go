// Package simcloud composes fakegce and fakenomad into one coherent simulated
// cluster for the end-to-end tests, the target's component tests and the demo
// (cmd/simcloud is its thin main).
//
//   - A MIG instance that reaches RUNNING (after BootTime) registers a ready
//     Nomad node named after the instance, with the attributes the GCE
//     targets read: unique.platform.gce.hostname = "<instance>.c.<project>.internal",
//     platform.gce.zone = zone, plus node_class, datacenter, node pool, GPU
//     devices and meta "mig" and "instance_template" (TemplateMetaKey: the
//     name of the template the VM was created from).
//   - A template marked bad (SetTemplateBad, POST /admin/bad-template) is
//     a broken golden image: its nodes register ready, but the worker
//     allocation placed there fails at once and is not placed again.
//   - Every ready, eligible, non-draining node runs one worker allocation
//     (service job Config.WorkerJobID, with GPUs) and a system job
//     "node-exporter". A worker is placed again when a node becomes eligible.
//     With EmptyNodes the nodes run nothing, for tests that place their own
//     allocations.
//   - Draining a node stops its allocations when the drain completes
//     (DrainDuration, or the drain deadline); the node stays ineligible.
//   - An instance deleted from its MIG deregisters its node once it is gone
//     (DeleteTime), or with DownNodeTTL > 0 first leaves it "down" (its
//     allocations lost) for that long, as Nomad keeps down nodes until GC.
//   - The standby pool (fakegce): a VM started from it is RUNNING, and its
//     node ready, WarmBootTime (default 90 s) after startInstances instead
//     of BootTime; a stopped VM's node goes as a deleted one's does (at once,
//     or down for DownNodeTTL). A VM created to refill the pool never
//     registers a node (it is stopped after initialDelaySec): this assumes
//     its startup script does not start the Nomad client before the stop.
//   - Every MIG starts with InitialSize instances, or its own size in
//     InitialSizes.
//   - Time is simulated by a Clock that can run faster than real time; the
//     durations in Config are simulated, except the fake Nomad's
//     MaxBlockingWait and PollInterval, which bound real waits.
//
// One http.Handler serves the compute API under /compute/v1, the Nomad API
// under /v1 and an admin API under /admin (see adminHandler for the routes;
// GET /admin/state returns State as JSON).
//
// # Go API
//
//	ParseMIGs("zone/name,zone/name") ([]MIGRef, error)
//	NewClock(start time.Time, scale float64, realNow func() time.Time) *Clock
//	(c *Clock) Now() time.Time; Scale() float64; Real(sim time.Duration) time.Duration
//	New(Config) (*Cluster, error)
//	(c *Cluster) Handler() http.Handler
//	(c *Cluster) Run(ctx, interval)   // ticks until ctx is done
//	(c *Cluster) Tick()               // advances both fakes and places workers
//	(c *Cluster) State() State
//	(c *Cluster) InstanceHours() map[string]float64 // RUNNING instance-hours per zone, sampled every Tick
//	(c *Cluster) Hostname(instance string) string
//	(c *Cluster) LoseInstance(zone, instance string) error // the node goes down; BootTime later the recreated VM registers a new one
//	(c *Cluster) AddTemplate(name)    // an instance template for a rollout
//	(c *Cluster) SetTemplateBad(name string, bad bool)
//	(c *Cluster) Close()              // releases blocked requests
//	c.GCE *fakegce.Server, c.Nomad *fakenomad.Server   // for injection and assertions
package simcloud
