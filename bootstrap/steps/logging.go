package steps

import (
	"context"
	"fmt"
	"strings"
	"syscall"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// Logging keeps the logs CIS asks for: the journal on disk and compressed,
// rsyslog fed by journald and creating its files 0640 (or journald only),
// optional upload of the journal to a log server, and the files under
// /var/log readable by owner and group only.
//
// It runs after the steps that install packages early (updates) so the
// 0644 files apt and dpkg write during a bake are fixed; files created by
// later steps' installs (audit, timesync ...) are fixed by the next run of
// this step, and reported by audit until then.
type Logging struct{}

// Name implements Step.
func (Logging) Name() string { return "logging" }

// JournalUploadConf is systemd-journal-upload's configuration.
const JournalUploadConf = "/etc/systemd/journal-upload.conf"

// loggingSettings is what the profile asks of this root.
type loggingSettings struct {
	Journald bool // systemd runs journald here
	Rsyslog  bool // rsyslog path, on a distribution that packages rsyslog
	// NoRsyslog says why the rsyslog path was asked and cannot be taken.
	NoRsyslog string
	Upload    bool
	// Journal are journald's settings, in the order written.
	Journal [][2]string
}

// rsyslogPackaged: Arch has rsyslog only in the AUR.
func rsyslogPackaged(d distro.Info) bool { return d.Family != distro.Arch }

func (Logging) settings(env *Env) loggingSettings {
	p := env.Profile.Logging
	s := loggingSettings{
		Journald: env.Distro.ServiceManager == distro.Systemd,
		Rsyslog:  p.Syslog == "rsyslog" && rsyslogPackaged(env.Distro),
		Upload:   p.RemoteURL != "" && env.Distro.ServiceManager == distro.Systemd,
	}
	if p.Syslog == "rsyslog" && !s.Rsyslog {
		s.NoRsyslog = env.Distro.ID + " packages no rsyslog (AUR only): journald only"
	}
	if !s.Journald {
		// No journald: rsyslog is the only logger (init scripts log to it).
		s.Rsyslog = rsyslogPackaged(env.Distro)
		return s
	}
	s.Journal = [][2]string{{"Storage", "persistent"}, {"Compress", "yes"}, {"ForwardToSyslog", yesNo(s.Rsyslog)}}
	if p.JournalMaxUse != "" {
		s.Journal = append(s.Journal, [2]string{"SystemMaxUse", p.JournalMaxUse})
	}
	return s
}

func (l Logging) packages(env *Env) [][]string {
	s := l.settings(env)
	var pkgs []string
	if s.Rsyslog {
		// rsyslog's files grow until logrotate (only a Recommends of
		// rsyslog) rotates them. Under SysV, rsyslog's init script is
		// in orphan-sysvinit-scripts.
		pkgs = append(pkgs, "rsyslog", "logrotate")
		pkgs = append(pkgs, sysvScriptsPackage(env.Distro)...)
	}
	if s.Upload {
		pkgs = append(pkgs, journalRemotePackage(env.Distro))
	}
	return [][]string{pkgs}
}

// journalRemotePackage holds systemd-journal-upload: Debian, Ubuntu, Fedora
// and RHEL name it systemd-journal-remote; Arch ships it in systemd.
func journalRemotePackage(d distro.Info) string {
	if d.Family == distro.Arch {
		return "systemd"
	}
	return "systemd-journal-remote"
}

// journaldActions writes our values into the main file (a copy of the
// vendor's file when /etc has none) and into every drop-in that sets one
// of them otherwise (a drop-in under /usr or /run is overridden by one of
// the same name in /etc, as systemd intends).
func journaldActions(env *Env, s loggingSettings) ([]Action, error) {
	files := systemdConfFiles(env.Root, "systemd/journald.conf")
	main := ""
	if len(files) > 0 && mainConfFile(files[0].Path) {
		main = files[0].Text
	}
	text := main
	for _, kv := range s.Journal {
		text = setSystemdConf(text, "Journal", kv[0], kv[1])
	}
	var actions []Action
	a, err := WriteFile(env.Root, JournaldConf, []byte(text), 0o644,
		"journald: "+settingsSummary(s.Journal))
	if err != nil {
		return nil, err
	}
	actions = appendAction(actions, a)
	for _, f := range files {
		if mainConfFile(f.Path) {
			continue
		}
		drop := f.Text
		for _, kv := range s.Journal {
			for _, as := range parseSystemdConf(f.Text) {
				if as.Section == "Journal" && as.Key == kv[0] && !sameSystemdValue(kv[1], as.Value) {
					drop = setSystemdConf(drop, "Journal", kv[0], kv[1])
					break
				}
			}
		}
		if drop == f.Text {
			continue
		}
		target := "/etc/systemd/journald.conf.d/" + f.Path[strings.LastIndex(f.Path, "/")+1:]
		a, err := WriteFile(env.Root, target, []byte(drop), 0o644, "journald drop-in "+f.Path+" set another value: "+settingsSummary(s.Journal))
		if err != nil {
			return nil, err
		}
		actions = appendAction(actions, a)
	}
	return actions, nil
}

func settingsSummary(kvs [][2]string) string {
	var out []string
	for _, kv := range kvs {
		out = append(out, kv[0]+"="+kv[1])
	}
	return strings.Join(out, " ")
}

// uploadText is journal-upload.conf with the profile's URL and TLS files.
func uploadText(old string, env *Env) string {
	p := env.Profile.Logging
	text := old
	for _, kv := range [][2]string{{"URL", p.RemoteURL}, {"ServerKeyFile", p.RemoteKeyFile},
		{"ServerCertificateFile", p.RemoteCertificateFile}, {"TrustedCertificateFile", p.RemoteTrustedCertificateFile}} {
		text = setSystemdConf(text, "Upload", kv[0], kv[1])
	}
	return text
}

// configure plans the configuration from the files as they are now (after
// the packages are installed, their default files exist).
func (l Logging) configure(ctx context.Context, env *Env) ([]Action, error) {
	s := l.settings(env)
	var actions, journald []Action
	if s.Journald {
		var err error
		if journald, err = journaldActions(env, s); err != nil {
			return nil, err
		}
		actions = append(actions, journald...)
	}
	var rsyslog []Action
	if s.Rsyslog && env.Root.Exists(RsyslogConf) {
		old, err := env.Root.ReadFile(RsyslogConf)
		if err != nil {
			return nil, err
		}
		elsewhere := false
		for _, d := range fileCreateModes(env.Root) {
			elsewhere = elsewhere || d.Path != RsyslogConf
		}
		a, err := WriteFile(env.Root, RsyslogConf, []byte(setFileCreateMode(string(old), elsewhere)), 0o644,
			"rsyslog creates its log files 0640 ($FileCreateMode)")
		if err != nil {
			return nil, err
		}
		rsyslog = appendAction(rsyslog, a)
		if a != nil && env.CanRun() {
			rsyslog = append(rsyslog, Action{Kind: "validate", Summary: "rsyslogd -N1 accepts the configuration", Cmd: cmd("rsyslogd", "-N1"),
				Validate: func(ctx context.Context) error { _, err := env.Run.Run(ctx, cmd("rsyslogd", "-N1")); return err }})
		}
	}
	actions = append(actions, rsyslog...)
	if s.Rsyslog {
		actions = appendAction(actions, enableAction(env, "start rsyslog at boot", "rsyslog.service"))
	}
	var upload []Action
	if s.Upload {
		old, err := env.Root.ReadFile(JournalUploadConf)
		if err != nil && !isNotExist(err) {
			return nil, err
		}
		a, err := WriteFile(env.Root, JournalUploadConf, []byte(uploadText(string(old), env)), 0o644,
			"systemd-journal-upload sends the journal to "+env.Profile.Logging.RemoteURL+" over TLS")
		if err != nil {
			return nil, err
		}
		upload = appendAction(upload, a)
		upload = appendAction(upload, enableAction(env, "start systemd-journal-upload at boot", "systemd-journal-upload.service"))
	}
	actions = append(actions, upload...)
	a, err := loginRecordsAction(env)
	if err != nil {
		return nil, err
	}
	actions = appendAction(actions, a)
	if a, err = logAptHookAction(env); err != nil {
		return nil, err
	}
	actions = appendAction(actions, a)
	actions = append(actions, logFileActions(logFileFixes(env))...)
	actions = append(actions, runtimeLogActions(env)...)
	if env.Live() {
		// journald keeps its clients' streams across a restart (they are
		// in its file descriptor store); rsyslog and the uploader reread
		// their files only when restarted.
		if len(journald) > 0 {
			actions = append(actions, restartAction(env, "journald rereads its configuration", "systemd-journald.service"))
		}
		if len(rsyslog) > 0 {
			actions = append(actions, restartAction(env, "rsyslog rereads its configuration", "rsyslog.service"))
		}
		if len(upload) > 0 {
			actions = append(actions, restartAction(env, "start the journal upload", "systemd-journal-upload.service"))
		}
	}
	return actions, nil
}

// loginRecordsAction writes (or, with private_login_records off, removes)
// the tmpfiles.d lines that keep the login records 0640 across boots.
func loginRecordsAction(env *Env) (*Action, error) {
	if !env.Profile.Logging.PrivateLoginRecords || env.Distro.ServiceManager != distro.Systemd {
		return RemoveFile(env.Root, LoginRecordsTmpfiles, "login records keep the distribution's modes")
	}
	text := loginRecordsTmpfilesText(tmpfilesFirstLines(tmpfilesConfs(env.Root), LoginRecordsTmpfiles))
	if text == "" {
		return RemoveFile(env.Root, LoginRecordsTmpfiles, "no tmpfiles.d line widens the login records")
	}
	return WriteFile(env.Root, LoginRecordsTmpfiles, []byte(text), 0o644, "login records stay 0640 at every boot (systemd-tmpfiles)")
}

// Plan implements Step.
func (l Logging) Plan(ctx context.Context, env *Env) ([]Action, error) {
	return planWithPackages(ctx, env, "install the logging packages", l.packages(env),
		func() ([]Action, error) { return l.configure(ctx, env) })
}

// Apply implements Step.
func (l Logging) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	return applyWithPackages(ctx, env, "install the logging packages", l.packages(env),
		func() ([]Action, error) { return l.configure(ctx, env) })
}

