package fakegce

import (
	"fmt"
	"net/http"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

type opFailure struct {
	code       string
	message    string
	httpStatus int
}

type operation struct {
	id        uint64
	name      string
	zone      string
	opType    string
	target    string
	targetID  uint64
	inserted  time.Time
	doneAt    time.Time
	done      bool
	failure   *opFailure
	requestID string
}

// FailNextOperation makes the next resize or deleteInstances in zone return
// an operation that is DONE with error.errors[{code, message}] and changes
// nothing. Operation.Wait returns nil for it, as on GCE.
func (s *Server) FailNextOperation(zone, code, message string) {
	s.FailNextOperationWithHTTPStatus(zone, 0, code, message)
}

// FailNextOperationWithHTTPStatus is FailNextOperation with the operation's
// httpErrorStatusCode set too (when status is not 0), which makes
// Operation.Wait return an error.
func (s *Server) FailNextOperationWithHTTPStatus(zone string, status int, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zoneLocked(zone).failNext = &opFailure{code: code, message: message, httpStatus: status}
}

// newOperationLocked records an operation on a MIG. It reports whether the
// operation failed by injection, in which case the caller changes nothing.
func (s *Server) newOperationLocked(m *mig, opType, requestID string) (*operation, bool) {
	now := s.opts.Now()
	s.seq++
	op := &operation{
		id:        8000000000000000000 + s.seq,
		name:      fmt.Sprintf("operation-%d-%012x", now.UnixMilli(), s.seq*2654435761),
		zone:      m.zone,
		opType:    opType,
		target:    s.migURL(m),
		targetID:  m.id,
		inserted:  now,
		doneAt:    now.Add(s.opts.OperationTime),
		requestID: requestID,
	}
	z := s.zoneLocked(m.zone)
	if z.failNext != nil {
		op.failure, z.failNext = z.failNext, nil
	}
	op.done = !now.Before(op.doneAt)
	s.ops[migKey(m.zone, op.name)] = op
	if requestID != "" {
		s.requestIDs[requestID] = op
	}
	return op, op.failure != nil
}

func (s *Server) advanceOpsLocked(now time.Time) {
	for _, op := range s.ops {
		if !op.done && !now.Before(op.doneAt) {
			op.done = true
			s.notifyLocked()
		}
	}
}

func (s *Server) migURL(m *mig) string {
	return fmt.Sprintf("%s/instanceGroupManagers/%s", s.zoneURL(m.zone), m.name)
}

// proto renders the operation as the REST API returns it.
func (s *Server) opProto(op *operation) *computepb.Operation {
	status := computepb.Operation_RUNNING
	progress := int32(0)
	if op.done {
		status, progress = computepb.Operation_DONE, 100
	}
	out := &computepb.Operation{
		Kind:              proto.String("compute#operation"),
		Id:                proto.Uint64(op.id),
		Name:              proto.String(op.name),
		Zone:              proto.String(s.zoneURL(op.zone)),
		OperationType:     proto.String(op.opType),
		TargetLink:        proto.String(op.target),
		TargetId:          proto.Uint64(op.targetID),
		Status:            status.Enum(),
		User:              proto.String("fake@fakegce.iam.gserviceaccount.com"),
		Progress:          proto.Int32(progress),
		InsertTime:        proto.String(rfc3339(op.inserted)),
		StartTime:         proto.String(rfc3339(op.inserted)),
		CreationTimestamp: proto.String(rfc3339(op.inserted)),
		SelfLink:          proto.String(fmt.Sprintf("%s/operations/%s", s.zoneURL(op.zone), op.name)),
	}
	if op.done {
		out.EndTime = proto.String(rfc3339(op.doneAt))
		if f := op.failure; f != nil {
			out.Error = &computepb.Error{Errors: []*computepb.Errors{{Code: proto.String(f.code), Message: proto.String(f.message)}}}
			if f.httpStatus != 0 {
				out.HttpErrorStatusCode = proto.Int32(int32(f.httpStatus))
				out.HttpErrorMessage = proto.String(http.StatusText(f.httpStatus))
			}
		}
	}
	return out
}

func (s *Server) getOperation(w http.ResponseWriter, r *http.Request) {
	if !s.projectOK(w, r) {
		return
	}
	s.mu.Lock()
	op, ok := s.ops[migKey(r.PathValue("zone"), r.PathValue("op"))]
	var out *computepb.Operation
	if ok {
		out = s.opProto(op)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("The resource 'projects/%s/zones/%s/operations/%s' was not found",
			s.opts.Project, r.PathValue("zone"), r.PathValue("op")))
		return
	}
	writeProto(w, out)
}

// waitOperation blocks until the operation is DONE or MaxWait passes, as
// zoneOperations.wait does (GCE bounds it at about 2 minutes).
func (s *Server) waitOperation(w http.ResponseWriter, r *http.Request) {
	deadline := time.NewTimer(s.opts.MaxWait)
	defer deadline.Stop()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	key := migKey(r.PathValue("zone"), r.PathValue("op"))
	for {
		s.mu.Lock()
		s.advanceLocked()
		op, ok := s.ops[key]
		done := ok && op.done
		changed := s.changed
		s.unlock()
		if !ok || done {
			break
		}
		select {
		case <-changed:
		case <-poll.C:
		case <-deadline.C:
			s.getOperation(w, r)
			return
		case <-r.Context().Done():
			return
		case <-s.closed:
			s.getOperation(w, r)
			return
		}
	}
	s.getOperation(w, r)
}
