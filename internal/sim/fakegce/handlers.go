package fakegce

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func (s *Server) routes() *http.ServeMux {
	const igm = "/compute/v1/projects/{project}/zones/{zone}/instanceGroupManagers/{mig}"
	const op = "/compute/v1/projects/{project}/zones/{zone}/operations/{op}"
	m := http.NewServeMux()
	m.HandleFunc("GET "+igm, s.getMIG)
	m.HandleFunc("POST "+igm+"/resize", s.resize)
	m.HandleFunc("POST "+igm+"/listManagedInstances", s.listManagedInstances)
	m.HandleFunc("POST "+igm+"/deleteInstances", s.deleteInstances)
	m.HandleFunc("PATCH "+igm, s.patchMIG)
	m.HandleFunc("POST "+igm+"/startInstances", s.startInstances)
	m.HandleFunc("POST "+igm+"/stopInstances", s.stopInstances)
	m.HandleFunc("GET "+igm+"/listErrors", s.listErrors)
	m.HandleFunc("GET /compute/v1/projects/{project}/zones/{zone}/instances/{instance}", s.getInstance)
	m.HandleFunc("GET "+op, s.getOperation)
	s.templateRoutes(m)
	m.HandleFunc("POST "+op+"/wait", s.waitOperation)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "fakegce: no such endpoint "+r.Method+" "+r.URL.Path)
	})
	return m
}

func (s *Server) projectOK(w http.ResponseWriter, r *http.Request) bool {
	if p := r.PathValue("project"); p != s.opts.Project {
		writeError(w, http.StatusNotFound, fmt.Sprintf("The resource 'projects/%s' was not found", p))
		return false
	}
	return true
}

// lockMIG takes the lock and finds the request's MIG, answering 404 (and
// releasing the lock) when it does not exist.
func (s *Server) lockMIG(w http.ResponseWriter, r *http.Request) (*mig, bool) {
	if !s.projectOK(w, r) {
		return nil, false
	}
	zone, name := r.PathValue("zone"), r.PathValue("mig")
	s.mu.Lock()
	m, ok := s.migs[migKey(zone, name)]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, fmt.Sprintf(
			"The resource 'projects/%s/zones/%s/instanceGroupManagers/%s' was not found", s.opts.Project, zone, name))
		return nil, false
	}
	return m, true
}

// lockMutation checks the request's requestId, takes the lock and finds its
// MIG for a call that creates an operation. A requestId seen before gets its
// earlier operation again, as GCE answers a retried call, without a second
// change. It returns false, with the lock released, once it has answered.
func (s *Server) lockMutation(w http.ResponseWriter, r *http.Request) (m *mig, reqID string, ok bool) {
	if !validRequestID(w, r) {
		return nil, "", false
	}
	m, ok = s.lockMIG(w, r)
	if !ok {
		return nil, "", false
	}
	reqID = r.URL.Query().Get("requestId")
	if prev, seen := s.requestIDs[reqID]; seen && reqID != "" {
		out := s.opProto(prev)
		s.unlock()
		writeProto(w, out)
		return nil, "", false
	}
	return m, reqID, true
}

func (s *Server) getMIG(w http.ResponseWriter, r *http.Request) {
	m, ok := s.lockMIG(w, r)
	if !ok {
		return
	}
	out := s.migProto(m)
	s.unlock()
	writeProto(w, out)
}

func (s *Server) resize(w http.ResponseWriter, r *http.Request) {
	size, err := strconv.Atoi(r.URL.Query().Get("size"))
	if err != nil || size < 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid value for field 'size': %q. Must be greater than or equal to 0", r.URL.Query().Get("size")))
		return
	}
	m, reqID, ok := s.lockMutation(w, r)
	if !ok {
		return
	}
	op, failed := s.newOperationLocked(m, "compute.instanceGroupManagers.resize", reqID)
	if !failed {
		s.resizeLocked(m, size)
	}
	out := s.opProto(op)
	s.unlock()
	writeProto(w, out)
}