// Check implements Step.
func (l Logging) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	s := l.settings(env)
	var checks []report.Check
	if s.Journald {
		checks = append(checks, journaldChecks(env, s)...)
	}
	if s.NoRsyslog != "" {
		checks = append(checks, report.Check{ID: "logging.rsyslog", OK: false, Severity: report.Warn,
			Want: "rsyslog (logging.syslog: rsyslog)", Got: s.NoRsyslog, Refs: []string{"ssg:package_rsyslog_installed"}})
	}
	if s.Rsyslog {
		more, err := rsyslogChecks(ctx, env)
		if err != nil {
			return nil, err
		}
		checks = append(checks, more...)
	}
	if s.Upload {
		more, err := uploadChecks(ctx, env)
		if err != nil {
			return nil, err
		}
		checks = append(checks, more...)
	}
	checks = append(checks, logFilesCheck(env))
	if env.Distro.PackageManager == "apt" {
		data, _ := env.Root.ReadFile(LogAptHook)
		got := map[bool]string{true: "as hardbake writes it", false: "missing or changed"}[string(data) == logAptHookText(env.Profile.Logging.PrivateLoginRecords)]
		c := check("logging.var_log_apt_hook", "as hardbake writes it", got)
		c.Refs = []string{"ssg:permissions_local_var_log"}
		checks = append(checks, c)
	}
	if env.Profile.Logging.PrivateLoginRecords && s.Journald {
		checks = append(checks, loginRecordsBootCheck(env))
	}
	return checks, nil
}

