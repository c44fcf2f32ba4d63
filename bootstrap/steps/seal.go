package steps

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
)

// Seal makes an image generic, so every machine started from it is a new
// host: no SSH host keys (first boot makes new ones), an empty machine-id
// (kept as a file: systemd fills it at first boot), no logs, journals, shell
// histories, temp files or random seed of the build, cloud-init's state
// cleaned, and optionally the build user removed. It runs only when asked
// (bake --seal, hardbake seal, seal.on_bake).
type Seal struct{}

// Name implements Step.
func (Seal) Name() string { return "seal" }

// OptIn implements OptIn: seal is never part of a plain bake or audit.
func (Seal) OptIn() bool { return true }

// Random seeds saved by the build machine: systemd-random-seed's, and the
// urandom init script's on SysV.
const (
	systemdRandomSeed = "/var/lib/systemd/random-seed"
	sysvRandomSeed    = "/var/lib/urandom/random-seed"
)

// buildUserUnit removes the build user at the image's first boot when it
// cannot be removed now (Packer is logged in as that user while sealing).
const buildUserUnit = "/etc/systemd/system/hardbake-remove-build-user.service"

func (s Seal) ops(env *Env) []sealOp {
	r := env.Root
	var ops []sealOp
	// Without --logs: the log pass below empties cloud-init's logs and
	// keeps them, with the mode and group the logging step gave them. Once
	// removed, cloud-init would create cloud-init-output.log world-readable
	// (0644, its service's umask) at first boot.
	if _, ok := lookupInRoot(env, "cloud-init"); ok && hasCloudInitState(env) {
		ops = append(ops, sealOp{Kind: "run", Cmd: []string{"cloud-init", "clean"}, Why: "forget this instance so cloud-init runs again at first boot"})
	}
	keys, _ := r.Glob("/etc/ssh/ssh_host_*")
	for _, k := range keys {
		ops = append(ops, sealOp{Kind: "remove", Path: k, Why: "SSH host key: each machine makes its own at first boot"})
	}
	if !env.Profile.Seal.KeepHostname {
		ops = append(ops, hostnameOps(r, env.Live())...)
	}
	if env.Distro.ServiceManager == distro.Systemd {
		if data, err := r.ReadFile("/etc/machine-id"); err != nil || len(data) > 0 {
			ops = append(ops, sealOp{Kind: "truncate", Path: "/etc/machine-id", Why: "empty machine-id: systemd generates one at first boot"})
		}
	} else if fi, err := r.Lstat("/etc/machine-id"); err == nil && fi.Mode().IsRegular() {
		// Without systemd nothing fills an empty file at boot (and an empty
		// one is an invalid id to D-Bus): remove it instead; D-Bus's init
		// script makes a new id (dbus-uuidgen --ensure) where D-Bus is used.
		ops = append(ops, sealOp{Kind: "remove", Path: "/etc/machine-id", Why: "machine-id: no systemd fills an empty one, so none at all"})
	}
	if fi, err := r.Lstat("/var/lib/dbus/machine-id"); err == nil && fi.Mode().IsRegular() {
		ops = append(ops, sealOp{Kind: "remove", Path: "/var/lib/dbus/machine-id", Why: "D-Bus copy of the machine-id"})
	}
	if r.Exists(systemdRandomSeed) {
		// On a live build VM systemd-random-seed.service writes the file
		// again when it stops, i.e. at the shutdown that ends the build (the
		// e2e packer build's offline audit found it back). Stopping it now
		// saves the seed once; the removal below is then final.
		if env.Live() && env.Distro.ServiceManager == distro.Systemd &&
			(r.Exists("/lib/systemd/system/systemd-random-seed.service") || r.Exists("/usr/lib/systemd/system/systemd-random-seed.service")) {
			ops = append(ops, sealOp{Kind: "run", Cmd: []string{"systemctl", "stop", "systemd-random-seed.service"}, Why: "save the random seed now, not again at shutdown"})
		}
		ops = append(ops, sealOp{Kind: "remove", Path: systemdRandomSeed, Why: "random seed must not be shared by machines"})
	}
	// SysV's urandom init script keeps its own seed (and makes a new one at
	// the next boot when it is missing). On a live SysV build VM its stop at
	// shutdown writes the file again: seal such images offline (--root).
	if r.Exists(sysvRandomSeed) {
		ops = append(ops, sealOp{Kind: "remove", Path: sysvRandomSeed, Why: "random seed (SysV urandom) must not be shared by machines"})
	}
	walkFiles(r, "/var/log", func(p string, info fs.FileInfo) {
		if op := logOp(p, info.Size()); op != nil && !kept(p, env.Keep) {
			ops = append(ops, *op)
		}
	})
	homes := []string{"/root"}
	if entries, err := r.ReadDir("/home"); err == nil {
		for _, e := range entries {
			if e.IsDir() {
				homes = append(homes, "/home/"+e.Name())
			}
		}
	}
	for _, h := range homes {
		for _, f := range shellHistories {
			if fi, err := r.Lstat(path.Join(h, f)); err == nil && !fi.IsDir() {
				ops = append(ops, sealOp{Kind: "remove", Path: path.Join(h, f), Why: "shell history"})
			}
		}
	}
	for _, dir := range []string{"/tmp", "/var/tmp"} {
		entries, _ := r.ReadDir(dir)
		for _, e := range entries {
			p := path.Join(dir, e.Name())
			// Running services' private /tmp directories stay on a live build VM.
			if kept(p, env.Keep) || (env.Live() && strings.HasPrefix(e.Name(), "systemd-private-")) {
				continue
			}
			ops = append(ops, sealOp{Kind: "removeall", Path: p, Why: "temporary file of the build"})
		}
	}
	debs, _ := r.Glob("/var/cache/apt/archives/*.deb")
	for _, d := range debs {
		ops = append(ops, sealOp{Kind: "remove", Path: d, Why: "downloaded package"})
	}
	return append(ops, s.userOps(env)...)
}

