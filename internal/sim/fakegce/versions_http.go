package fakegce

import (
	"fmt"
	"net/http"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// templateRoutes serves instance templates (get and a minimal insert) and
// the global operations an insert returns.
//
//	POST /compute/v1/projects/{p}/global/instanceTemplates          body {"name", "properties": {"machineType"}, "description"}
//	GET  /compute/v1/projects/{p}/global/instanceTemplates/{name}
//	GET  /compute/v1/projects/{p}/global/operations/{op}
func (s *Server) templateRoutes(m *http.ServeMux) {
	const base = "/compute/v1/projects/{project}/global/"
	m.HandleFunc("POST "+base+"instanceTemplates", s.insertTemplate)
	m.HandleFunc("GET "+base+"instanceTemplates/{template}", s.getTemplate)
	m.HandleFunc("GET "+base+"operations/{op}", s.getGlobalOperation)
}

func (s *Server) insertTemplate(w http.ResponseWriter, r *http.Request) {
	if !s.projectOK(w, r) || !validRequestID(w, r) {
		return
	}
	var req computepb.InstanceTemplate
	if !readBody(w, r, &req) {
		return
	}
	name := req.GetName()
	if name == "" {
		writeError(w, http.StatusBadRequest, "Required field 'resource.name' not specified")
		return
	}
	s.mu.Lock()
	if _, exists := s.templates[name]; exists {
		s.unlock()
		writeError(w, http.StatusConflict, fmt.Sprintf("The resource 'projects/%s/global/instanceTemplates/%s' already exists", s.opts.Project, name))
		return
	}
	t := s.addTemplateLocked(name, templateName(req.GetProperties().GetMachineType()), req.GetDescription())
	now := s.opts.Now()
	s.seq++
	op := &operation{
		id: 8000000000000000000 + s.seq, name: fmt.Sprintf("operation-%d-%012x", now.UnixMilli(), s.seq*2654435761),
		opType: "insert", target: s.templateURLOf(name), targetID: t.id, inserted: now, doneAt: now, done: true,
	}
	s.globalOps[op.name] = op
	out := s.globalOpProto(op)
	s.unlock()
	writeProto(w, out)
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request) {
	if !s.projectOK(w, r) {
		return
	}
	name := r.PathValue("template")
	s.mu.Lock()
	t, ok := s.templates[name]
	var out *computepb.InstanceTemplate
	if ok {
		out = &computepb.InstanceTemplate{
			Kind: proto.String("compute#instanceTemplate"), Id: proto.Uint64(t.id), Name: proto.String(t.name),
			CreationTimestamp: proto.String(rfc3339(t.created)), SelfLink: proto.String(s.templateURLOf(t.name)),
			Properties: &computepb.InstanceProperties{MachineType: proto.String(t.machineType)},
		}
		if t.description != "" {
			out.Description = proto.String(t.description)
		}
	}
	s.unlock()
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("The resource 'projects/%s/global/instanceTemplates/%s' was not found", s.opts.Project, name))
		return
	}
	writeProto(w, out)
}

func (s *Server) getGlobalOperation(w http.ResponseWriter, r *http.Request) {
	if !s.projectOK(w, r) {
		return
	}
	s.mu.Lock()
	op, ok := s.globalOps[r.PathValue("op")]
	var out *computepb.Operation
	if ok {
		out = s.globalOpProto(op)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("The resource 'projects/%s/global/operations/%s' was not found", s.opts.Project, r.PathValue("op")))
		return
	}
	writeProto(w, out)
}

func (s *Server) globalOpProto(op *operation) *computepb.Operation {
	return &computepb.Operation{
		Kind: proto.String("compute#operation"), Id: proto.Uint64(op.id), Name: proto.String(op.name),
		OperationType: proto.String(op.opType), TargetLink: proto.String(op.target), TargetId: proto.Uint64(op.targetID),
		Status: computepb.Operation_DONE.Enum(), Progress: proto.Int32(100),
		InsertTime: proto.String(rfc3339(op.inserted)), StartTime: proto.String(rfc3339(op.inserted)), EndTime: proto.String(rfc3339(op.doneAt)),
		SelfLink: proto.String(fmt.Sprintf("%sprojects/%s/global/operations/%s", computePrefix, s.opts.Project, op.name)),
	}
}

// parseVersions reads the versions of a PATCH body.
func parseVersions(in []*computepb.InstanceGroupManagerVersion) []version {
	out := make([]version, 0, len(in))
	for _, v := range in {
		nv := version{name: v.GetName(), template: templateName(v.GetInstanceTemplate())}
		if ts := v.GetTargetSize(); ts != nil {
			switch {
			case ts.Fixed != nil:
				n := int(ts.GetFixed())
				nv.fixed = &n
			case ts.Percent != nil:
				n := int(ts.GetPercent())
				nv.percent = &n
			}
		}
		out = append(out, nv)
	}
	return out
}