// journaldRefs are the CIS rules each journald setting meets.
var journaldRefs = map[string][]string{
	"Storage":         {"ssg:journald_storage"},
	"Compress":        {"ssg:journald_compress"},
	"ForwardToSyslog": {"ssg:journald_forward_to_syslog"},
	"SystemMaxUse":    nil,
}

// journaldChecks compare what journald will use (main file and drop-ins)
// and what a scanner reads (the main file alone) with our values.
func journaldChecks(env *Env, s loggingSettings) []report.Check {
	files := systemdConfFiles(env.Root, "systemd/journald.conf")
	eff := effectiveSystemdConf(files, "Journal")
	var checks []report.Check
	for _, kv := range s.Journal {
		got := eff[kv[0]]
		c := check("logging.journald."+kv[0], kv[1], got.Value)
		c.OK = sameSystemdValue(kv[1], got.Value)
		c.Detail = "set by " + got.From
		if got.From == "" {
			c.Got, c.Detail = "unset", "systemd's compiled-in default applies"
		}
		c.Refs = journaldRefs[kv[0]]
		if kv[0] == "ForwardToSyslog" && kv[1] == "no" {
			c.Refs = []string{"ssg:journald_disable_forward_to_syslog"}
		}
		checks = append(checks, c)
	}
	if kf, ok := eff["SystemKeepFree"]; ok {
		var st syscall.Statfs_t
		if env.Root.Writable() && syscall.Statfs(env.Root.HostPath("/var/log"), &st) == nil {
			size := st.Blocks * uint64(st.Bsize)
			c := report.Check{ID: "logging.journald.keep_free", OK: !keepFreeTooLarge(kf.Value, size), Severity: report.Warn,
				Want: "less than half of /var/log's file system", Got: fmt.Sprintf("SystemKeepFree=%s on %d MiB", kf.Value, size>>20),
				Detail: "set by " + kf.From + "; journald keeps nothing on disk when it must leave that much free"}
			checks = append(checks, c)
		}
	}
	// Scanners read /etc/systemd/journald.conf only: every assignment there
	// must carry our value too.
	data, _ := env.Root.ReadFile(JournaldConf)
	var wrong []string
	for _, kv := range s.Journal {
		seen := false
		for _, a := range parseSystemdConf(string(data)) {
			if a.Key == kv[0] {
				seen = true
				if a.Value != kv[1] {
					wrong = append(wrong, fmt.Sprintf("%s=%s (line %d)", a.Key, a.Value, a.Line))
				}
			}
		}
		if !seen {
			wrong = append(wrong, kv[0]+" missing")
		}
	}
	got := "all set"
	if len(wrong) > 0 {
		got = strings.Join(wrong, ", ")
	}
	c := check("logging.journald.main_file", "all set", got)
	c.Detail = JournaldConf + ": " + settingsSummary(s.Journal)
	for _, kv := range s.Journal {
		c.Refs = append(c.Refs, journaldRefs[kv[0]]...)
	}
	return append(checks, c)
}

