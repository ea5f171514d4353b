// Package fakemetadata is an in-process fake of the GCE metadata server, as
// far as a VM watching for host maintenance and Spot preemption uses it:
//
//	GET /computeMetadata/v1/instance/maintenance-event  NONE | MIGRATE_ON_HOST_MAINTENANCE | TERMINATE_ON_HOST_MAINTENANCE
//	GET /computeMetadata/v1/instance/preempted          FALSE | TRUE
//
// A *Server is an http.Handler: serve it with httptest.NewServer and point
// the client at the server's URL. It is safe for concurrent use.
//
// # Go API
//
//	New(Options{Now, DefaultWait, MaxWait}) *Server
//	(s) ServeHTTP(w, r)
//	(s) Close()                                  // releases waiting requests; call before closing the http server
//	(s) SetMaintenanceEvent(v string)            // the next value of instance/maintenance-event
//	(s) SetPreempted(v bool)                     // instance/preempted
//	(s) Set(key, value string)                   // any instance/<key>, for malformed values
//	(s) Value(key string) (value, etag string, ok bool)
//	(s) Inject(f Fault, n int)                   // the next n value requests (n <= 0: every one until ClearFaults)
//	(s) ClearFaults()
//	(s) Requests() []Request                     // {Time, Received, Method, Path, Query, Status}, in order answered
//	(s) Waiting() int                            // requests blocked in wait_for_change now
//
// # Admin API
//
// PUT /admin/instance/<key> with the value as the plain-text body sets a
// value, for a simulator driven from another process. It needs no header.
//
// # Behaviour, as the GCE documentation describes the real server
//
//   - Every request needs the header Metadata-Flavor: Google; without it,
//     or with an X-Forwarded-For header, the answer is 403. Answers carry
//     Metadata-Flavor: Google, Content-Type application/text and an ETag.
//   - The ETag is a hash of the value: the same value has the same ETag.
//   - ?wait_for_change=true blocks until the value's ETag differs from
//     ?last_etag= (without last_etag: from the ETag when the request
//     arrived) and answers the new value; when last_etag already differs
//     it answers at once. ?timeout_sec=N (a positive whole number) bounds
//     the wait; when it passes, the current value is answered with 200 and
//     the unchanged ETag. Without timeout_sec the wait is bounded by
//     Options.DefaultWait; every wait by Options.MaxWait.
//   - A malformed wait_for_change or timeout_sec answers 400; an unknown
//     key 404; a method other than GET 405.
//   - Faults (Inject): FaultHang holds the request until the client gives
//     up or the server closes; FaultStatus answers Fault.Status (503 is what
//     the real server answers for about a second during its own
//     maintenance); FaultBody answers 200 with Fault.Body and, unless
//     Fault.NoETag, its ETag; FaultDrop closes the connection without an
//     answer, as a server that went away.
package fakemetadata
