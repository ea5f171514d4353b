package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

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

// nomadPluginKeys are the agent's Nomad connection keys, merged into every
// plugin's config unless nomad_config_inherit = "false"; see
// sdk/helper/nomad.MergeMapWithAgentConfig.
var nomadPluginKeys = []string{
	"nomad_address", "nomad_region", "nomad_namespace", "nomad_token",
	"nomad_http-auth", "nomad_ca-cert", "nomad_ca-path", "nomad_client-cert",
	"nomad_client-key", "nomad_tls-server-name", "nomad_skip-verify",
	"nomad_block-query-wait-time", plugins.ConfigKeyNomadConfigInherit,
}

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
}

// parsePluginConfig validates the agent's target block config. It reads a
// credentials file but contacts nothing, so the agent starts even while GCE
// or Nomad are unreachable. Errors name the key and the problem, never the
// value: a password put in the wrong key must not reach the agent's log.
func parsePluginConfig(raw map[string]string) (pluginConfig, error) {
	var (
		cfg  pluginConfig
		errs []error
	)
	known := map[string]bool{configKeyCredentials: true, configKeyComputeEndpoint: true, configKeyComputeInsecure: true}
	for _, k := range nomadPluginKeys {
		known[k] = true
	}
	errs = append(errs, unknownKeys(raw, known)...)

	errs = append(errs, parseBool(raw, configKeyComputeInsecure, &cfg.computeInsecure))
	if v, ok := raw[configKeyComputeEndpoint]; ok {
		if !isURL(v, "http", "https") {
			errs = append(errs, fmt.Errorf("%s: not an http(s) URL with a host", configKeyComputeEndpoint))
		}
		cfg.computeEndpoint = strings.TrimRight(v, "/")
	}
	if cfg.computeInsecure && cfg.computeEndpoint == "" {
		errs = append(errs, fmt.Errorf("%s: turning authentication off needs %s (it is only ever off for a non-Google endpoint)",
			configKeyComputeInsecure, configKeyComputeEndpoint))
	}
	if v, ok := raw[configKeyCredentials]; ok {
		if cfg.computeInsecure {
			errs = append(errs, fmt.Errorf("%s: set together with %s = \"true\"; remove one", configKeyCredentials, configKeyComputeInsecure))
		}
		b, err := readCredentials(v)
		if err != nil {
			errs = append(errs, err)
		}
		cfg.credentialsJSON = b
	}
	// An empty Nomad key means unset, as the SDK reads it (the Nomad
	// client's default address, no TLS override).
	nomadKeys := nonEmpty(raw, configKeyNomadAddress, configKeyNomadSkipVer, plugins.ConfigKeyNomadConfigInherit, configKeyNomadBlockWait)
	if v, ok := nomadKeys[configKeyNomadAddress]; ok && !isURL(v, "http", "https", "unix") {
		errs = append(errs, fmt.Errorf("%s: not an http(s) URL with a host, nor a unix:// socket", configKeyNomadAddress))
	}
	errs = append(errs,
		parseBool(nomadKeys, configKeyNomadSkipVer, new(bool)),
		parseBool(nomadKeys, plugins.ConfigKeyNomadConfigInherit, new(bool)),
		parseDuration(nomadKeys, configKeyNomadBlockWait, new(time.Duration), 0),
	)
	cfg.nomad = nomadhelper.ConfigFromNamespacedMap(raw)
	return cfg, errors.Join(errs...)
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
