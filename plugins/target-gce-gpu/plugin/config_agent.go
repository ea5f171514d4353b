package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/nomad-autoscaler/plugins"
	"github.com/hashicorp/nomad/api"

	nomadhelper "github.com/hashicorp/nomad-autoscaler/sdk/helper/nomad"
)

// Plugin (agent target block) configuration keys.
const (
	configKeyCredentials     = "credentials"
	configKeyComputeEndpoint = "compute_endpoint"
	configKeyComputeInsecure = "compute_insecure"
)

// pluginTable is the agent's target block: ours, and the agent's Nomad
// connection keys.
var pluginTable = &pluginkit.Table{
	AgentKeys: true,
	Keys: []pluginkit.Key{
		{Name: configKeyCredentials, Kind: pluginkit.Text, Secret: true, Doc: "service account key: a file path or the JSON itself"},
		{Name: configKeyComputeEndpoint, Kind: pluginkit.Text, Doc: "base URL of the Compute API"},
		{Name: configKeyComputeInsecure, Kind: pluginkit.Bool, Default: "false", Doc: "turn authentication off (with compute_endpoint only)"},
		pluginkit.MetricsKeyRow,
	},
}

// The agent's Nomad connection keys this plugin validates itself: the
// SDK's parser ignores a bad boolean or duration, and the Nomad client's
// errors quote the address and the TLS file paths.
const (
	configKeyNomadAddress   = "nomad_address"
	configKeyNomadSkipVer   = "nomad_skip-verify"
	configKeyNomadBlockWait = "nomad_block-query-wait-time"
)

// nomadTLSKeys are the keys whose values the Nomad client reads as files.
var nomadTLSKeys = []string{"nomad_ca-cert", "nomad_ca-path", "nomad_client-cert", "nomad_client-key"}

// nomadKeyTable types the Nomad keys checked here; an empty value means
// unset, as the SDK reads it.
var nomadKeyTable = &pluginkit.Table{Keys: []pluginkit.Key{
	{Name: configKeyNomadSkipVer, Kind: pluginkit.Bool, Doc: "skip TLS verification"},
	{Name: plugins.ConfigKeyNomadConfigInherit, Kind: pluginkit.Bool, Doc: "inherit the agent's Nomad connection"},
	{Name: configKeyNomadBlockWait, Kind: pluginkit.Duration, Min: "0s", Doc: "blocking query wait"},
}}

// pluginConfig is the parsed agent-level configuration of the plugin.
type pluginConfig struct {
	// credentialsJSON is the service account key (read from a file when
	// `credentials` is a path); empty means Application Default Credentials.
	credentialsJSON []byte
	// computeEndpoint overrides the compute API base URL (tests, simulator,
	// Private Service Connect).
	computeEndpoint string
	// computeInsecure turns authentication off; only with computeEndpoint.
	computeInsecure bool
	// nomad is the Nomad client configuration built from the nomad_* keys.
	nomad *api.Config
	// metricsAddress serves the Prometheus metrics ("" = off).
	metricsAddress string
}

// parsePluginConfig validates the agent's target block config. It reads a
// credentials file but contacts nothing, so the agent starts even while GCE
// or Nomad are unreachable. Errors name the key, its value and the problem,
// but never the value of credentials (Secret) or of a key the plugin does
// not type (the Nomad token): these errors reach the agent's log.
func parsePluginConfig(raw map[string]string) (pluginConfig, error) {
	p := pluginkit.Parse(pluginTable, raw)
	cfg := pluginConfig{computeInsecure: p.Bool(configKeyComputeInsecure), metricsAddress: p.Text(pluginkit.MetricsKey)}
	if p.Has(configKeyComputeEndpoint) {
		v := p.Text(configKeyComputeEndpoint)
		if !isURL(v, "http", "https") {
			p.Fail(configKeyComputeEndpoint, "not an http(s) URL with a host")
		}
		cfg.computeEndpoint = strings.TrimRight(v, "/")
	}
	if cfg.computeInsecure && cfg.computeEndpoint == "" {
		p.Fail(configKeyComputeInsecure, "turning authentication off needs %s (it is only ever off for a non-Google endpoint)", configKeyComputeEndpoint)
	}
	if p.Has(configKeyCredentials) {
		if cfg.computeInsecure {
			p.Fail(configKeyCredentials, "set together with %s = \"true\"; remove one", configKeyComputeInsecure)
		}
		b, err := readCredentials(p.Text(configKeyCredentials))
		p.Add(err)
		cfg.credentialsJSON = b
	}
	nomadKeys := nonEmpty(raw, configKeyNomadAddress, configKeyNomadSkipVer, plugins.ConfigKeyNomadConfigInherit, configKeyNomadBlockWait)
	if v, ok := nomadKeys[configKeyNomadAddress]; ok && !isURL(v, "http", "https", "unix") {
		p.Fail(configKeyNomadAddress, "not an http(s) URL with a host, nor a unix:// socket")
	}
	delete(nomadKeys, configKeyNomadAddress)
	np := pluginkit.Parse(nomadKeyTable, nomadKeys)
	np.Bool(configKeyNomadSkipVer)
	np.Bool(plugins.ConfigKeyNomadConfigInherit)
	np.Duration(configKeyNomadBlockWait)
	p.Add(np.Err())
	cfg.nomad = nomadhelper.ConfigFromNamespacedMap(raw)
	return cfg, p.Err()
}

// nonEmpty returns the keys of raw that are set to a non-empty value.
func nonEmpty(raw map[string]string, keys ...string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if v := raw[k]; v != "" {
			out[k] = v
		}
	}
	return out
}

// isURL reports whether v is an absolute URL of one of the schemes, with a
// host (http, https) or a path (unix).
func isURL(v string, schemes ...string) bool {
	u, err := url.Parse(v)
	if err != nil || !slices.Contains(schemes, u.Scheme) {
		return false
	}
	if u.Scheme == "unix" {
		return u.Path != ""
	}
	return u.Host != ""
}

// redactValues replaces in msg every value of the given keys with the key's
// name in angle brackets, for errors of libraries that quote what they were
// given (file paths, addresses).
func redactValues(msg string, raw map[string]string, keys ...string) string {
	// Longest first, so that a value containing another is replaced whole.
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, func(a, b string) int { return len(raw[b]) - len(raw[a]) })
	for _, k := range sorted {
		if v := raw[k]; v != "" {
			msg = strings.ReplaceAll(msg, v, "<"+k+">")
		}
	}
	return msg
}

// readCredentials accepts a service account key as inline JSON or as a file
// path. The value itself never appears in errors: it may be a secret.
func readCredentials(v string) ([]byte, error) {
	s := strings.TrimSpace(v)
	var content []byte
	if strings.HasPrefix(s, "{") {
		content = []byte(s)
	} else {
		b, err := os.ReadFile(s)
		if err != nil {
			// The cause without the path, which may be anything pasted here.
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("%s: cannot read the file it names: %w", configKeyCredentials, err)
		}
		content = b
	}
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(content, &probe); err != nil || probe.Type == "" {
		return nil, fmt.Errorf("%s: not a Google credentials JSON document (missing \"type\")", configKeyCredentials)
	}
	return content, nil
}
