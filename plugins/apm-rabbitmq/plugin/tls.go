package plugin

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"io/fs"
	"os"
)

// TLS keys: they apply to amqps:// nodes and https:// management URLs.
// PostgreSQL takes its TLS settings from the DSN (sslmode, sslrootcert...).
const (
	configKeyTLSCAFile     = "tls_ca_file"
	configKeyTLSCertFile   = "tls_cert_file"
	configKeyTLSKeyFile    = "tls_key_file"
	configKeyTLSServerName = "tls_server_name"
	configKeyTLSSkipVerify = "tls_skip_verify"
)

var tlsKeys = []string{configKeyTLSCAFile, configKeyTLSCertFile, configKeyTLSKeyFile, configKeyTLSServerName, configKeyTLSSkipVerify}

// tlsSettings is the TLS client configuration shared by AMQP and the
// management API. A nil config means the system roots and default checks.
type tlsSettings struct {
	config *tls.Config
}

// forHost returns a copy of the configuration for one server, keeping an
// explicit tls_server_name and otherwise verifying the host being dialled.
func (s tlsSettings) forHost(host string) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.config != nil {
		c = s.config.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = host
	}
	return c
}

// parseTLS reads the CA and the client key pair now, so that a wrong path is
// reported by SetConfig rather than at the first query.
func parseTLS(p *pluginkit.Parser, m map[string]string) (tlsSettings, error) {
	set := false
	for _, k := range tlsKeys {
		if _, ok := m[k]; ok {
			set = true
		}
	}
	if !set {
		return tlsSettings{}, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: m[configKeyTLSServerName]}
	var errs []error
	c.InsecureSkipVerify = p.Bool(configKeyTLSSkipVerify)
	// Paths are config values: errors name the key and the cause only.
	if path := m[configKeyTLSCAFile]; path != "" {
		pem, err := os.ReadFile(path)
		pool := x509.NewCertPool()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: cannot read the file: %s", configKeyTLSCAFile, pathCause(err)))
		case !pool.AppendCertsFromPEM(pem):
			errs = append(errs, fmt.Errorf("%s: no PEM certificate in the file", configKeyTLSCAFile))
		}
		c.RootCAs = pool
	}
	certFile, keyFile := m[configKeyTLSCertFile], m[configKeyTLSKeyFile]
	switch {
	case certFile != "" && keyFile != "":
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s and %s: not a readable, matching PEM certificate and key",
				configKeyTLSCertFile, configKeyTLSKeyFile))
		}
		c.Certificates = []tls.Certificate{pair}
	case certFile != "" || keyFile != "":
		errs = append(errs, fmt.Errorf("%s and %s must be set together", configKeyTLSCertFile, configKeyTLSKeyFile))
	}
	if err := errors.Join(errs...); err != nil {
		return tlsSettings{}, err
	}
	return tlsSettings{config: c}, nil
}

// pathCause is the reason a file could not be read, without its path.
func pathCause(err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err
	}
	return errors.New("unreadable")
}

// withFileDigests adds the digest of each TLS file to the operator's keys, so
// that a SIGHUP after a certificate rotation counts as a change even though
// the paths are the same. The added keys hold a NUL byte and cannot collide
// with real keys.
func withFileDigests(own map[string]string) map[string]string {
	for _, k := range []string{configKeyTLSCAFile, configKeyTLSCertFile, configKeyTLSKeyFile} {
		path := own[k]
		if path == "" {
			continue
		}
		digest := "unreadable"
		if b, err := os.ReadFile(path); err == nil {
			sum := sha256.Sum256(b)
			digest = hex.EncodeToString(sum[:])
		}
		own["\x00digest:"+k] = digest
	}
	return own
}