func rsyslogChecks(ctx context.Context, env *Env) ([]report.Check, error) {
	pc, err := packagesCheck(ctx, env, "logging.rsyslog.package", []string{"rsyslog", "logrotate"})
	if err != nil {
		return nil, err
	}
	pc.Refs = []string{"ssg:package_rsyslog_installed", "lynis:LOGG-2130", "lynis:LOGG-2146"}
	en := check("logging.rsyslog.enabled_at_boot", "enabled", enabledWord(unitEnabled(env, "rsyslog.service")))
	en.Refs = []string{"ssg:service_rsyslog_enabled"}
	decls := fileCreateModes(env.Root)
	var list []string
	ok := len(decls) == 1
	for _, d := range decls {
		list = append(list, fmt.Sprintf("%s:%d %s", d.Path, d.Line, d.Mode))
		ok = ok && strictEnough(d.Mode)
	}
	got := "none"
	if len(list) > 0 {
		got = strings.Join(list, ", ")
	}
	fm := report.Check{ID: "logging.rsyslog.file_create_mode", OK: ok, Want: "one $FileCreateMode, 0640 or stricter", Got: got,
		Refs: []string{"ssg:rsyslog_filecreatemode"}}
	checks := []report.Check{pc, en, fm}
	if pc.OK && env.CanRun() {
		c := check("logging.rsyslog.config_test", "ok", "ok")
		if _, err := env.Run.Run(ctx, cmd("rsyslogd", "-N1")); err != nil {
			c = check("logging.rsyslog.config_test", "ok", err.Error())
		}
		c.Refs = []string{"ssg:rsyslog_filecreatemode"} // the file rsyslog reads it from is valid
		checks = append(checks, c)
	}
	return checks, nil
}

