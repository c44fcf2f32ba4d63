package steps

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
)

// Paths of the first-boot machinery (bootstrap/firstboot applies host data
// with them; this step installs them into the image).
const (
	FirstbootUnitName = "hardbake-firstboot.service"
	FirstbootUnit     = "/etc/systemd/system/" + FirstbootUnitName
	FirstbootBinary   = "/usr/local/sbin/hardbake"
	// FirstbootMarker is written last by a successful `hardbake firstboot`;
	// the unit's condition skips it from then on.
	FirstbootMarker = "/var/lib/hardbake/firstboot.done"
	// BakedProfile is the profile of the bake, so first boot re-derives the
	// same sshd settings with only the host's address family and port changed.
	BakedProfile = "/etc/hardbake/profile.yaml"
	// CloudInitFirstboot keeps cloud-init's ssh module from deleting the
	// host keys firstboot made and from adding types the profile left out.
	CloudInitFirstboot = "/etc/cloud/cloud.cfg.d/99-hardbake-firstboot.cfg"
)

// selfExecutable is the running hardbake binary (tests replace it).
var selfExecutable = os.Executable

// Firstboot installs and enables hardbake-firstboot.service, which runs
// `hardbake firstboot` once on every machine started from the image.
type Firstboot struct{}

// Name implements Step.
func (Firstboot) Name() string { return "firstboot" }

// FirstbootUnitText is the unit that runs `binary firstboot`; writer names
// who installed it ("hardbake bake" in images; the native packages pass
// theirs and /usr/bin/hardbake). Ordering, and why:
//   - DefaultDependencies=no + After=local-fs.target: it needs only writable
//     local file systems (useradd, ssh-keygen), not sysinit.target, so it can
//     run before units that are themselves before sysinit.target.
//   - After=cloud-init-local.service: the NoCloud seed has been found and
//     the network configured; Before=cloud-init-network.service (and the
//     older cloud-init.service): our user and host keys exist before
//     cloud-init's users_groups and ssh modules run, and the first boot does
//     not wait for the network. Both names exist only with cloud-init:
//     After=/Before= on a unit that does not exist is ignored, so it works
//     without cloud-init.
//   - Before= every sshd entry point: ssh.service (Debian, Ubuntu),
//     sshd.service (Fedora, RHEL, Arch), the socket units, and the host-key
//     generators (Debian 13's sshd-keygen.service, Fedora's
//     sshd-keygen@TYPE.service), so our key types win.
//   - It never waits on a job of a later unit (see bootstrap/firstboot
//     applyStep), so it cannot deadlock the boot.
func FirstbootUnitText(binary, writer string) string {
	return `# Written by ` + writer + `: applies this machine's host data once, before sshd
# starts (see ` + binary + ` firstboot -h). Runs until host data was
# applied; /var/lib/hardbake/firstboot.done records that.
[Unit]
Description=hardbake first boot: admin user, SSH keys and settings, host keys, host name
ConditionPathExists=!` + FirstbootMarker + `
DefaultDependencies=no
Conflicts=shutdown.target
After=local-fs.target systemd-remount-fs.service cloud-init-local.service
Before=cloud-init-network.service cloud-init.service systemd-user-sessions.service shutdown.target
Before=ssh.service sshd.service ssh.socket sshd.socket
Before=sshd-keygen.service sshd-keygen.target sshd-keygen@ed25519.service sshd-keygen@ecdsa.service sshd-keygen@rsa.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=` + binary + ` firstboot
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=10min

[Install]
WantedBy=multi-user.target
`
}

func cloudInitFirstbootText(types []string) string {
	return "# Written by hardbake bake: hardbake-firstboot makes the SSH host keys\n" +
		"# (profile ssh.host_key_types) before cloud-init's ssh module runs.\n" +
		"ssh_deletekeys: false\n" +
		"ssh_genkeytypes: [" + strings.Join(types, ", ") + "]\n"
}

