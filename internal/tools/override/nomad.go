package override

import (
	"strconv"

	"github.com/hashicorp/nomad/api"
)

// nomadSettings is how to reach Nomad: flags, else the NOMAD_* environment
// variables the nomad CLI reads.
type nomadSettings struct {
	address, token, namespace, region                string
	caCert, caPath, clientCert, clientKey, tlsServer string
	skipVerify                                       bool
}

func nomadFromEnv(getenv func(string) string) nomadSettings {
	skip, _ := strconv.ParseBool(getenv("NOMAD_SKIP_VERIFY"))
	return nomadSettings{
		address: getenv("NOMAD_ADDR"), token: getenv("NOMAD_TOKEN"),
		namespace: getenv("NOMAD_NAMESPACE"), region: getenv("NOMAD_REGION"),
		caCert: getenv("NOMAD_CACERT"), caPath: getenv("NOMAD_CAPATH"),
		clientCert: getenv("NOMAD_CLIENT_CERT"), clientKey: getenv("NOMAD_CLIENT_KEY"),
		tlsServer: getenv("NOMAD_TLS_SERVER_NAME"), skipVerify: skip,
	}
}

func (s nomadSettings) withDefaults() nomadSettings {
	if s.address == "" {
		s.address = "http://127.0.0.1:4646"
	}
	return s
}

func (s nomadSettings) client() (*api.Client, error) {
	s = s.withDefaults()
	return api.NewClient(&api.Config{
		Address: s.address, SecretID: s.token, Namespace: s.namespace, Region: s.region,
		TLSConfig: &api.TLSConfig{
			CACert: s.caCert, CAPath: s.caPath, ClientCert: s.clientCert, ClientKey: s.clientKey,
			TLSServerName: s.tlsServer, Insecure: s.skipVerify,
		},
	})
}

// pluginConfig is the same connection as the nomad_* keys the agent merges
// into strategy-slope's config, so that the plugin reads the Variable here
// as it does in the agent.
func (s nomadSettings) pluginConfig() map[string]string {
	s = s.withDefaults()
	m := map[string]string{"nomad_address": s.address}
	for k, v := range map[string]string{
		"nomad_token": s.token, "nomad_namespace": s.namespace, "nomad_region": s.region,
		"nomad_ca-cert": s.caCert, "nomad_ca-path": s.caPath, "nomad_client-cert": s.clientCert,
		"nomad_client-key": s.clientKey, "nomad_tls-server-name": s.tlsServer,
	} {
		if v != "" {
			m[k] = v
		}
	}
	if s.skipVerify {
		m["nomad_skip-verify"] = "true"
	}
	return m
}
