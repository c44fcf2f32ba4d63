package steps

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/sshcrypto"
)

// sshCrypto is the ssh step's choice of algorithms for one target.
//
// On Fedora and the RHEL family sshd_config starts with
// `Include /etc/ssh/sshd_config.d/*.conf`, and 50-redhat.conf there Includes
// the crypto-policies back-end (/etc/crypto-policies/back-ends/opensshserver.config).
// Our 00-hardbake.conf is read before 50-redhat.conf and OpenSSH keeps the
// first value, so for the four keywords we write ours win; everything else
// the policy sets (PubkeyAcceptedAlgorithms, RequiredRSASize,
// GSSAPIKexAlgorithms, CASignatureAlgorithms) and every other program's
// crypto stay with the system policy. `ssh.crypto: off` leaves sshd to it.
type sshCrypto struct {
	Version sshcrypto.Version
	Source  string // where the version came from
	Lists   sshcrypto.Lists
	// Skipped says why no algorithm lines are written (crypto off, version unknown).
	Skipped string
}

// chooseCrypto chooses the algorithm lists for the target's OpenSSH version
// and, where the target's sshd can run, keeps only what a trial `sshd -t -o
// Keyword=list` accepts: distributions backport and patch, and a name sshd
// does not know stops it from starting.
func chooseCrypto(ctx context.Context, env *Env) (sshCrypto, error) {
	p := env.Profile.SSH
	if p.Crypto == sshcrypto.Off || p.Crypto == "" {
		return sshCrypto{Skipped: "ssh.crypto is off"}, nil
	}
	v, source, ok := sshdVersion(ctx, env)
	if !ok {
		return sshCrypto{Skipped: source}, nil
	}
	c := sshCrypto{Version: v, Source: source, Lists: sshcrypto.Choose(p.Crypto, v, p.HostKeyTypes, p.CryptoRequire)}
	if hasSSHD(env) {
		confirmed, err := confirmLists(ctx, env, c.Lists)
		if err != nil {
			return c, err
		}
		c.Lists = confirmed
	}
	for _, name := range p.CryptoRequire {
		a, _ := sshcrypto.Lookup(name)
		if !slices.Contains(c.Lists[a.Kind], name) {
			return c, fmt.Errorf("%w: ssh.crypto_require: %s is not known to the target's OpenSSH %s (%s)", bootstrap.ErrInvalid, name, v, source)
		}
	}
	return c, nil
}

// directives are the sshd lines for the chosen algorithms, and the HostKey
// files of the profile's key types (HostKey accumulates across files, so
// these only help where nothing earlier lists other keys; HostKeyAlgorithms
// is what decides what is offered).
func (c sshCrypto) directives(p profile.SSH) []string {
	if c.Skipped != "" {
		return nil
	}
	var d []string
	for _, kind := range sshcrypto.KindOrder {
		if len(c.Lists[kind]) > 0 {
			d = append(d, kind+" "+strings.Join(c.Lists[kind], ","))
		}
	}
	for _, t := range p.HostKeyTypes {
		d = append(d, "HostKey /etc/ssh/ssh_host_"+t+"_key")
	}
	return d
}

// finding is the warning audit reports when no algorithms could be chosen.
func (c sshCrypto) finding(p profile.SSH) []report.Check {
	if c.Skipped == "" || p.Crypto == sshcrypto.Off {
		return nil
	}
	return []report.Check{{ID: "ssh.crypto", OK: false, Severity: report.Warn,
		Want: p.Crypto + " algorithms for the target's OpenSSH", Got: "not set: " + c.Skipped}}
}

// confirmLists tries the lists with the target's sshd: all of them in one
// `sshd -t` (each sshd start loads every host key; one is the common case),
// and only when that fails for an unknown name each list alone; a list it
// rejects for an unknown name is cut down to the names it accepts one by one.
func confirmLists(ctx context.Context, env *Env, lists sshcrypto.Lists) (sshcrypto.Lists, error) {
	try := func(kind string, algs []string) error {
		_, err := sshdTest(ctx, env, "-t", "-o", kind+"="+strings.Join(algs, ","))
		return err
	}
	all := probeArgs(lists)
	if len(all) == 0 {
		return sshcrypto.Lists{}, nil
	}
	if _, err := sshdTest(ctx, env, "-t", all...); err == nil {
		return nonEmpty(lists), nil
	} else if !unknownAlgorithm(err) {
		return lists, nil // as below
	}
	out := sshcrypto.Lists{}
	for _, kind := range sshcrypto.KindOrder {
		algs := lists[kind]
		if len(algs) == 0 {
			continue
		}
		err := try(kind, algs)
		if err == nil {
			out[kind] = algs
			continue
		}
		if !unknownAlgorithm(err) {
			// The configuration already on disk is what sshd rejects: keep
			// the version table's choice and let the step's final `sshd -t`
			// report it and restore the files.
			return lists, nil
		}
		for _, a := range algs {
			if try(kind, []string{a}) == nil {
				out[kind] = append(out[kind], a)
			}
		}
	}
	return out, nil
}