func (s *Server) deleteInstances(w http.ResponseWriter, r *http.Request) {
	var req computepb.InstanceGroupManagersDeleteInstancesRequest
	body, _ := io.ReadAll(r.Body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid JSON payload received. "+err.Error())
		return
	}
	m, reqID, ok := s.lockMutation(w, r)
	if !ok {
		return
	}
	victims, msg := s.resolveInstancesLocked(m, req.GetInstances(), req.GetSkipInstancesOnValidationError())
	if msg != "" {
		s.unlock()
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	op, failed := s.newOperationLocked(m, "compute.instanceGroupManagers.deleteInstances", reqID)
	if !failed {
		now := s.opts.Now()
		for _, in := range victims {
			if in.phase != phaseDeleting {
				s.startDeleteLocked(in, now)
				if in.standby {
					m.stoppedTarget--
				} else {
					m.target--
				}
			}
		}
		m.target = max(m.target, 0)
		s.notifyLocked()
	}
	out := s.opProto(op)
	s.unlock()
	writeProto(w, out)
}

// resolveInstancesLocked maps the request's instance references to members
// of m. It returns a GCE-like validation message for a non-member unless
// skip is set.
func (s *Server) resolveInstancesLocked(m *mig, refs []string, skip bool) ([]*instance, string) {
	var out []*instance
	for _, ref := range refs {
		zone, name := parseInstanceRef(ref)
		in := m.find(name)
		if in == nil || (zone != "" && zone != m.zone) {
			if skip {
				continue
			}
			return nil, fmt.Sprintf("The instance '%s' is not a member of the instance group manager 'projects/%s/zones/%s/instanceGroupManagers/%s'.",
				ref, s.opts.Project, m.zone, m.name)
		}
		out = append(out, in)
	}
	return out, ""
}

// parseInstanceRef accepts "zones/z/instances/n", "projects/p/zones/z/instances/n",
// full URLs and bare names.
func parseInstanceRef(ref string) (zone, name string) {
	parts := strings.Split(strings.Trim(ref, "/"), "/")
	name = parts[len(parts)-1]
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "zones" {
			zone = parts[i+1]
		}
	}
	return zone, name
}

func (s *Server) listManagedInstances(w http.ResponseWriter, r *http.Request) {
	m, ok := s.lockMIG(w, r)
	if !ok {
		return
	}
	all := make([]*computepb.ManagedInstance, 0, len(m.instances))
	for _, in := range m.instances {
		all = append(all, s.managedInstanceProto(m, in))
	}
	s.unlock()
	writePage(w, r, all, s.opts.PageSize, func(page []*computepb.ManagedInstance, next *string) proto.Message {
		return &computepb.InstanceGroupManagersListManagedInstancesResponse{ManagedInstances: page, NextPageToken: next}
	})
}

func (s *Server) listErrors(w http.ResponseWriter, r *http.Request) {
	m, ok := s.lockMIG(w, r)
	if !ok {
		return
	}
	all := make([]*computepb.InstanceManagedByIgmError, 0, len(m.errors))
	for i := len(m.errors) - 1; i >= 0; i-- {
		e := m.errors[i]
		all = append(all, &computepb.InstanceManagedByIgmError{
			Error: &computepb.InstanceManagedByIgmErrorManagedInstanceError{Code: proto.String(e.code), Message: proto.String(e.message)},
			InstanceActionDetails: &computepb.InstanceManagedByIgmErrorInstanceActionDetails{
				Action: proto.String(e.action), Instance: proto.String(e.instance),
				Version: &computepb.ManagedInstanceVersion{InstanceTemplate: proto.String(s.templateURLOf(e.template))},
			},
			Timestamp: proto.String(rfc3339(e.at)),
		})
	}
	s.unlock()
	writePage(w, r, all, s.opts.PageSize, func(page []*computepb.InstanceManagedByIgmError, next *string) proto.Message {
		return &computepb.InstanceGroupManagersListErrorsResponse{Items: page, NextPageToken: next}
	})
}

// writePage answers the page of all the request asks for, as the list
// response wrap builds; next is nil on the last page, as GCE leaves
// nextPageToken out there.
func writePage[T any](w http.ResponseWriter, r *http.Request, all []T, limit int, wrap func(page []T, next *string) proto.Message) {
	page, next, msg := paginate(all, r, limit)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	var token *string
	if next != "" {
		token = proto.String(next)
	}
	writeProto(w, wrap(page, token))
}

// paginate cuts a page by maxResults (bounded by limit) and an opaque token
// that encodes the offset.
func paginate[T any](all []T, r *http.Request, limit int) (page []T, next, msg string) {
	q := r.URL.Query()
	size := limit
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, "", fmt.Sprintf("Invalid value for field 'maxResults': %q", v)
		}
		if n > 0 && n < size {
			size = n
		}
	}
	offset := 0
	if tok := q.Get("pageToken"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "fake-page-"))
		if err != nil || n < 0 || !strings.HasPrefix(tok, "fake-page-") {
			return nil, "", fmt.Sprintf("Invalid value for field 'pageToken': %q", tok)
		}
		offset = min(n, len(all))
	}
	end := min(offset+size, len(all))
	if end < len(all) {
		next = "fake-page-" + strconv.Itoa(end)
	}
	return all[offset:end], next, ""
}

// validRequestID answers 400 unless requestId is absent or a non-zero UUID,
// as GCE requires.
func validRequestID(w http.ResponseWriter, r *http.Request) bool {
	id := r.URL.Query().Get("requestId")
	if id == "" || isUUID(id) {
		return true
	}
	writeError(w, http.StatusBadRequest, fmt.Sprintf(
		"Invalid value for field 'requestId': '%s'. The request id must be a valid UUID with the exception that zero UUID is not supported (00000000-0000-0000-0000-000000000000).", id))
	return false
}

func isUUID(s string) bool {
	if len(s) != 36 || s == "00000000-0000-0000-0000-000000000000" {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}
