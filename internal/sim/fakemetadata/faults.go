package fakemetadata

import "net/http"

// FaultKind is a way the metadata server misbehaves.
type FaultKind int

// The faults Inject can make the server show.
const (
	// FaultHang holds the request without answering until the client gives
	// up or the server closes.
	FaultHang FaultKind = iota + 1
	// FaultStatus answers Fault.Status with a plain-text body.
	FaultStatus
	// FaultBody answers 200 with Fault.Body, with its ETag unless NoETag.
	FaultBody
	// FaultDrop closes the connection without an answer. Dropped requests
	// are not in Requests.
	FaultDrop
)

// Fault is one injected misbehaviour.
type Fault struct {
	Kind   FaultKind
	Status int    // FaultStatus
	Body   string // FaultBody
	NoETag bool   // FaultBody: answer without an ETag header
}

// faultQueue is the injected fault and how many requests it still hits.
type faultQueue struct {
	fault   Fault
	left    int
	forever bool
}

// Inject makes the next n value requests show f (n <= 0: every request
// until ClearFaults). A later call replaces an earlier one. Requests that
// are already waiting are not affected.
func (s *Server) Inject(f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = faultQueue{fault: f, left: n, forever: n <= 0}
}

// ClearFaults stops every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = faultQueue{}
}

// takeFault consumes one injected fault, if any is left.
func (s *Server) takeFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := &s.faults
	if q.fault.Kind == 0 || (!q.forever && q.left <= 0) {
		return Fault{}, false
	}
	if !q.forever {
		q.left--
	}
	return q.fault, true
}

// answerFault shows f on the request.
func (s *Server) answerFault(w http.ResponseWriter, r *http.Request, f Fault) {
	switch f.Kind {
	case FaultHang:
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		panic(http.ErrAbortHandler)
	case FaultStatus:
		writeStatus(w, f.Status)
	case FaultBody:
		etag := etagOf(f.Body)
		if f.NoETag {
			etag = ""
		}
		writeValue(w, f.Body, etag)
	default:
		// Aborting the handler makes net/http close the connection without
		// writing a response: the client sees the server go away.
		panic(http.ErrAbortHandler)
	}
}