func lookupInRoot(env *Env, name string) (string, bool) {
	if !env.CanRun() {
		return "", false
	}
	for _, dir := range []string{"/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/", "/usr/local/bin/"} {
		if fi, err := env.Root.Stat(dir + name); err == nil && fi.Mode().IsRegular() {
			return dir + name, true
		}
	}
	return "", false
}

// hasCloudInitState: cloud-init has run (or left logs) in this image.
func hasCloudInitState(env *Env) bool {
	entries, _ := env.Root.ReadDir("/var/lib/cloud")
	logs, _ := env.Root.Glob("/var/log/cloud-init*")
	return len(entries) > 0 || len(logs) > 0
}

// userOps removes the profile's build user. userdel refuses while the user
// has processes, which is the case when Packer runs the bake over SSH as
// that user: then its keys are removed and the account locked now (an open
// session continues, no new one can start), and a oneshot unit deletes the
// account at the image's first boot.
func (Seal) userOps(env *Env) []sealOp {
	name := env.Profile.Seal.RemoveUser
	if name == "" {
		return nil
	}
	acct, ok := passwdEntry(env, name)
	if !ok {
		return nil
	}
	if !env.Live() || !userHasProcesses("/proc", acct.UID) {
		ops := []sealOp{{Kind: "run", Cmd: []string{"userdel", "-r", name}, Why: "remove the build user " + name}}
		// userdel rewrites passwd-, shadow-, group- and gshadow- with the
		// live files' modes; the files step's modes go back on now.
		for _, c := range accountBackupFixCmds(env) {
			ops = append(ops, sealOp{Kind: "run", Cmd: c, Why: c[len(c)-1] + ": the files step's " + c[0] + " again (userdel rewrote it)"})
		}
		return ops
	}
	return deferredUserRemoval(env, &acct)
}

// Account is an entry of /etc/passwd.
type Account = distro.PasswdEntry

