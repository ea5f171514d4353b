package deploy_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/plugins/base"
	nomadhelper "github.com/hashicorp/nomad-autoscaler/sdk/helper/nomad"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/agenttest"

	apm "github.com/fleetslope/nomad-gpu-autoscaler/plugins/apm-rabbitmq/plugin"
	slope "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
	gcegpu "github.com/fleetslope/nomad-gpu-autoscaler/plugins/target-gce-gpu/plugin"
)

// TestAgentConfigsAreAcceptedByOurPlugins hands each plugin block's config,
// with the Nomad keys the agent merges in, to the plugin's SetConfig, as
// the agent does at start: a typo or a bad value fails here, not at deploy.
// Files the production config names (CA certificates) do not exist on a
// build machine; they are replaced by a generated CA.
func TestAgentConfigsAreAcceptedByOurPlugins(t *testing.T) {
	ca := writeCA(t)
	plugins := map[string]func() base.Base{
		"apm-rabbitmq":   func() base.Base { return apm.New(hclog.NewNullLogger()) },
		"strategy-slope": func() base.Base { return slope.New(hclog.NewNullLogger()) },
		"target-gce-gpu": func() base.Base { return gcegpu.New(hclog.NewNullLogger()) },
	}
	for _, f := range agentConfigs(t) {
		cfg := agenttest.LoadConfig(t, f)
		cfg.Nomad.CACert = tlsFile.ReplaceAllString(cfg.Nomad.CACert, ca)
		nomadCfg := nomadhelper.MergeDefaultWithAgentConfig(cfg.Nomad)
		for _, p := range append(append(cfg.APMs, cfg.Strategies...), cfg.Targets...) {
			newPlugin, ours := plugins[p.Driver]
			if !ours {
				continue
			}
			t.Run(f+"/"+p.Name, func(t *testing.T) {
				m := map[string]string{}
				for k, v := range p.Config {
					m[k] = tlsFile.ReplaceAllString(v, ca)
				}
				if _, ok := m["metrics_address"]; ok {
					// The configured port may be taken on a build machine
					// (or by the other file's plugins in this test): any
					// free one proves the key is accepted and served.
					m["metrics_address"] = "127.0.0.1:0"
				}
				nomadhelper.MergeMapWithAgentConfig(m, nomadCfg)
				must.NoError(t, newPlugin().SetConfig(m))
			})
		}
	}
}

// tlsFile matches the certificate paths of the production config, which
// the plugins read when configured (a DSN's sslrootcert too).
var tlsFile = regexp.MustCompile(`/etc/nomad-autoscaler/tls/[^&\s,]+`)

// writeCA writes a self-signed CA certificate and returns its path.
func writeCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "policies test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must.NoError(t, err)
	path := filepath.Join(t.TempDir(), "ca.pem")
	must.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return path
}
