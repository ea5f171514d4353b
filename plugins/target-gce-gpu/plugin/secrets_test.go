package plugin

import (
	"fmt"
	"maps"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/syncbuf"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// secretLike is shaped like a credential pasted into the wrong key: valid
// for no key that checks its format, and distinctive enough to be found in
// any output.
const secretLike = "hunter2-S3cr3t+Tok3n/zX9="

// TestNoSecretIsEverEchoed puts secretLike into each key in turn, of the
// agent's target block and of the policy's, and runs SetConfig, Status and
// Scale against the fakes with every log line kept (Trace). A Secret key
// (credentials), a key the plugin does not type (the Nomad token, an
// unknown key) and a key that accepts the value (a node pool) must not
// repeat it anywhere: no error, no Status meta, no log line. A typed key
// that rejects it names it, and only that way: `key "value": problem`.
func TestNoSecretIsEverEchoed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 10 * time.Millisecond, drainDuration: 10 * time.Millisecond})
	agentBase := map[string]string{"compute_endpoint": h.gceURL, "compute_insecure": "true", "nomad_address": h.nomadURL}
	agentKeys := append([]string{configKeyCredentials, configKeyComputeEndpoint, configKeyComputeInsecure, "password"}, pluginkit.AgentNomadKeys...)

	run := func(t *testing.T, key string, agent, policy map[string]string) {
		var logs syncbuf.Buffer
		p := New(hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs}))
		p.timing = h.p.timing
		var seen []string
		note := func(err error) {
			if err != nil {
				seen = append(seen, err.Error())
			}
		}
		note(p.SetConfig(agent))
		if p.cfg != nil {
			st, err := p.Status(policy)
			note(err)
			if st != nil {
				for k, v := range st.Meta {
					seen = append(seen, k+"="+v)
				}
			}
			count := int64(2)
			if st != nil {
				count = st.Count + 1
			}
			note(p.Scale(sdk.ScalingAction{Count: count, Direction: sdk.ScaleDirectionUp}, policy))
			note(p.Scale(sdk.ScalingAction{Count: 1, Direction: sdk.ScaleDirectionDown}, policy))
		}
		seen = append(seen, logs.String())
		out := strings.Join(seen, "\n")
		if shownKey(key) {
			// `key "value"`, or `key entry N "value"` in a list.
			named := regexp.MustCompile(regexp.QuoteMeta(key) + `( entry \d+)? ` + regexp.QuoteMeta(fmt.Sprintf("%q", secretLike)))
			out = named.ReplaceAllString(out, key+" <named>")
		}
		must.StrNotContains(t, out, secretLike)
		// Nor a recognisable part of it, as a library might quote it escaped.
		must.StrNotContains(t, out, "S3cr3t")
	}
	for _, key := range agentKeys {
		t.Run("agent "+key, func(t *testing.T) {
			agent := maps.Clone(agentBase)
			agent[key] = secretLike
			run(t, key, agent, h.policy)
		})
	}
	for _, key := range append(targetTable.Names(), "password") {
		t.Run("policy "+key, func(t *testing.T) {
			policy := maps.Clone(h.policy)
			policy[key] = secretLike
			run(t, key, agentBase, policy)
		})
	}
}

// shownKey reports whether an error may name key's value: a key of one of
// the plugin's tables that is not Secret.
func shownKey(key string) bool {
	for _, t := range []*pluginkit.Table{pluginTable, targetTable, nomadKeyTable} {
		if k, ok := t.Key(key); ok {
			return !k.Secret
		}
	}
	return false
}