func uploadChecks(ctx context.Context, env *Env) ([]report.Check, error) {
	p := env.Profile.Logging
	pc, err := packagesCheck(ctx, env, "logging.upload.package", []string{journalRemotePackage(env.Distro)})
	if err != nil {
		return nil, err
	}
	pc.Refs = []string{"ssg:package_systemd-journal-remote_installed"}
	files := systemdConfFiles(env.Root, "systemd/journal-upload.conf")
	eff := effectiveSystemdConf(files, "Upload")
	url := check("logging.upload.url", p.RemoteURL, eff["URL"].Value)
	url.Refs = []string{"ssg:systemd_journal_upload_url"}
	tlsWant := p.RemoteKeyFile + " " + p.RemoteCertificateFile + " " + p.RemoteTrustedCertificateFile
	tls := check("logging.upload.tls", tlsWant, eff["ServerKeyFile"].Value+" "+eff["ServerCertificateFile"].Value+" "+eff["TrustedCertificateFile"].Value)
	tls.Refs = []string{"ssg:systemd_journal_upload_server_tls"}
	en := check("logging.upload.enabled_at_boot", "enabled", enabledWord(unitEnabled(env, "systemd-journal-upload.service")))
	en.Refs = []string{"ssg:service_systemd-journal-upload_enabled"}
	// This host sends; it must not receive.
	rs := check("logging.upload.remote_socket", "not enabled", map[bool]string{true: "enabled", false: "not enabled"}[unitEnabled(env, "systemd-journal-remote.socket")])
	rs.Refs = []string{"ssg:socket_systemd-journal-remote_disabled"}
	var absent []string
	for _, f := range []string{p.RemoteKeyFile, p.RemoteCertificateFile, p.RemoteTrustedCertificateFile} {
		if !env.Root.Exists(f) {
			absent = append(absent, f)
		}
	}
	files2 := report.Check{ID: "logging.upload.tls_files", OK: len(absent) == 0, Severity: report.Warn, Want: "present", Got: "present",
		Refs: []string{"ssg:systemd_journal_upload_server_tls"}}
	if len(absent) > 0 {
		files2.Got = "missing: " + strings.Join(absent, " ") + " (provide them before the upload can connect, e.g. at first boot)"
	}
	return []report.Check{pc, url, tls, en, rs, files2}, nil
}

// logFilesCheck reports the files under /var/log that are readable by
// others, group-writable, or in a group other than root and adm.
func logFilesCheck(env *Env) report.Check {
	var bad []string
	for _, f := range logFileFixes(env) {
		s := fmt.Sprintf("%s %04o %s", f.Path, f.OldMode.Perm(), f.OldGroup)
		if f.Left != "" {
			s += " (left: " + f.Left + ")"
		}
		bad = append(bad, s)
	}
	c := report.Check{ID: "logging.var_log_files", OK: len(bad) == 0, Want: "mode 0640 or stricter, group root or adm", Got: "all",
		Refs: []string{"ssg:permissions_local_var_log", "ssg:file_groupownerships_var_log"}}
	if len(bad) > 0 {
		c.Got = abbreviate(bad, 10)
		c.Detail = "run the logging step again (hardbake bake --only logging) after other installs; exempt as in CIS: wtmp, btmp, lastlog, history.log, eipp.log.xz"
	}
	return c
}

