package steps

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/sshdconfig"
	"golang.org/x/crypto/ssh"
)

// SSHDBinary is where every supported distribution installs sshd.
const SSHDBinary = "/usr/sbin/sshd"

// hasSSHD reports whether the target's own sshd can be run.
func hasSSHD(env *Env) bool {
	if !env.CanRun() {
		return false
	}
	_, ok := runner.Lookup(env.Root.HostPath("/"), SSHDBinary)
	return ok
}

// sshdTest runs the target's sshd in test mode ("-t" or "-T"). sshd refuses
// to test without a host key and without its privilege-separation directory,
// both of which a freshly debootstrapped or sealed image lacks; a temporary
// ed25519 key and /run/sshd are provided for the run and removed afterwards.
// extra arguments (e.g. "-o", "KexAlgorithms=...") come last.
func sshdTest(ctx context.Context, env *Env, mode string, extra ...string) ([]byte, error) {
	args := []string{mode, "-f", SSHDConfig}
	if keys, _ := env.Root.Glob("/etc/ssh/ssh_host_*_key"); len(keys) == 0 {
		dir := fmt.Sprintf("/run/hardbake-sshd-test-%d", time.Now().UnixNano())
		if err := env.Root.MkdirAll(dir, 0o700, root.RootOwner); err != nil {
			return nil, err
		}
		defer env.Root.RemoveAll(dir)
		key, err := tempHostKey()
		if err != nil {
			return nil, err
		}
		if err := env.Root.WriteFile(dir+"/ssh_host_ed25519_key", key, 0o600, root.RootOwner); err != nil {
			return nil, err
		}
		args = append(args, "-h", dir+"/ssh_host_ed25519_key")
	}
	if !env.Root.Exists("/run/sshd") {
		if err := env.Root.MkdirAll("/run/sshd", 0o755, root.RootOwner); err != nil {
			return nil, err
		}
		defer env.Root.Remove("/run/sshd")
	}
	args = append(args, extra...)
	res, err := env.Run.Run(ctx, runner.Cmd{Name: SSHDBinary, Args: args})
	return res.Stdout, err
}

func tempHostKey() ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "hardbake temporary key for sshd -t")
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(block), nil
}

// parseSSHDT reads `sshd -T` output: "keyword value..." per line; keywords
// that repeat (port, listenaddress) collect every value.
func parseSSHDT(out []byte) map[string][]string {
	m := map[string][]string{}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		m[k] = append(m[k], v)
	}
	return m
}

// effectiveSSHD returns the sshd settings as sshd itself reports them
// (`sshd -T`) where the target's sshd can run, and otherwise as computed from
// the files by the offline evaluator (audit of a disk image). The second
// result names which one was used.
func effectiveSSHD(ctx context.Context, env *Env) (map[string][]string, string, error) {
	if hasSSHD(env) {
		out, err := sshdTest(ctx, env, "-T")
		if err != nil {
			return nil, "", err
		}
		return parseSSHDT(out), "sshd -T", nil
	}
	eff, err := sshdconfig.Load(env.Root, SSHDConfig)
	if err != nil {
		return nil, "", err
	}
	return offlineSSHD(eff), "computed from the files", nil
}

// sshdDefaults are OpenSSH's compiled-in defaults for the keywords hardbake
// checks (sshd_config(5)), in `sshd -T` spelling: OpenSSH 9.2 and 10.0
// print PermitRootLogin prohibit-password by its old name without-password.
var sshdDefaults = map[string]string{
	"permitrootlogin":              "without-password",
	"passwordauthentication":       "yes",
	"kbdinteractiveauthentication": "yes",
	"pubkeyauthentication":         "yes",
	"addressfamily":                "any",
	"maxauthtries":                 "6",
	"logingracetime":               "120",
	"x11forwarding":                "no",
	"port":                         "22",
}

// offlineSSHD turns the evaluator's result into `sshd -T` form: lower-case
// values, aliases folded, times in seconds.
func offlineSSHD(eff *sshdconfig.Effective) map[string][]string {
	m := map[string][]string{}
	for k, def := range sshdDefaults {
		m[k] = []string{def}
	}
	for k := range sshdDefaults {
		key := k
		v, ok := eff.Get(key)
		if !ok && key == "kbdinteractiveauthentication" {
			// ChallengeResponseAuthentication is its deprecated alias.
			v, ok = eff.Get("challengeresponseauthentication")
		}
		if !ok || len(v.Args) == 0 {
			continue
		}
		val := strings.ToLower(v.Args[0])
		switch key {
		case "permitrootlogin":
			if val == "prohibit-password" {
				val = "without-password" // as sshd -T prints it
			}
		case "logingracetime":
			if secs, err := sshTime(val); err == nil {
				val = strconv.Itoa(secs)
			}
		}
		m[key] = []string{val}
	}
	var ports []string
	for _, p := range eff.Ports() {
		ports = append(ports, strconv.Itoa(p))
	}
	if len(ports) > 0 {
		m["port"] = ports
	}
	// The algorithm lists have version-dependent defaults: only what the
	// files set is known offline.
	for _, k := range []string{"kexalgorithms", "ciphers", "macs", "hostkeyalgorithms"} {
		if v, ok := eff.Get(k); ok && len(v.Args) > 0 {
			m[k] = []string{v.Args[0]}
		}
	}
	return m
}

// sshTime parses sshd_config(5) TIME FORMATS: 30, 30s, 1m, 1h30m.
func sshTime(s string) (int, error) {
	total, num := 0, ""
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			num += string(r)
		default:
			n, err := strconv.Atoi(num)
			if err != nil {
				return 0, fmt.Errorf("bad time %q", s)
			}
			mult := map[rune]int{'s': 1, 'S': 1, 'm': 60, 'M': 60, 'h': 3600, 'H': 3600, 'd': 86400, 'D': 86400, 'w': 604800, 'W': 604800}[r]
			if mult == 0 {
				return 0, fmt.Errorf("bad time %q", s)
			}
			total += n * mult
			num = ""
		}
	}
	if num != "" {
		n, err := strconv.Atoi(num)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}
