package firstboot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/steps"
	"golang.org/x/crypto/ssh"
)

// hostKeyOrder puts ed25519 first whatever the profile's order: it is the
// fast one (~20 ms against ~1 s for RSA), so sshd could start with it alone.
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

// ensureHostKeys makes each missing host key with the target's own
// ssh-keygen. A key left half-written by a power cut (empty, or a private
// key without its .pub that ssh-keygen cannot read) is made again; a private
// key without its .pub gets the .pub back. Existing keys are never replaced.
func ensureHostKeys(ctx context.Context, env *steps.Env, types []string, hostname string) ([]report.Change, error) {
	if hostname == "" {
		data, _ := env.Root.ReadFile("/etc/hostname")
		hostname = strings.TrimSpace(string(data))
	}
	var changes []report.Change
	for _, typ := range hostKeyOrder(types) {
		key := fmt.Sprintf("/etc/ssh/ssh_host_%s_key", typ)
		pub := key + ".pub"
		priv, privOK := nonEmpty(env.Root, key)
		if _, pubOK := nonEmpty(env.Root, pub); privOK && pubOK {
			continue
		}
		if privOK {
			res, err := env.Run.Run(ctx, runner.Cmd{Name: "ssh-keygen", Args: []string{"-y", "-f", key}})
			if err == nil {
				if err := env.Root.WriteFile(pub, res.Stdout, 0o644, root.RootOwner); err != nil {
					return changes, err
				}
				changes = append(changes, report.Change{Kind: "write", Path: pub, Summary: typ + " host key's public half restored: " + fingerprint(res.Stdout)})
				continue
			}
			logf(env, "  %s is unreadable (%d bytes); making a new one", key, len(priv))
		}
		for _, p := range []string{key, pub} {
			if err := env.Root.Remove(p); err != nil {
				return changes, err
			}
		}
		if err := env.Root.MkdirAll("/etc/ssh", 0o755, root.RootOwner); err != nil {
			return changes, err
		}
		c := runner.Cmd{Name: "ssh-keygen", Args: []string{"-q", "-N", "", "-t", typ, "-C", "root@" + hostname, "-f", key}}
		if typ == "rsa" {
			// ssh-keygen's default since OpenSSH 8.0, said explicitly:
			// audit's ssh.host_keys refuses less.
			c.Args = append(c.Args, "-b", "3072")
		}
		if _, err := env.Run.Run(ctx, c); err != nil {
			return changes, fmt.Errorf("host key %s: %w", typ, err)
		}
		data, _ := env.Root.ReadFile(pub)
		changes = append(changes, report.Change{Kind: "run", Path: key, Command: c.String(), Summary: typ + " host key " + fingerprint(data)})
	}
	return changes, nil
}

func nonEmpty(r *root.Root, p string) ([]byte, bool) {
	fi, err := r.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return nil, false
	}
	data, err := r.ReadFile(p)
	return data, err == nil && len(data) > 0
}

func fingerprint(pubLine []byte) string {
	pub, _, _, _, err := ssh.ParseAuthorizedKey(pubLine)
	if err != nil {
		return "(unreadable public key)"
	}
	return ssh.FingerprintSHA256(pub)
}
