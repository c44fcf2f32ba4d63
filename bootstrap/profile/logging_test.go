package profile

import (
	"errors"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap"
)

func TestLoggingDefaults(t *testing.T) {
	l := Default().Logging
	if l.Syslog != "rsyslog" || l.JournalMaxUse != "" || !l.PrivateLoginRecords || l.RemoteURL != "" {
		t.Errorf("logging defaults: %+v", l)
	}
	// SSG's systemd_journal_upload_server_tls compares with these paths.
	if l.RemoteKeyFile != "/etc/pki/systemd/private/journal-upload.pem" || l.RemoteCertificateFile != "/etc/pki/systemd/certs/journal-upload.pem" ||
		l.RemoteTrustedCertificateFile != "/etc/pki/systemd/ca/trusted.pem" {
		t.Errorf("logging TLS defaults: %+v", l)
	}
	p, err := Parse([]byte("logging:\n  syslog: journal\n  journal_max_use: 512M\n  remote_url: https://logs.example.com:19532\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Logging.Syslog != "journal" || p.Logging.JournalMaxUse != "512M" || p.Logging.RemoteURL != "https://logs.example.com:19532" {
		t.Errorf("parsed: %+v", p.Logging)
	}
}

func TestBadLoggingValues(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"syslog daemon", "logging:\n  syslog: syslog-ng\n",
			[]string{`logging.syslog (line 2): "syslog-ng" is not one of rsyslog, journal`}},
		{"percent size", "logging:\n  journal_max_use: 10%\n",
			[]string{`logging.journal_max_use (line 2): "10%" is not a size`}},
		{"size with a space", "logging:\n  journal_max_use: \"1 G\"\n",
			[]string{`logging.journal_max_use (line 2): "1 G" is not a size`}},
		{"clear-text upload", "logging:\n  remote_url: http://logs.example.com:19532\n",
			[]string{`logging.remote_url (line 2): "http://logs.example.com:19532" must be an https:// URL with a host`}},
		{"no host", "logging:\n  remote_url: \"https://\"\n",
			[]string{`logging.remote_url (line 2): "https://" must be an https:// URL with a host`}},
		{"not a URL", "logging:\n  remote_url: \"https://logs example\"\n",
			[]string{`logging.remote_url (line 2): "https://logs example" is not a URL`}},
		{"relative and unclean TLS paths", "logging:\n  remote_key_file: key.pem\n  remote_trusted_certificate_file: /etc/../ca.pem\n  remote_certificate_file: \"\"\n",
			[]string{`logging.remote_key_file (line 2): "key.pem" is not an absolute file path`,
				`logging.remote_trusted_certificate_file (line 3): "/etc/../ca.pem" is not an absolute file path`,
				`logging.remote_certificate_file (line 4): "" is not an absolute file path`}},
		{"wrong type", "logging:\n  private_login_records: sometimes\n",
			[]string{`logging.private_login_records (line 2)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if !errors.Is(err, bootstrap.ErrInvalid) {
				t.Fatalf("want an ErrInvalid, got %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
			if n := strings.Count(err.Error(), "\n  "); n != len(tc.want) {
				t.Errorf("want %d problem(s), got %d:\n%v", len(tc.want), n, err)
			}
		})
	}
}
