package fakenomad

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Namespace capabilities the fake checks, and what the namespace policy
// shorthands grant (as Nomad expands them).
const (
	capReadJob = "read-job"
	capDeny    = "deny"
)

var namespacePolicies = func() map[string][]string {
	read := []string{"list-jobs", "parse-job", capReadJob, "csi-list-volume", "csi-read-volume",
		"read-job-scaling", "list-scaling-policies", "read-scaling-policy", "host-volume-read"}
	write := append(slices.Clone(read), "scale-job", "submit-job", "dispatch-job", "read-logs", "read-fs",
		"alloc-exec", "alloc-lifecycle", "csi-mount-volume", "csi-write-volume", "submit-recommendation",
		"host-volume-create")
	return map[string][]string{
		capDeny: {capDeny},
		"read":  read,
		"write": write,
		"scale": {"list-scaling-policies", "read-scaling-policy", "read-job-scaling", "scale-job", capReadJob,
			"submit-recommendation"},
	}
}()

// namespaceCapabilities are the capabilities Nomad accepts in a namespace
// rule; a policy naming another one is refused, as `nomad acl policy
// apply` refuses it.
var namespaceCapabilities = map[string]bool{}

func init() {
	for _, c := range []string{capDeny, "list-jobs", "parse-job", capReadJob, "submit-job", "dispatch-job",
		"read-logs", "read-fs", "alloc-exec", "alloc-node-exec", "alloc-lifecycle", "sentinel-override",
		"csi-register-plugin", "csi-write-volume", "csi-read-volume", "csi-list-volume", "csi-mount-volume",
		"host-volume-create", "host-volume-register", "host-volume-read", "host-volume-write",
		"host-volume-delete", "list-scaling-policies", "read-scaling-policy", "read-job-scaling", "scale-job",
		"submit-recommendation", "register-job", "revert-job", "deregister-job", "purge-job", "evaluate-job",
		"plan-job", "tag-job-version", "stable-job", "fail-deployment", "pause-deployment",
		"promote-deployment", "unblock-deployment", "cancel-deployment", "set-alloc-health-deployment",
		"gc-allocation", "pause-allocation", "force-periodic-job", "delete-service-registration"} {
		namespaceCapabilities[c] = true
	}
}

// Variable capabilities.
const (
	varRead    = "read"
	varWrite   = "write"
	varList    = "list"
	varDestroy = "destroy"
)

var (
	variableCapabilities = map[string]bool{varRead: true, varWrite: true, varList: true, varDestroy: true, capDeny: true}
	validRuleName        = regexp.MustCompile(`^[a-zA-Z0-9*-]{1,128}$`)
)

// maxPrivilege combines two policy levels: deny wins, then write, then read.
func maxPrivilege(a, b string) string {
	for _, level := range []string{capDeny, "write", "read", "list"} {
		if a == level || b == level {
			return level
		}
	}
	return ""
}

// compileACL parses policies (Nomad's HCL ACL policy syntax) into the
// permissions of one token.
func compileACL(policies []string) (*aclSet, error) {
	a := &aclSet{namespaces: map[string]capSet{}, variables: map[string]capSet{}}
	for i, src := range policies {
		if err := a.add(src); err != nil {
			return nil, fmt.Errorf("policy %d: %w", i+1, err)
		}
	}
	return a, nil
}