// deferredUserRemoval removes a build user that is still logged in (Packer's
// session runs the seal) at the image's first boot instead: a systemd unit,
// or on SysV an LSB init script ordered before ssh; either removes itself.
func deferredUserRemoval(env *Env, acct *Account) []sealOp {
	if buildUserRemovalPending(env) {
		return nil
	}
	name := acct.Name
	ops := []sealOp{
		{Kind: "removeall", Path: path.Join(acct.Home, ".ssh"), Why: "the build user's keys"},
		// Password locked, but no account expiry: an expired account fails
		// sudo's PAM account check even with NOPASSWD, and Packer's
		// shutdown_command ("sudo -n shutdown -P now") runs as this user after
		// the seal — the e2e packer build hung there. With its keys gone and
		// its password locked, no new login is possible anyway.
		{Kind: "run", Cmd: []string{"usermod", "--lock", name}, Why: "lock the build user (its session is still open)"},
	}
	if env.Distro.ServiceManager == distro.SysV {
		return append(ops,
			sealOp{Kind: "write", Path: buildUserScript, Data: []byte(buildUserScriptText(name)), Mode: 0o755, Why: "remove the build user at first boot"},
			sealOp{Kind: "run", Cmd: []string{"update-rc.d", path.Base(buildUserScript), "defaults"}, Why: "remove the build user at first boot"})
	}
	return append(ops,
		sealOp{Kind: "write", Path: buildUserUnit, Data: []byte(buildUserUnitText(name)), Why: "remove the build user at first boot"},
		sealOp{Kind: "run", Cmd: []string{"systemctl", "enable", path.Base(buildUserUnit)}, Why: "remove the build user at first boot"})
}

// buildUserRemovalPending: a unit or init script will remove the build user.
func buildUserRemovalPending(env *Env) bool {
	return env.Root.Exists(buildUserUnit) || env.Root.Exists(buildUserScript)
}

// buildUserScript is deferredUserRemoval's init script on SysV.
const buildUserScript = "/etc/init.d/hardbake-remove-build-user"

func buildUserScriptText(name string) string {
	return fmt.Sprintf(`#!/bin/sh
### BEGIN INIT INFO
# Provides:          %[2]s
# Required-Start:    $local_fs
# Required-Stop:
# X-Start-Before:    ssh
# Default-Start:     2 3 4 5
# Default-Stop:
# Short-Description: remove the image build user %[1]s
### END INIT INFO
# Written by hardbake seal: the build user %[1]s was logged in while the image
# was sealed, so it is removed at the first boot of the image instead.
case "$1" in
start)
	userdel -r %[1]s
	update-rc.d -f %[2]s remove
	rm -f %[3]s
	;;
esac
exit 0
`, name, path.Base(buildUserScript), buildUserScript)
}

// hostnameOps name the image UnnamedHost instead of the build machine's
// name, and drop that name's 127.0.1.1 line from /etc/hosts (firstboot
// writes the machine's own when host data names it). A live build machine
// takes the name while it runs, too: sudo resolves the running name on
// every command, and with its line gone would warn "unable to resolve host"
// on each one until the machine shuts down (Packer's shutdown command).
func hostnameOps(r *root.Root, live bool) []sealOp {
	data, err := r.ReadFile("/etc/hostname")
	if err != nil {
		return nil
	}
	name := strings.TrimSpace(string(data))
	if name == "" || name == UnnamedHost {
		return nil
	}
	// /etc/hosts first: a run killed between the two files finds the old
	// name in /etc/hostname again and finishes; the other order would leave
	// the build machine's 127.0.1.1 line for good (the rerun sees the host
	// already unnamed and stops here).
	var ops []sealOp
	if hosts, err := r.ReadFile("/etc/hosts"); err == nil {
		if text, ok := hostsWithoutName(string(hosts), name); ok {
			ops = append(ops, sealOp{Kind: "write", Path: "/etc/hosts", Data: []byte(text), Why: "drop the build machine's 127.0.1.1 " + name + " line"})
		}
	}
	ops = append(ops, sealOp{Kind: "write", Path: "/etc/hostname", Data: []byte(UnnamedHost + "\n"),
		Why: "host name " + UnnamedHost + " instead of the build machine's " + name + ": each machine is named at first boot"})
	if live {
		ops = append(ops, sealOp{Kind: "sethostname", Data: []byte(UnnamedHost), Why: "running host name " + UnnamedHost + " until shutdown, as /etc/hostname says"})
	}
	return ops
}

