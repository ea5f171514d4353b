package override

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// fileEdit is what set or clear does to a policy file.
type fileEdit interface {
	// apply returns the edited source and the checks it changed.
	apply(src []byte, file, label string, p policy, now time.Time) ([]byte, []string, error)
	// verify checks the edited policy as strategy-slope reads it at now.
	verify(view policyView, now time.Time) error
	// report describes the change made to the checks.
	report(p policy, checks []string, now time.Time, loc *time.Location) string
}

type fileSet struct{ req request }

func (f fileSet) apply(src []byte, file, label string, p policy, now time.Time) ([]byte, []string, error) {
	if err := f.req.validate(p, now); err != nil {
		return nil, nil, usageError{err}
	}
	return setInSource(src, file, p.name, label, f.req)
}

func (f fileSet) verify(view policyView, now time.Time) error {
	return expectOverride(view, f.req, "policy", now)
}

func (f fileSet) report(p policy, checks []string, now time.Time, loc *time.Location) string {
	return fmt.Sprintf("override set in policy %q, check %s: %s, %q",
		p.name, quoteAll(checks), f.req.describe(now, loc), f.req.reason)
}

type fileClear struct{}

func (fileClear) apply(src []byte, file, label string, p policy, _ time.Time) ([]byte, []string, error) {
	return clearInSource(src, file, p.name, label)
}

func (fileClear) verify(view policyView, now time.Time) error {
	for _, v := range view.checks {
		if v.overriding() && v.source == "policy" {
			return fmt.Errorf("commented out, but strategy-slope still reads check %q as %s", v.check, v.describe(now, time.UTC))
		}
	}
	return nil
}

func (fileClear) report(p policy, checks []string, _ time.Time, _ *time.Location) string {
	return fmt.Sprintf("override cleared in policy %q, check %s (its keys are commented out)", p.name, quoteAll(checks))
}

func quoteAll(ss []string) string {
	var out []string
	for _, s := range ss {
		out = append(out, strconv.Quote(s))
	}
	return strings.Join(out, ", ")
}

// editFile changes the -policy-file as the agent needs: checked, then saved
// under a new name, the old file removed, the agent sent SIGHUP. Nothing
// is written unless the edited policy decodes as the agent decodes it,
// differs from the old one only in the override keys, and strategy-slope
// reads the intended override from it.
func (d deps) editFile(o options, now time.Time, e fileEdit) error {
	pid, err := readPID(o.agentPID, o.agentPIDFile)
	if err != nil {
		return usageError{err}
	}
	if err := d.agent.Check(pid); err != nil {
		return usageError{err}
	}
	unlock, err := lockDir(filepath.Dir(o.policyFile))
	if err != nil {
		return err
	}
	defer unlock()
	src, err := os.ReadFile(o.policyFile)
	if err != nil {
		return usageError{fmt.Errorf("-policy-file: %w", err)}
	}
	before, err := decodePolicies(o.policyFile, src, o.label)
	if err != nil {
		return usageError{fmt.Errorf("-policy-file: %w", err)}
	}
	p, err := selectPolicy(before, o.name, o.policyFile)
	if err != nil {
		return usageError{err}
	}
	edited, checks, err := e.apply(src, o.policyFile, o.label, p, now)
	if err != nil {
		return err
	}
	if len(checks) == 0 {
		if _, isSet := e.(fileSet); isSet {
			return usageError{noSlopeChecks(p)}
		}
		fmt.Fprintf(d.stdout, "no override in policy %q of %s: nothing to clear\n\n", p.name, o.policyFile)
		_, err := d.show(o, p, now) // a Variable may still pin it
		return err
	}
	edPolicy, err := d.checkEdit(o, p, before, edited, e, now)
	if err != nil {
		return err
	}
	newPath, err := replacePolicyFile(o.policyFile, edited, now)
	if err != nil {
		return err
	}
	fmt.Fprintln(d.stdout, e.report(p, checks, now, o.loc))
	if err := d.agent.Reload(pid); err != nil {
		return fmt.Errorf("wrote %s and removed %s, but %w: send it by hand (kill -HUP %d)", newPath, o.policyFile, err, pid)
	}
	fmt.Fprintf(d.stdout, "wrote %s, removed %s, sent SIGHUP to agent %d: the policy's next evaluation applies it, once no Scale or cooldown is under way\n\n", newPath, o.policyFile, pid)
	edPolicy.file = newPath
	_, err = d.show(o, edPolicy, now)
	return err
}

// checkEdit decodes the edited source as the agent would, verifies it and
// returns the edited policy.
func (d deps) checkEdit(o options, p policy, before []policy, edited []byte, e fileEdit, now time.Time) (policy, error) {
	after, err := decodePolicies(o.policyFile, edited, o.label)
	if err != nil {
		return policy{}, fmt.Errorf("the edited policy does not decode, nothing written (please report this): %w", err)
	}
	if !reflect.DeepEqual(withoutOverrides(before), withoutOverrides(after)) {
		return policy{}, errors.New("the edit changed more than the override keys, nothing written (please report this)")
	}
	q, err := selectPolicy(after, p.name, o.policyFile)
	if err != nil {
		return policy{}, err
	}
	// The file alone: a Variable override, which wins, is shown afterwards.
	fileOnly := q
	fileOnly.checks = append([]check(nil), q.checks...)
	for i, c := range fileOnly.checks {
		c.config = maps.Clone(c.config)
		delete(c.config, keyVariable)
		fileOnly.checks[i] = c
	}
	s, err := newStrategy(now, o.nomad.pluginConfig())
	if err != nil {
		return policy{}, err
	}
	if err := e.verify(s.policyView(fileOnly, now), now); err != nil {
		return policy{}, fmt.Errorf("%w: nothing written (please report this)", err)
	}
	return q, nil
}

// withoutOverrides drops the override keys, for comparing two versions.
func withoutOverrides(ps []policy) []policy {
	out := make([]policy, len(ps))
	for i, p := range ps {
		p.checks = append([]check(nil), p.checks...)
		for j, c := range p.checks {
			c.config = maps.Clone(c.config)
			for _, k := range fileKeys {
				delete(c.config, k)
			}
			p.checks[j] = c
		}
		out[i] = p
	}
	return out
}