// probeArgs are `-o Keyword=list` arguments for the non-empty lists.
func probeArgs(lists sshcrypto.Lists) []string {
	var args []string
	for _, kind := range sshcrypto.KindOrder {
		if algs := lists[kind]; len(algs) > 0 {
			args = append(args, "-o", kind+"="+strings.Join(algs, ","))
		}
	}
	return args
}

// nonEmpty is lists without its empty keywords.
func nonEmpty(lists sshcrypto.Lists) sshcrypto.Lists {
	out := sshcrypto.Lists{}
	for kind, algs := range lists {
		if len(algs) > 0 {
			out[kind] = algs
		}
	}
	return out
}

// unknownAlgorithm recognises sshd's messages for a name it does not know
// ("Bad SSH2 KexAlgorithms", "Bad SSH2 cipher spec", "Bad SSH2 mac spec",
// "Bad key types", "Unsupported KEX algorithm").
func unknownAlgorithm(err error) bool {
	s := err.Error()
	return strings.Contains(s, "Bad SSH2") || strings.Contains(s, "Bad key types") || strings.Contains(s, "Unsupported")
}

// sshdBanner asks the target's sshd for its `sshd -V` line; false when it
// holds no OpenSSH version.
func sshdBanner(ctx context.Context, env *Env) (string, bool) {
	res, _ := env.Run.Run(ctx, runner.Cmd{Name: SSHDBinary, Args: []string{"-V"}})
	banner := strings.TrimSpace(string(res.Stderr) + string(res.Stdout))
	_, ok := sshcrypto.ParseBanner(banner)
	return banner, ok
}

// packageSSHDVersion reads the installed OpenSSH server's version from dpkg's
// status file or pacman's local database. The rpm database is a BerkeleyDB
// or SQLite file hardbake does not read.
func packageSSHDVersion(r *root.Root) (sshcrypto.Version, string, bool) {
	if data, err := r.ReadFile("/var/lib/dpkg/status"); err == nil {
		if ver := dpkgVersion(data, "openssh-server"); ver != "" {
			if v, ok := sshcrypto.ParsePackage(ver); ok {
				return v, "dpkg status: openssh-server " + ver, true
			}
			return sshcrypto.Version{}, "dpkg status: openssh-server version " + ver + " is not an OpenSSH version", false
		}
	}
	if descs, _ := r.Glob("/var/lib/pacman/local/openssh-*/desc"); len(descs) > 0 {
		for _, d := range descs {
			data, err := r.ReadFile(d)
			if err != nil {
				continue
			}
			fields := pacmanDesc(data)
			if fields["%NAME%"] != "openssh" {
				continue
			}
			if v, ok := sshcrypto.ParsePackage(fields["%VERSION%"]); ok {
				return v, "pacman: openssh " + fields["%VERSION%"], true
			}
		}
	}
	if r.Exists("/var/lib/rpm") || r.Exists("/usr/lib/sysimage/rpm") {
		return sshcrypto.Version{}, "the OpenSSH version of an offline rpm-based image is unknown (hardbake does not read the rpm database)", false
	}
	return sshcrypto.Version{}, "the OpenSSH version is unknown (no runnable sshd, no dpkg or pacman record)", false
}

// dpkgVersion returns the Version of an installed package in a dpkg status file.
func dpkgVersion(status []byte, pkg string) string {
	var name, version string
	installed := false
	sc := bufio.NewScanner(bytes.NewReader(status))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	flush := func() string {
		if name == pkg && installed {
			return version
		}
		name, version, installed = "", "", false
		return ""
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if v := flush(); v != "" {
				return v
			}
		case strings.HasPrefix(line, "Package: "):
			name = strings.TrimSpace(strings.TrimPrefix(line, "Package: "))
		case strings.HasPrefix(line, "Version: "):
			version = strings.TrimSpace(strings.TrimPrefix(line, "Version: "))
		case strings.HasPrefix(line, "Status: "):
			installed = strings.HasSuffix(strings.TrimSpace(line), " installed")
		}
	}
	return flush()
}

// pacmanDesc reads a pacman desc file: %KEY% lines each followed by values.
func pacmanDesc(data []byte) map[string]string {
	m := map[string]string{}
	key := ""
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "%") && strings.HasSuffix(l, "%"):
			key = l
		case l != "" && key != "" && m[key] == "":
			m[key] = l
		}
	}
	return m
}
