// Package fakegce is an in-process fake of the GCE Compute REST API for zonal
// managed instance groups (MIGs), driven by the real
// cloud.google.com/go/compute/apiv1 clients.
//
// A *Server is an http.Handler: serve it with httptest.NewServer and create
// the clients with option.WithEndpoint(url) and option.WithoutAuthentication().
// It is safe for concurrent use. Responses are computepb messages encoded with
// protojson, so field names and encodings (camelCase, int64 as strings, enums
// as names) are exactly what the client parses.
//
// # Endpoints
//
//	GET  /compute/v1/projects/{p}/zones/{z}/instanceGroupManagers/{m}
//	POST /compute/v1/projects/{p}/zones/{z}/instanceGroupManagers/{m}/resize?size=N[&requestId=]
//	POST /compute/v1/projects/{p}/zones/{z}/instanceGroupManagers/{m}/listManagedInstances[?maxResults=&pageToken=]
//	POST /compute/v1/projects/{p}/zones/{z}/instanceGroupManagers/{m}/deleteInstances[?requestId=]  body {"instances": [...]}
//	GET  /compute/v1/projects/{p}/zones/{z}/instanceGroupManagers/{m}/listErrors[?maxResults=&pageToken=]
//	PATCH /compute/v1/projects/{p}/zones/{z}/instanceGroupManagers/{m}[?requestId=]  body {"standbyPolicy": {"mode", "initialDelaySec"}, "targetStoppedSize", "targetSize"}
//	POST /compute/v1/projects/{p}/zones/{z}/instanceGroupManagers/{m}/startInstances[?requestId=]  body {"instances": [...]}
//	POST /compute/v1/projects/{p}/zones/{z}/instanceGroupManagers/{m}/stopInstances[?requestId=]   body {"instances": [...], "forceStop"}
//	PATCH ...same path...  body {"versions": [{"name", "instanceTemplate", "targetSize": {"fixed"|"percent"}}], "instanceTemplate", "updatePolicy": {...}}
//	GET  /compute/v1/projects/{p}/zones/{z}/instances/{name}         (instances.get: status, creationTimestamp, lastStopTimestamp)
//	POST /compute/v1/projects/{p}/global/instanceTemplates           (minimal insert: name, properties.machineType, description)
//	GET  /compute/v1/projects/{p}/global/instanceTemplates/{name}
//	GET  /compute/v1/projects/{p}/global/operations/{op}             (what an insert's Operation.Wait polls)
//	GET  /compute/v1/projects/{p}/zones/{z}/operations/{op}          (what Operation.Wait polls)
//	POST /compute/v1/projects/{p}/zones/{z}/operations/{op}/wait     (ZoneOperationsClient.Wait)
//
// # Go API
//
//	New(Options{Project, BootTime, DeleteTime, StartTime, StopTime, StoppedStatus, OperationTime, RetryInterval, PageSize, MaxWait, StockoutCode, Now}) *Server
//	(s) ServeHTTP(w, r)
//	(s) Close()                                      // releases blocked operation waits
//	(s) AddMIG(zone, name string, size int)          // size instances, already RUNNING
//	(s) SetStockout(zone string, on bool)            // new instances fail: ZONE_RESOURCE_POOL_EXHAUSTED
//	(s) SetQuotaExceeded(zone string, on bool)       // new instances fail: QUOTA_EXCEEDED
//	(s) SetCapacity(zone string, n int)              // at most n created instances in zone (all MIGs), then ZONE_RESOURCE_POOL_EXHAUSTED; n < 0 unlimited
//	(s) Capacity(zone string) int                    // -1 when unlimited
//	(s) Stockout(zone string) bool
//	(s) QuotaExceeded(zone string) bool
//	(s) InjectHTTPErrors(status, n int)              // the next n API requests answer status (429, 500, 503)
//	(s) FailNextOperation(zone, code, message string)                        // next resize/deleteInstances op: DONE with error, nothing changes
//	(s) FailNextOperationWithHTTPStatus(zone string, status int, code, message string) // same, plus httpErrorStatusCode
//	(s) Requests() []Request                         // {Time, Received, Method, Path, Query, Body, Status}, in order answered
//	(s) MIG(zone, name string) MIGSnapshot           // zero value (Name "") when unknown
//	(s) MIGs() []MIGSnapshot                         // sorted by zone, name
//	(s) OnInstanceRunning(func(zone, mig, instance string))
//	(s) OnInstanceDeleted(func(zone, mig, instance string))
//	(s) OnInstanceStopped(func(zone, mig, instance string))  // a VM reached TERMINATED (stopped)
//	(s) SetStartTime(d)                              // how long a start from the pool stays STAGING
//	(s) SetStandby(zone, name, mode string, initialDelay time.Duration, stopped int) bool
//	(s) Advance()                                    // applies time-driven changes now
//	(s) AddTemplate(name string)                     // an instance template; AddMIG registers "<mig>-template"
//	InstanceURL(project, zone, name string) string
//	TemplateURL(project, name string) string
//
// Against the plan in notes/fakes-api.md: as planned, plus the extra methods
// and options above.
//
// # Behaviour (modelled on GCE)
//
//   - Resize sets targetSize at once. Growing creates instances named
//     "<mig>-xxxx" with currentAction CREATING; each boots (instanceStatus
//     STAGING) for BootTime and then is RUNNING with currentAction NONE.
//     Shrinking marks instances DELETING, preferring ones not yet created,
//     then booting ones, then the newest running ones; they vanish after
//     DeleteTime.
//   - deleteInstances takes names as "zones/z/instances/n",
//     "projects/p/zones/z/instances/n" or full URLs, marks exactly those
//     instances DELETING and lowers targetSize by their number. An instance
//     that is not a member answers HTTP 400 and nothing changes (unless
//     skipInstancesOnValidationError is true, then it is skipped).
//   - A requestId already seen (for resize or deleteInstances) returns the
//     first call's operation and changes nothing: retries are idempotent.
//     As on GCE, a requestId must be a non-zero UUID or the call answers 400.
//   - In a zone in stockout, over quota or at its capacity, instances being created stay
//     CREATING without an instanceStatus, their lastAttempt carries the
//     error, the MIG stays unstable (isStable false, currentActions.creating
//     > 0), and every RetryInterval listErrors gains an item with error code
//     ZONE_RESOURCE_POOL_EXHAUSTED or QUOTA_EXCEEDED and action CREATING. When
//     the injection is lifted, they boot.
//   - The standby pool (standby.go has the rules, from the compute API
//     reference): targetSize counts running VMs only, targetStoppedSize the
//     pool. stopInstances takes RUNNING members (400 otherwise), lowers
//     targetSize and raises targetStoppedSize; the VM shows RUNNING/STOPPING
//     until initialDelaySec after its creation (forceStop: at once), then
//     STOPPING/STOPPING for StopTime, then TERMINATED/NONE (StoppedStatus).
//     startInstances takes stopped members (400 otherwise), raises
//     targetSize, lowers targetStoppedSize; the VM is TERMINATED/STARTING
//     while its zone has no GPU for it (stockout, quota, capacity: a
//     stopped VM holds none; lastAttempt and listErrors items with action
//     STARTING every RetryInterval), then STAGING/STARTING for StartTime,
//     then RUNNING/NONE. While the pool has fewer members than
//     targetStoppedSize the MIG creates VMs (CREATING, RUNNING/STOPPING)
//     and stops them initialDelaySec after creation; these never fire
//     OnInstanceRunning. In mode SCALE_OUT_POOL a resize up starts stopped
//     members first (targetStoppedSize kept, so the pool refills); in MANUAL
//     it only creates. deleteInstances of a member lowers targetStoppedSize.
//     isStable needs the pool at its size, all stopped.
//   - Versions and the update policy (versions.go has the rules, from the
//     compute API reference): each MIG starts with one version "v1" of
//     template "<mig>-template" and updatePolicy PROACTIVE, REPLACE,
//     SUBSTITUTE, maxSurge 1, maxUnavailable 1. A version's targetSize is
//     fixed (capped at targetSize) or percent (rounded); the unsized
//     version takes the rest; new instances come from the version furthest
//     below its size. A PROACTIVE update with SUBSTITUTE creates up to
//     maxSurge VMs above targetSize and deletes an outdated VM only while
//     targetSize - maxUnavailable others run; RECREATE deletes and recreates
//     under the same name (maxSurge must be 0); OPPORTUNISTIC replaces
//     nothing. status.versionTarget.isReached is false while any VM of the
//     running target is outdated, and isStable needs it. Each managed
//     instance's version names its template (and the version's name).
//     Unknown templates, two unsized versions, a template used twice and
//     policies GCE refuses answer 400 and change nothing.
//   - listErrors returns the newest errors first. Lists paginate with
//     maxResults (default and cap: Options.PageSize) and an opaque pageToken.
//   - Operations are DONE when returned unless OperationTime > 0. A failed
//     operation (FailNextOperation) has error.errors[] and, as on GCE,
//     Operation.Wait returns nil for it unless it also has an
//     httpErrorStatusCode: callers must check the error field.
//   - InjectHTTPErrors answers with a Google JSON error body (reason
//     rateLimitExceeded for 429, backendError for 5xx); note that the client
//     itself retries GETs and lists on 503.
//   - Unknown project, zone, MIG or operation answers 404 with reason notFound.
//
// # Time
//
// All time comes from Options.Now (default time.Now), so tests use a fake
// clock and the simulator compresses time. State is brought up to Now on
// every request, every snapshot and Advance; callbacks run after the lock is
// released.
package fakegce
