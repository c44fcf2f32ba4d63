package steps

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"golang.org/x/crypto/ssh"
)

// hostKeyOrder puts ed25519 first whatever the profile's order: it is the
// fast one (~20 ms against ~1 s for RSA). No types means ed25519.
func hostKeyOrder(types []string) []string {
	out := slices.Clone(types)
	if len(out) == 0 {
		out = []string{"ed25519"}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "ed25519":
			return -1
		case b == "ed25519":
			return 1
		}
		return 0
	})
	return out
}

// HealHostKeys heals the host keys before sshd starts, so that it starts
// with every key the profile asks for (HostKeysToHeal judges them):
//   - a missing key is made with the target's own ssh-keygen;
//   - a broken one (empty, a directory, bytes that are no key, a key with a
//     passphrase or of another type than its name) is moved aside to
//     <name>.broken-<time> and made again (its .pub, if any, is removed). Aside rather than
//     removed: what cannot be read as a key may still be something an admin
//     wants back (a key in a format this ssh-keygen does not know, a
//     directory someone made there), and a rename is atomic, so a power cut
//     leaves the old file or nothing, which the next boot makes;
//   - a private key that reads but whose .pub is missing or another key's
//     gets its .pub written from it: the private key is the host's identity
//     (clients may know it already) and all sshd reads;
//   - a key group or others may read, which sshd ignores, gets its mode back.
//
// Where the image has the ssh_keys group on the RHEL or Fedora family
// (SSHKeysGID) the private keys are root:ssh_keys 0640, as the
// distribution's sshd-keygen makes them and its sshd accepts; elsewhere
// ssh-keygen's 0600. Public halves are 0644.
func HealHostKeys(ctx context.Context, env *Env, types []string, hostname string) ([]report.Change, error) {
	if hostname == "" {
		data, _ := env.Root.ReadFile("/etc/hostname")
		hostname = strings.TrimSpace(string(data))
	}
	order := hostKeyOrder(types)
	keys := HostKeysToHeal(env, order)
	rank := func(k HostKey) int {
		if i := slices.Index(order, k.Type); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(keys, func(a, b HostKey) int { return rank(a) - rank(b) })
	gid := SSHKeysGID(env)
	stamp := time.Now().UTC().Format("20060102T150405Z")
	var changes []report.Change
	for _, k := range keys {
		if k.State == KeyBroken && k.Pub == nil && regularFile(env.Root, k.Path) {
			// x/crypto/ssh could not read it; before a host loses its
			// identity, the target's own ssh-keygen gets a say.
			if pub, ok := readsWithSSHKeygen(ctx, env, k); ok {
				if pubMatches(env.Root, k.Path, pub) {
					continue
				}
				k.State, k.Pub = KeyNoPub, pub
			}
		}
		c, err := healHostKey(ctx, env, k, hostname, stamp, gid >= 0)
		if err == nil && k.State == KeyTooOpen {
			// Its mode was all sshd minded; its .pub may be wrong too.
			if k = InspectHostKey(env.Root, k.Path, gid); k.State == KeyNoPub {
				var more []report.Change
				more, err = healHostKey(ctx, env, k, hostname, stamp, gid >= 0)
				c = append(c, more...)
			}
		}
		changes = append(changes, c...)
		if err != nil {
			return changes, fmt.Errorf("host key %s: %w", k.Path, err)
		}
	}
	return changes, nil
}

func regularFile(r *root.Root, p string) bool {
	fi, err := r.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// pubMatches reports whether key's .pub holds pub.
func pubMatches(r *root.Root, key string, pub ssh.PublicKey) bool {
	line, err := r.ReadFile(key + ".pub")
	if err != nil {
		return false
	}
	have, _, _, _, err := ssh.ParseAuthorizedKey(line)
	return err == nil && bytes.Equal(have.Marshal(), pub.Marshal())
}

// healHostKey does what HealHostKeys says for one key.
func healHostKey(ctx context.Context, env *Env, k HostKey, hostname, stamp string, sshKeys bool) ([]report.Change, error) {
	pub := k.Path + ".pub"
	switch k.State {
	case KeyNoPub:
		// A wrong .pub is only a public key: removed, not kept (a directory
		// there cannot be, so it is moved aside).
		var changes []report.Change
		if err := env.Root.Remove(pub); err != nil {
			c, err := moveAside(env, pub, stamp, "not "+path.Base(k.Path)+"'s public half")
			if err != nil {
				return nil, err
			}
			changes = append(changes, c)
		}
		line := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(k.Pub)), "\n") + " root@" + hostname + "\n"
		if err := env.Root.WriteFile(pub, []byte(line), 0o644, root.RootOwner); err != nil {
			return changes, err
		}
		return append(changes, report.Change{Kind: "write", Path: pub,
			Summary: k.Type + " host key's public half written from the private key: " + ssh.FingerprintSHA256(k.Pub)}), nil
	case KeyTooOpen:
		cmds, err := keyPermissions(ctx, env, k.Path, sshKeys)
		return changesOf(cmds, k.Path, k.Type+" host key: "+k.Why+", now only root may read it"), err
	}
	var changes []report.Change
	if k.State == KeyBroken {
		env.logf("  %s: %s; moving it aside and making a new one", k.Path, k.Why)
		c, err := moveAside(env, k.Path, stamp, k.Why)
		if err != nil {
			return nil, err
		}
		changes = append(changes, c)
	}
	// A .pub whose private key is missing or broken identifies no key
	// sshd has; the new key's replaces it.
	if err := env.Root.Remove(pub); err != nil {
		return changes, err
	}
	if err := env.Root.MkdirAll(path.Dir(k.Path), 0o755, root.RootOwner); err != nil {
		return changes, err
	}
	gen := runner.Cmd{Name: "ssh-keygen", Args: []string{"-q", "-N", "", "-t", k.Type, "-C", "root@" + hostname, "-f", k.Path}}
	if k.Type == "rsa" {
		// ssh-keygen's default since OpenSSH 8.0, said explicitly: audit's
		// ssh.host_keys refuses less.
		gen.Args = append(gen.Args, "-b", "3072")
	}
	if _, err := env.Run.Run(ctx, gen); err != nil {
		return changes, err
	}
	data, _ := env.Root.ReadFile(pub)
	changes = append(changes, report.Change{Kind: "run", Path: k.Path, Command: gen.String(), Summary: k.Type + " host key " + fingerprint(data)})
	if sshKeys {
		cmds, err := keyPermissions(ctx, env, k.Path, true)
		changes = append(changes, changesOf(cmds, k.Path, "host key readable by group ssh_keys, as the distribution makes it")...)
		return changes, err
	}
	return changes, nil
}