// add parses one policy strictly, as `nomad acl policy apply` does: unknown
// blocks, attributes, policies and capabilities are errors.
func (a *aclSet) add(src string) error {
	f, diags := hclsyntax.ParseConfig([]byte(src), "policy.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return errors.New(diags.Error())
	}
	body := f.Body.(*hclsyntax.Body)
	if err := onlyAttributes(body); err != nil {
		return err
	}
	if len(body.Blocks) == 0 {
		return errors.New("empty policy")
	}
	for _, b := range body.Blocks {
		var err error
		switch b.Type {
		case "namespace":
			err = a.addNamespace(b)
		case "node", "agent", "operator", "quota", "plugin":
			err = a.addLevel(b)
		case "node_pool", "host_volume":
			// Accepted, as Nomad accepts them; the fake does not enforce them.
			err = labels(b, 1)
		default:
			err = fmt.Errorf("unknown block %q", b.Type)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (a *aclSet) addLevel(b *hclsyntax.Block) error {
	if err := labels(b, 0); err != nil {
		return err
	}
	if err := onlyAttributes(b.Body, "policy", "capabilities"); err != nil {
		return err
	}
	policy, err := stringAttr(b.Body, "policy")
	if err != nil {
		return fmt.Errorf("%s: %w", b.Type, err)
	}
	valid := []string{capDeny, "read", "write", "scale"}
	if b.Type == "plugin" {
		valid = []string{capDeny, "read", "list", "write"}
	}
	if policy != "" && !slices.Contains(valid, policy) {
		return fmt.Errorf("%s: invalid policy %q", b.Type, policy)
	}
	switch b.Type {
	case "node":
		a.node = maxPrivilege(a.node, policy)
	case "agent":
		a.agent = maxPrivilege(a.agent, policy)
	}
	return nil
}

func (a *aclSet) addNamespace(b *hclsyntax.Block) error {
	if err := labels(b, 1); err != nil {
		return err
	}
	name := b.Labels[0]
	if !validRuleName.MatchString(name) {
		return fmt.Errorf("invalid namespace name %q", name)
	}
	if err := onlyAttributes(b.Body, "policy", "capabilities"); err != nil {
		return fmt.Errorf("namespace %q: %w", name, err)
	}
	policy, err := stringAttr(b.Body, "policy")
	if err != nil {
		return fmt.Errorf("namespace %q: %w", name, err)
	}
	caps, err := listAttr(b.Body, "capabilities")
	if err != nil {
		return fmt.Errorf("namespace %q: %w", name, err)
	}
	for _, c := range caps {
		if !namespaceCapabilities[c] {
			return fmt.Errorf("namespace %q: invalid capability %q", name, c)
		}
	}
	if policy != "" {
		extra, ok := namespacePolicies[policy]
		if !ok {
			return fmt.Errorf("namespace %q: invalid policy %q", name, policy)
		}
		caps = append(caps, extra...)
	}
	set, ok := a.namespaces[name]
	if !ok {
		set = capSet{}
		a.namespaces[name] = set
	}
	set.merge(caps)
	for _, vb := range b.Body.Blocks {
		if vb.Type != "variables" {
			return fmt.Errorf("namespace %q: unknown block %q", name, vb.Type)
		}
		if err := a.addVariables(name, vb); err != nil {
			return fmt.Errorf("namespace %q: %w", name, err)
		}
	}
	return nil
}

func (a *aclSet) addVariables(namespace string, b *hclsyntax.Block) error {
	if err := labels(b, 0); err != nil {
		return err
	}
	if err := onlyAttributes(b.Body); err != nil {
		return err
	}
	if len(b.Body.Blocks) == 0 {
		return errors.New("variables: no path blocks")
	}
	for _, pb := range b.Body.Blocks {
		if pb.Type != "path" {
			return fmt.Errorf("variables: unknown block %q", pb.Type)
		}
		if err := labels(pb, 1); err != nil {
			return err
		}
		path := pb.Labels[0]
		if path == "" || strings.HasPrefix(path, "/") {
			return fmt.Errorf("variables: invalid path %q", path)
		}
		if err := onlyAttributes(pb.Body, "capabilities"); err != nil {
			return err
		}
		caps, err := listAttr(pb.Body, "capabilities")
		if err != nil {
			return fmt.Errorf("path %q: %w", path, err)
		}
		for _, c := range caps {
			if !variableCapabilities[c] {
				return fmt.Errorf("path %q: invalid capability %q", path, c)
			}
		}
		if slices.Contains(caps, varRead) {
			caps = append(caps, varList) // read implies list, as in Nomad
		}
		key := namespace + "\x00" + path
		set, ok := a.variables[key]
		if !ok {
			set = capSet{}
			a.variables[key] = set
		}
		set.merge(caps)
	}
	return nil
}

func labels(b *hclsyntax.Block, n int) error {
	if len(b.Labels) != n {
		return fmt.Errorf("block %q needs %d label(s), has %d", b.Type, n, len(b.Labels))
	}
	return nil
}

// onlyAttributes refuses attributes other than allowed and, when allowed
// is empty, any attribute.
func onlyAttributes(body *hclsyntax.Body, allowed ...string) error {
	for name := range body.Attributes {
		if !slices.Contains(allowed, name) {
			return fmt.Errorf("unknown attribute %q", name)
		}
	}
	return nil
}

func stringAttr(body *hclsyntax.Body, name string) (string, error) {
	attr, ok := body.Attributes[name]
	if !ok {
		return "", nil
	}
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String || v.IsNull() {
		return "", fmt.Errorf("%s must be a string", name)
	}
	return v.AsString(), nil
}

func listAttr(body *hclsyntax.Body, name string) ([]string, error) {
	attr, ok := body.Attributes[name]
	if !ok {
		return nil, nil
	}
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() || v.IsNull() || !(v.Type().IsTupleType() || v.Type().IsListType()) {
		return nil, fmt.Errorf("%s must be a list of strings", name)
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.Type() != cty.String || e.IsNull() {
			return nil, fmt.Errorf("%s must be a list of strings", name)
		}
		out = append(out, e.AsString())
	}
	return out, nil
}
