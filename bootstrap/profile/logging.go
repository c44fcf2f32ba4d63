package profile

import (
	"net/url"
	"path"
	"regexp"
	"strings"
)

// Logging configures the logging step: the journal, the syslog daemon,
// remote log shipping, and the permissions of the files under /var/log.
type Logging struct {
	// Syslog picks CIS's logging path: "rsyslog" (journald forwards to
	// rsyslog, which writes /var/log/syslog, auth.log ...) or "journal"
	// (journald only, ForwardToSyslog=no).
	Syslog string `yaml:"syslog"`
	// JournalMaxUse is journald's SystemMaxUse (e.g. "1G"); empty keeps
	// systemd's default, 10% of the file system and at most 4G.
	JournalMaxUse string `yaml:"journal_max_use"`
	// PrivateLoginRecords narrows wtmp, btmp and lastlog to 0640 (root
	// writes them; the utmp group no longer does).
	PrivateLoginRecords bool `yaml:"private_login_records"`
	// RemoteURL is where systemd-journal-upload sends the journal
	// (https://host:19532); empty: no upload.
	RemoteURL string `yaml:"remote_url"`
	// The TLS files systemd-journal-upload uses with RemoteURL.
	RemoteKeyFile                string `yaml:"remote_key_file"`
	RemoteCertificateFile        string `yaml:"remote_certificate_file"`
	RemoteTrustedCertificateFile string `yaml:"remote_trusted_certificate_file"`
}

// SyslogChoices are the values logging.syslog accepts.
var SyslogChoices = []string{"rsyslog", "journal"}

// journalSize is a size systemd's parse_size reads for SystemMaxUse: a
// whole number of bytes or of K, M, G or T (1024-based).
var journalSize = regexp.MustCompile(`^[1-9][0-9]*[KMGT]?$`)

func (v *validator) logging(c *Logging) {
	v.oneOf("logging.syslog", c.Syslog, SyslogChoices)
	if c.JournalMaxUse != "" && !journalSize.MatchString(c.JournalMaxUse) {
		v.add("logging.journal_max_use", "%q is not a size: a number with an optional K, M, G or T (e.g. 1G), or \"\" for systemd's default", c.JournalMaxUse)
	}
	if c.RemoteURL != "" {
		u, err := url.Parse(c.RemoteURL)
		switch {
		case err != nil || strings.ContainsAny(c.RemoteURL, " \t\n"):
			v.add("logging.remote_url", "%q is not a URL", c.RemoteURL)
		case u.Scheme != "https" || u.Host == "":
			// journal-upload also speaks plain http; logs in clear text
			// over the network are what CIS's TLS rule forbids.
			v.add("logging.remote_url", "%q must be an https:// URL with a host (e.g. https://logs.example.com:19532)", c.RemoteURL)
		}
	}
	for _, f := range []struct{ path, value string }{
		{"logging.remote_key_file", c.RemoteKeyFile},
		{"logging.remote_certificate_file", c.RemoteCertificateFile},
		{"logging.remote_trusted_certificate_file", c.RemoteTrustedCertificateFile},
	} {
		if !strings.HasPrefix(f.value, "/") || path.Clean(f.value) != f.value || strings.ContainsAny(f.value, " \t\n") {
			v.add(f.path, "%q is not an absolute file path", f.value)
		}
	}
}