func buildUserUnitText(name string) string {
	return fmt.Sprintf(`# Written by hardbake seal: the build user %[1]s was logged in while the image
# was sealed, so it is removed at the first boot of the image instead.
[Unit]
Description=Remove the image build user %[1]s
Before=ssh.service sshd.service systemd-user-sessions.service

[Service]
Type=oneshot
ExecStart=-/usr/sbin/userdel -r %[1]s
ExecStartPost=/bin/systemctl disable %[2]s
ExecStartPost=/bin/rm -f %[3]s

[Install]
WantedBy=multi-user.target
`, name, path.Base(buildUserUnit), buildUserUnit)
}

// userHasProcesses scans /proc/*/status for the real uid.
func userHasProcesses(proc string, uid int) bool {
	entries, _ := os.ReadDir(proc)
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		data, err := os.ReadFile(path.Join(proc, e.Name(), "status"))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(l, "Uid:"); ok {
				if f := strings.Fields(v); len(f) > 0 && f[0] == strconv.Itoa(uid) {
					return true
				}
			}
		}
	}
	return false
}

func (op sealOp) action(env *Env) Action {
	a := Action{Path: op.Path, Summary: op.Why}
	switch op.Kind {
	case "run":
		a.Kind = "run"
		a.Cmd = cmd(op.Cmd[0], op.Cmd[1:]...)
	case "truncate":
		a.Kind, a.Data, a.Summary = "write", []byte{}, "empty: "+op.Why
	case "write":
		a.Kind, a.Data, a.Mode = "write", op.Data, op.Mode
	case "sethostname":
		a.Kind = "run"
		a.Cmd = cmd("sethostname", string(op.Data))
	default:
		a.Kind = "remove"
	}
	return a
}

// Plan implements Step. Diffs of logs and keys are not shown: only names.
func (s Seal) Plan(ctx context.Context, env *Env) ([]Action, error) {
	var actions []Action
	for _, op := range s.ops(env) {
		actions = append(actions, op.action(env))
	}
	return actions, nil
}

// Apply implements Step. Sealing is not rolled back: it only deletes what a
// new machine must not inherit, so there is nothing worth restoring.
func (s Seal) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	if !env.Root.Writable() {
		return nil, root.ErrReadOnly
	}
	var changes []report.Change
	for _, op := range s.ops(env) {
		var err error
		switch op.Kind {
		case "run":
			_, err = env.Run.Run(ctx, cmd(op.Cmd[0], op.Cmd[1:]...))
		case "truncate":
			// An existing file keeps its mode and owner. One an earlier
			// op removed stays removed.
			if !env.Root.Exists(op.Path) {
				continue
			}
			err = env.Root.WriteFile(op.Path, nil, 0o444, root.RootOwner)
		case "write":
			mode := op.Mode
			if mode == 0 {
				mode = 0o644
			}
			err = env.Root.WriteFile(op.Path, op.Data, mode, root.RootOwner)
		case "removeall":
			err = env.Root.RemoveAll(op.Path)
		case "sethostname":
			c, err := SetRunningHostname(env, string(op.Data))
			if err != nil {
				return changes, fmt.Errorf("seal: sethostname %s: %w", op.Data, err)
			}
			if c != nil {
				c.Summary = op.Why
				changes = append(changes, *c)
			}
			continue
		default:
			err = env.Root.Remove(op.Path)
		}
		if err != nil {
			return changes, fmt.Errorf("seal: %s %s: %w", op.Kind, op.Path+strings.Join(op.Cmd, " "), err)
		}
		c := report.Change{Kind: op.action(env).Kind, Path: op.Path, Summary: op.Why}
		if op.Kind == "run" {
			c.Command = strings.Join(op.Cmd, " ")
		}
		changes = append(changes, c)
	}
	if len(changes) > 0 {
		env.logf("  sealed: %d item(s) removed or emptied", len(changes))
	}
	return changes, nil
}