// loginRecordsBootCheck: the tmpfiles.d line systemd-tmpfiles applies at
// boot for each login record keeps it 0640 or stricter.
func loginRecordsBootCheck(env *Env) report.Check {
	var bad []string
	first := tmpfilesFirstLines(tmpfilesConfs(env.Root), "")
	for _, p := range []string{"/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog"} {
		l, ok := first[p]
		if !ok || len(l.Fields) < 3 || strictEnough(l.Fields[2]) || !strings.ContainsAny(l.Fields[0][:1], "fFz") {
			continue
		}
		bad = append(bad, p+" "+l.Fields[2]+" ("+l.From+")")
	}
	c := report.Check{ID: "logging.login_records_at_boot", OK: len(bad) == 0, Want: "0640 or stricter after each boot", Got: "yes",
		Refs: []string{"ssg:permissions_local_var_log"}}
	if len(bad) > 0 {
		c.Got = "systemd-tmpfiles sets " + strings.Join(bad, ", ")
	}
	return c
}

// Deviations implements Deviator: the CIS rules this profile leaves unmet
// on purpose.
func (l Logging) Deviations(env *Env) []report.Deviation {
	s := l.settings(env)
	var out []report.Deviation
	if s.Journald && s.Rsyslog {
		out = append(out, report.Deviation{Refs: []string{"ssg:journald_disable_forward_to_syslog"},
			Reason: "CIS offers two logging paths and the profile asks for both; logging.syslog: rsyslog takes the rsyslog path, where journald must forward to rsyslog (journald_forward_to_syslog), which excludes ForwardToSyslog=no"})
	}
	if s.Journald && !s.Rsyslog {
		out = append(out, report.Deviation{Refs: []string{"ssg:package_rsyslog_installed", "ssg:service_rsyslog_enabled", "ssg:rsyslog_filecreatemode", "ssg:journald_forward_to_syslog"},
			Reason: "journald only (logging.syslog: journal, or a distribution without rsyslog): no rsyslog, and journald does not forward to a syslog daemon"})
	}
	if env.Distro.ID == "debian" && env.Distro.VersionID == "12" {
		// Verified on a bookworm root: after chmod 0640, the next
		// apt-get install leaves both files 0644 again.
		out = append(out, report.Deviation{Refs: []string{"ssg:permissions_local_var_log"},
			Reason: "apt makes /var/log/apt/history.log and eipp.log.xz 0644 again at every run; CIS and SSG's Debian 13 content exempt them, SSG's Debian 12 content does not (an offline oscap-chroot scan does not look into /var/log's subdirectories and passes the rule; a scan of the running system fails it)"})
	}
	if !env.Profile.Logging.PrivateLoginRecords {
		out = append(out, report.Deviation{Refs: []string{"ssg:permissions_local_var_log"},
			Reason: "logging.private_login_records: false keeps wtmp, btmp and lastlog as the distribution ships them (0664/0660, group utmp writes them); CIS and SSG's Debian 13 content exempt them, SSG's Debian 12 content does not"})
	}
	if !s.Upload {
		out = append(out, report.Deviation{Refs: []string{"ssg:package_systemd-journal-remote_installed", "ssg:systemd_journal_upload_url", "ssg:systemd_journal_upload_server_tls"},
			Reason: "no log server is known when the image is built (logging.remote_url is empty): nothing is uploaded, so no upload daemon is installed pointing nowhere; set logging.remote_url (and the TLS files) to ship the journal"})
	}
	return out
}