// readsWithSSHKeygen asks the target's ssh-keygen for the public half of a
// key x/crypto/ssh could not read; ok only when it is a key of k's type.
func readsWithSSHKeygen(ctx context.Context, env *Env, k HostKey) (ssh.PublicKey, bool) {
	// -P "": host keys have no passphrase, and ssh-keygen must not prompt.
	res, err := env.Run.Run(ctx, runner.Cmd{Name: "ssh-keygen", Args: []string{"-y", "-P", "", "-f", k.Path}})
	if err != nil {
		return nil, false
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(res.Stdout)
	if err != nil || !strings.Contains(pub.Type(), k.Type) {
		return nil, false
	}
	return pub, true
}

// keyPermissions gives a private host key the mode sshd wants, with the
// target's chmod (and chgrp where the image has the ssh_keys group).
func keyPermissions(ctx context.Context, env *Env, key string, sshKeys bool) ([]runner.Cmd, error) {
	cmds := []runner.Cmd{{Name: "chmod", Args: []string{"0600", key}}}
	if sshKeys {
		cmds = []runner.Cmd{{Name: "chgrp", Args: []string{"ssh_keys", key}}, {Name: "chmod", Args: []string{"0640", key}}}
	}
	for i, c := range cmds {
		if _, err := env.Run.Run(ctx, c); err != nil {
			return cmds[:i], err
		}
	}
	return cmds, nil
}

func changesOf(cmds []runner.Cmd, p, summary string) []report.Change {
	var out []report.Change
	for _, c := range cmds {
		out = append(out, report.Change{Kind: "run", Path: p, Command: c.String(), Summary: summary})
	}
	return out
}

// moveAside renames p to p.broken-<stamp> (a number added when that is
// taken, as by a second heal in the same second).
func moveAside(env *Env, p, stamp, why string) (report.Change, error) {
	dst := p + ".broken-" + stamp
	for i := 2; env.Root.Exists(dst); i++ {
		dst = p + ".broken-" + stamp + "-" + strconv.Itoa(i)
	}
	if err := env.Root.Rename(p, dst); err != nil {
		return report.Change{}, err
	}
	return report.Change{Kind: "move", Path: p, Summary: why + ": moved aside to " + dst}, nil
}

func fingerprint(pubLine []byte) string {
	pub, _, _, _, err := ssh.ParseAuthorizedKey(pubLine)
	if err != nil {
		return "(unreadable public key)"
	}
	return ssh.FingerprintSHA256(pub)
}