// Check implements Step.
func (s Seal) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	keys, _ := env.Root.Glob("/etc/ssh/ssh_host_*")
	mid, err := env.Root.ReadFile("/etc/machine-id")
	midState := "empty"
	switch {
	case err != nil:
		midState = "missing"
	case len(mid) > 0:
		midState = "set"
	}
	midWant := "empty"
	if env.Distro.ServiceManager != distro.Systemd {
		midWant = "missing" // nothing but systemd fills an empty file
	}
	seed := env.Root.Exists(systemdRandomSeed) || env.Root.Exists(sysvRandomSeed)
	checks := []report.Check{
		check("seal.ssh_host_keys", "none", map[bool]string{true: "none", false: strings.Join(keys, " ")}[len(keys) == 0]),
		check("seal.machine_id", midWant, midState),
		check("seal.random_seed", "absent", map[bool]string{true: "present", false: "absent"}[seed]),
		hostnameCheck(env),
	}
	if name := env.Profile.Seal.RemoveUser; name != "" {
		state := "absent"
		if _, ok := passwdEntry(env, name); ok {
			state = "present"
			if buildUserRemovalPending(env) {
				state = "removed at first boot"
			}
		}
		c := check("seal.build_user", "absent", state)
		c.OK = state != "present"
		checks = append(checks, c)
		checks = append(checks, check("seal.build_user_keys", "none", noneOr(buildUserKeys(env, name))))
	}
	return append(checks, check("seal.shell_history", "none", noneOr(shellHistoryFiles(env.Root)))), nil
}

func noneOr(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, " ")
}

// shellHistoryFiles lists the histories seal removes that are present.
func shellHistoryFiles(r *root.Root) []string {
	homes := []string{"/root"}
	if entries, err := r.ReadDir("/home"); err == nil {
		for _, e := range entries {
			if e.IsDir() {
				homes = append(homes, "/home/"+e.Name())
			}
		}
	}
	var out []string
	for _, h := range homes {
		for _, f := range shellHistories {
			if fi, err := r.Lstat(path.Join(h, f)); err == nil && !fi.IsDir() {
				out = append(out, path.Join(h, f))
			}
		}
	}
	return out
}

// buildUserKeys lists the build user's SSH keys left in the image: with
// them, whoever built the image could log in to every machine made from it.
func buildUserKeys(env *Env, name string) []string {
	acct, ok := passwdEntry(env, name)
	if !ok {
		return nil
	}
	var out []string
	for _, k := range []string{"authorized_keys", "authorized_keys2"} {
		p := path.Join(acct.Home, ".ssh", k)
		if fi, err := env.Root.Lstat(p); err == nil && !fi.IsDir() {
			out = append(out, p)
		}
	}
	return out
}

// passwdEntry is name's entry in the root's /etc/passwd: the first one, as
// getpwnam(3) and userdel find it.
func passwdEntry(env *Env, name string) (Account, bool) {
	passwd, _ := env.Root.ReadFile("/etc/passwd")
	return distro.LookupUser(string(passwd), name)
}

// hostnameCheck: a sealed image has no machine's name (unless the profile
// keeps the build host's).
func hostnameCheck(env *Env) report.Check {
	data, _ := env.Root.ReadFile("/etc/hostname")
	got := strings.TrimSpace(string(data))
	if got == "" {
		got = UnnamedHost // systemd and Debian's hostname.sh fall back to it
	}
	if env.Profile.Seal.KeepHostname {
		c := check("seal.hostname", got, got)
		c.Detail = "kept (seal.keep_hostname)"
		return c
	}
	return check("seal.hostname", UnnamedHost, got)
}