// mergeUpdatePolicy applies the fields a PATCH sets to the current policy,
// as a JSON merge patch does.
func mergeUpdatePolicy(p updatePolicy, in *computepb.InstanceGroupManagerUpdatePolicy) updatePolicy {
	if in == nil {
		return p
	}
	if in.Type != nil {
		p.typ = in.GetType()
	}
	if in.MinimalAction != nil {
		p.minimalAction = in.GetMinimalAction()
	}
	if in.ReplacementMethod != nil {
		p.replacementMethod = in.GetReplacementMethod()
	}
	fixedOrPercent := func(v *computepb.FixedOrPercent, fixed, percent **int) {
		switch {
		case v == nil:
		case v.Fixed != nil:
			n := int(v.GetFixed())
			*fixed, *percent = &n, nil
		case v.Percent != nil:
			n := int(v.GetPercent())
			*fixed, *percent = nil, &n
		}
	}
	fixedOrPercent(in.GetMaxSurge(), &p.surgeFixed, &p.surgePercent)
	fixedOrPercent(in.GetMaxUnavailable(), &p.unavailFixed, &p.unavailPercent)
	return p
}

// patchVersionsLocked validates and applies the versions, instanceTemplate
// and updatePolicy fields of a PATCH. It returns a 400 message, or "" once
// applied (nothing is applied when it fails).
func (s *Server) patchVersionsLocked(m *mig, req *computepb.InstanceGroupManager) string {
	versions := m.versions
	switch {
	case len(req.GetVersions()) > 0:
		versions = parseVersions(req.GetVersions())
	case req.InstanceTemplate != nil:
		versions = []version{{name: "", template: templateName(req.GetInstanceTemplate())}}
	}
	if msg := s.validateVersionsLocked(versions); msg != "" {
		return msg
	}
	policy := mergeUpdatePolicy(m.policy, req.GetUpdatePolicy())
	target := m.target
	if req.TargetSize != nil {
		target = int(req.GetTargetSize())
	}
	if msg := validateUpdatePolicy(policy, target); msg != "" {
		return msg
	}
	m.versions, m.policy = versions, policy
	return ""
}

func (s *Server) versionsProto(m *mig) []*computepb.InstanceGroupManagerVersion {
	out := make([]*computepb.InstanceGroupManagerVersion, 0, len(m.versions))
	want := m.desired()
	for i, v := range m.versions {
		pv := &computepb.InstanceGroupManagerVersion{InstanceTemplate: proto.String(s.templateURLOf(v.template))}
		if v.name != "" {
			pv.Name = proto.String(v.name)
		}
		switch {
		case v.fixed != nil:
			pv.TargetSize = &computepb.FixedOrPercent{Fixed: proto.Int32(int32(*v.fixed)), Calculated: proto.Int32(int32(want[i]))}
		case v.percent != nil:
			pv.TargetSize = &computepb.FixedOrPercent{Percent: proto.Int32(int32(*v.percent)), Calculated: proto.Int32(int32(want[i]))}
		}
		out = append(out, pv)
	}
	return out
}

func updatePolicyProto(p updatePolicy) *computepb.InstanceGroupManagerUpdatePolicy {
	fp := func(fixed, percent *int) *computepb.FixedOrPercent {
		switch {
		case fixed != nil:
			return &computepb.FixedOrPercent{Fixed: proto.Int32(int32(*fixed))}
		case percent != nil:
			return &computepb.FixedOrPercent{Percent: proto.Int32(int32(*percent))}
		}
		return nil
	}
	return &computepb.InstanceGroupManagerUpdatePolicy{
		Type: proto.String(p.typ), MinimalAction: proto.String(p.minimalAction),
		ReplacementMethod: proto.String(p.replacementMethod),
		MaxSurge:          fp(p.surgeFixed, p.surgePercent), MaxUnavailable: fp(p.unavailFixed, p.unavailPercent),
	}
}

// instanceVersionProto is a managed instance's version: its template and,
// when a version of the MIG uses that template, the version's name.
func (s *Server) instanceVersionProto(m *mig, in *instance) *computepb.ManagedInstanceVersion {
	out := &computepb.ManagedInstanceVersion{InstanceTemplate: proto.String(s.templateURLOf(in.template))}
	for _, v := range m.versions {
		if v.template == in.template && v.name != "" {
			out.Name = proto.String(v.name)
		}
	}
	return out
}
