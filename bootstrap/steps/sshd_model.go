package steps

import (
	"context"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/sshcrypto"
	"github.com/hardbake/hardbake/bootstrap/sshdconfig"
)

// SSHDModel is a run's one view of the target's sshd. The ssh step, the
// firewall, fail2ban and first boot all read it instead of each asking sshd
// again, and each question is asked at most once per run:
//   - what sshd is: `sshd -V`, or the package database of an offline image;
//   - which algorithms it accepts of those the profile chooses: one
//     `sshd -t -o Keyword=list` (more only when it refuses a name);
//   - what it makes of the configuration on disk: `sshd -T`. Writing a file
//     under /etc/ssh forgets this answer (Execute), and the ssh step's
//     validation of the files it wrote gives the new one.
//
// Every copy of an Env made after StartRun shares the model (first boot
// copies the Env to give the ssh step the host's port; the crypto choice
// depends only on profile fields that copy keeps).
type SSHDModel struct {
	version   *versionAnswer
	crypto    *cryptoAnswer
	effective *effectiveAnswer
}

type versionAnswer struct {
	v      sshcrypto.Version
	source string // "sshd -V", the package record, or why it is unknown
	ok     bool
}

type cryptoAnswer struct {
	c   sshCrypto
	err error
}

type effectiveAnswer struct {
	settings map[string][]string
	source   string // "sshd -T" or "computed from the files"
	err      error
}

// StartRun gives env an empty sshd model for a new run.
func (e *Env) StartRun() { e.sshd = &SSHDModel{} }

// sshdModel is env's model, made on first use where no run started one
// (a test calling a step directly).
func (e *Env) sshdModel() *SSHDModel {
	if e.sshd == nil {
		e.sshd = &SSHDModel{}
	}
	return e.sshd
}

// forgetEffective drops the `sshd -T` answer.
func (m *SSHDModel) forgetEffective() { m.effective = nil }

// wrote is told of every file Execute writes or removes: one under /etc/ssh
// (the configuration, its drop-ins, host keys) makes sshd's answer old.
func (m *SSHDModel) wrote(p string) {
	if strings.HasPrefix(p, "/etc/ssh/") {
		m.forgetEffective()
	}
}

// sshdVersion is the target's OpenSSH version: `sshd -V` where the target's
// sshd can run, the package database otherwise. When neither answers, the
// second result says why.
func sshdVersion(ctx context.Context, env *Env) (sshcrypto.Version, string, bool) {
	m := env.sshdModel()
	if m.version == nil {
		a := &versionAnswer{}
		if hasSSHD(env) {
			if banner, ok := sshdBanner(ctx, env); ok {
				a.v, _ = sshcrypto.ParseBanner(banner)
				a.source, a.ok = "sshd -V", true
			}
		}
		if !a.ok {
			a.v, a.source, a.ok = packageSSHDVersion(env.Root)
		}
		m.version = a
	}
	return m.version.v, m.version.source, m.version.ok
}

// KeepBakedCrypto makes the run's choice of algorithms the one the image's
// files already hold, without asking sshd: first boot changes only the
// host's port and address family, and the bake chose these lists for this
// image's sshd and had them accepted. The ssh step's one `sshd -T` still
// judges the result. False (and nothing changes) when the files cannot be
// read or the profile has crypto off.
func (e *Env) KeepBakedCrypto() bool {
	if p := e.Profile.SSH.Crypto; p == sshcrypto.Off || p == "" {
		return false
	}
	eff, err := sshdconfig.Load(e.Root, SSHDConfig)
	if err != nil {
		return false
	}
	c := sshCrypto{Source: "as baked", Lists: sshcrypto.Lists{}}
	for _, kind := range sshcrypto.KindOrder {
		if v, ok := eff.Get(strings.ToLower(kind)); ok && len(v.Args) > 0 {
			c.Lists[kind] = strings.Split(v.Args[0], ",")
		}
	}
	if len(c.Lists) == 0 {
		c.Skipped = "the baked configuration sets no algorithms"
	}
	e.sshdModel().crypto = &cryptoAnswer{c: c}
	return true
}

// cryptoFor is the run's choice of algorithms (chooseCrypto), made once.
func cryptoFor(ctx context.Context, env *Env) (sshCrypto, error) {
	m := env.sshdModel()
	if m.crypto == nil {
		c, err := chooseCrypto(ctx, env)
		m.crypto = &cryptoAnswer{c, err}
	}
	return m.crypto.c, m.crypto.err
}

// effectiveSSHD returns the sshd settings as sshd itself reports them
// (`sshd -T`) where the target's sshd can run, and otherwise as computed from
// the files by the offline evaluator (audit of a disk image). The second
// result names which one was used.
func effectiveSSHD(ctx context.Context, env *Env) (map[string][]string, string, error) {
	m := env.sshdModel()
	if m.effective == nil {
		a := &effectiveAnswer{}
		if hasSSHD(env) {
			out, err := sshdTest(ctx, env, "-T")
			a.settings, a.source, a.err = parseSSHDT(out), "sshd -T", err
		} else {
			eff, err := sshdconfig.Load(env.Root, SSHDConfig)
			if err == nil {
				a.settings = offlineSSHD(eff)
			}
			a.source, a.err = "computed from the files", err
		}
		m.effective = a
	}
	a := m.effective
	if a.err != nil {
		return nil, "", a.err
	}
	return a.settings, a.source, nil
}

// validateSSHD is the ssh step's check of the files it wrote: `sshd -T`
// accepts them, and what it printed is the model's answer from now on.
func validateSSHD(ctx context.Context, env *Env) error {
	out, err := sshdTest(ctx, env, "-T")
	if err != nil {
		return err
	}
	env.sshdModel().effective = &effectiveAnswer{settings: parseSSHDT(out), source: "sshd -T"}
	return nil
}
