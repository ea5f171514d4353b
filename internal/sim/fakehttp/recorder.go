// Package fakehttp holds what the in-process fake APIs (fakegce, fakenomad)
// share in front of their handlers: a bounded log of the requests they
// answered and injection of HTTP errors. Each fake keeps its own state, error
// body format and clock; the Recorder only wraps its handler.
package fakehttp

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Request is one HTTP request a fake received.
type Request struct {
	// Time is when the request arrived, by the fake's Options.Now
	// (simulated time).
	Time time.Time
	// Received is the real time it arrived, with the monotonic reading, so
	// requests to fakegce and fakenomad in one process can be ordered even
	// when a test freezes Options.Now.
	Received time.Time
	Method   string
	Path     string
	Query    url.Values
	Body     string
	// Status is the HTTP status the fake answered.
	Status int
}

// MaxRequests bounds the request log of a long-running simulator: the log
// keeps at least the last MaxRequests requests and drops the oldest ones.
const MaxRequests = 100_000

// maxBody is how much of a request body is read, logged and handed on.
const maxBody = 1 << 20

// Options configures a Recorder. Every field is required.
type Options struct {
	// Now returns the fake's simulated time, stamped as Request.Time.
	Now func() time.Time
	// Advance brings the fake's time-driven state up to Now. It runs before
	// every request, injected error or not, so a client polling a fake
	// with a fake clock sees time move.
	Advance func()
	// WriteError answers an injected error with the body the real API
	// would send for status.
	WriteError func(w http.ResponseWriter, status int)
}

// Recorder is an http.Handler that logs every request to the handler it
// wraps and can answer the next requests with an injected error instead.
// It is safe for concurrent use. Create it with New.
type Recorder struct {
	next  http.Handler
	opts  Options
	limit int

	mu        sync.Mutex
	errStatus int
	errLeft   int
	requests  []Request
}

// New returns a Recorder in front of next.
func New(next http.Handler, opts Options) *Recorder {
	return &Recorder{next: next, opts: opts, limit: MaxRequests}
}

// InjectErrors makes the next n requests answer status (through
// Options.WriteError) without reaching the wrapped handler. A later call
// replaces an earlier one.
func (rec *Recorder) InjectErrors(status, n int) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.errStatus, rec.errLeft = status, n
}

// Requests returns a copy of the requests answered so far (at least the
// last MaxRequests), in the order they were answered; Time and Received are
// arrival times.
func (rec *Recorder) Requests() []Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]Request(nil), rec.requests...)
}

// ServeHTTP advances the fake, then answers an injected error or hands the
// request (with its body restored) to the wrapped handler, and logs it.
func (rec *Recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	r.Body = io.NopCloser(bytes.NewReader(body))
	logged := Request{
		Time: rec.opts.Now(), Received: time.Now(),
		Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: string(body),
	}
	rec.opts.Advance()

	if status, injected := rec.takeInjected(); injected {
		logged.Status = status
		rec.log(logged)
		rec.opts.WriteError(w, status)
		return
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	rec.next.ServeHTTP(sw, r)
	logged.Status = sw.status
	rec.log(logged)
}

// takeInjected consumes one injected error, if any is left.
func (rec *Recorder) takeInjected() (status int, ok bool) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.errLeft <= 0 {
		return 0, false
	}
	rec.errLeft--
	return rec.errStatus, true
}

// log appends to the request log. It trims only once the log holds twice
// the limit, so trimming copies rarely instead of on every request.
func (rec *Recorder) log(r Request) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.requests) >= 2*rec.limit {
		rec.requests = append([]Request(nil), rec.requests[len(rec.requests)-rec.limit:]...)
	}
	rec.requests = append(rec.requests, r)
}

// statusWriter remembers the status the wrapped handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