// binaryAction plans copying the running binary when the image's differs.
// Its kind is "copy": the plan names it, but a binary has no diff.
func binaryAction(env *Env) (*Action, []byte, error) {
	exe, err := selfExecutable()
	if err != nil {
		return nil, nil, fmt.Errorf("finding the running hardbake binary: %w", err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		return nil, nil, err
	}
	if old, err := env.Root.ReadFile(FirstbootBinary); err == nil && bytes.Equal(old, data) {
		return nil, nil, nil
	}
	sum := sha256.Sum256(data)
	return &Action{Kind: "copy", Path: FirstbootBinary, Mode: 0o755, Owner: root.RootOwner,
		Summary: fmt.Sprintf("hardbake binary for the first-boot unit (%d bytes, sha256 %x)", len(data), sum[:8])}, data, nil
}

func (f Firstboot) plan(ctx context.Context, env *Env) ([]Action, []byte, error) {
	var actions []Action
	bin, data, err := binaryAction(env)
	if err != nil {
		return nil, nil, err
	}
	actions = appendAction(actions, bin)
	prof, err := profile.Baked(env.Profile)
	if err != nil {
		return nil, nil, err
	}
	writes := []struct {
		path, text, summary string
		when                bool
	}{
		{BakedProfile, string(prof), "the baked profile, for first boot", true},
		{FirstbootUnit, FirstbootUnitText(FirstbootBinary, "hardbake bake"), "first-boot unit", env.Distro.ServiceManager == distro.Systemd},
		{CloudInitFirstboot, cloudInitFirstbootText(env.Profile.SSH.HostKeyTypes), "keep cloud-init from replacing the host keys", env.Root.Exists("/etc/cloud/cloud.cfg.d")},
	}
	for _, w := range writes {
		if !w.when {
			continue
		}
		a, err := WriteFile(env.Root, w.path, []byte(w.text), 0o644, w.summary)
		if err != nil {
			return nil, nil, err
		}
		actions = appendAction(actions, a)
	}
	// A marker baked into the image would make every host skip first boot.
	a, err := RemoveFile(env.Root, FirstbootMarker, "re-arm first boot for machines started from this image")
	if err != nil {
		return nil, nil, err
	}
	actions = appendAction(actions, a)
	if env.Distro.ServiceManager == distro.Systemd {
		actions = appendAction(actions, enableAction(env, "run hardbake firstboot at boot", FirstbootUnitName))
	}
	if env.Distro.ServiceManager == distro.SysV {
		sysv, err := firstbootSysVActions(env)
		if err != nil {
			return nil, nil, err
		}
		actions = append(actions, sysv...)
	}
	return actions, data, nil
}

// Plan implements Step.
func (f Firstboot) Plan(ctx context.Context, env *Env) ([]Action, error) {
	actions, _, err := f.plan(ctx, env)
	return actions, err
}

// Apply implements Step.
func (f Firstboot) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	if !env.Root.Writable() {
		return nil, root.ErrReadOnly
	}
	actions, data, err := f.plan(ctx, env)
	if err != nil {
		return nil, err
	}
	return executeWithBinary(ctx, env, actions, data)
}

// Check implements Step.
func (f Firstboot) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	bin := "missing"
	if fi, err := env.Root.Stat(FirstbootBinary); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		bin = "present"
	}
	checks := []report.Check{check("firstboot.binary", "present", bin)}
	if env.Distro.ServiceManager == distro.SysV {
		return append(checks, firstbootSysVChecks(env)...), nil
	}
	if env.Distro.ServiceManager != distro.Systemd {
		c := check("firstboot.unit", "systemd unit", "no systemd: call `hardbake firstboot` from cloud-init bootcmd or an init script")
		c.Severity = report.Warn
		return append(checks, c), nil
	}
	return append(checks,
		unitFileCheck(env, "firstboot.unit", FirstbootUnit, FirstbootUnitText(FirstbootBinary, "hardbake bake")),
		check("firstboot.enabled", "enabled", enabledWord(unitEnabled(env, FirstbootUnitName)))), nil
}
