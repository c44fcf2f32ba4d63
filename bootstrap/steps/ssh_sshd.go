package steps

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"slices"
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
// to test without a host key it can load and without its privilege-separation
// directory, which a freshly debootstrapped or sealed image lacks: sshd gets
// the host keys it will have at first boot (testHostKeys) and /run/sshd for
// the run, both removed afterwards. extra arguments (e.g. "-o",
// "KexAlgorithms=...") come last.
func sshdTest(ctx context.Context, env *Env, mode string, extra ...string) ([]byte, error) {
	args := []string{mode, "-f", SSHDConfig}
	keys, cleanup, err := testHostKeys(env)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	args = append(args, keys...)
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

// testHostKeys returns the -h arguments that give a test run of sshd the
// host keys it will have at first boot, so that a key the image lacks or
// holds broken never fails the validation of a configuration: for each key
// sshd loads that first boot makes or repairs (firstBootHeals), a temporary
// key of its type, in a private directory under /run that cleanup removes.
// -h adds to the HostKey lines, but replaces sshd's defaults where the
// configuration has none, so then the image's usable default keys are
// passed too. Where sshd would have no key at all (it loads only keys first
// boot cannot make, or this is a live system without keys), one temporary
// key of the profile's first type lets sshd judge the configuration.
//
// On a live system no first boot follows: sshd reloads with the keys on
// disk, so only that last case gets a temporary key, and a configuration
// naming only missing keys fails its validation, as it would fail the reload.
func testHostKeys(env *Env) (args []string, cleanup func(), err error) {
	cleanup = func() {}
	var types []string
	if env.Profile != nil {
		types = env.Profile.SSH.HostKeyTypes
	}
	eff, _ := sshdconfig.Load(env.Root, SSHDConfig)
	_, configured := hostKeyFiles(eff)
	keys, loaded := firstBootKeys(env, eff, types)
	var usable, temp []string // paths; key types
	for i, k := range keys {
		switch {
		case !loaded[i]:
		case k.State.Usable():
			usable = append(usable, k.Path)
		case !env.Live() && firstBootHeals(k, types) && !slices.Contains(temp, k.Type):
			temp = append(temp, k.Type)
		}
	}
	if len(usable)+len(temp) == 0 {
		t := "ed25519"
		if len(types) > 0 {
			t = types[0]
		}
		temp = []string{t}
	}
	if len(temp) == 0 {
		return nil, cleanup, nil
	}
	dir := fmt.Sprintf("/run/hardbake-sshd-test-%d", time.Now().UnixNano())
	if err := env.Root.MkdirAll(dir, 0o700, root.RootOwner); err != nil {
		return nil, cleanup, err
	}
	cleanup = func() { env.Root.RemoveAll(dir) }
	if !configured {
		for _, p := range usable {
			args = append(args, "-h", p)
		}
	}
	for _, t := range temp {
		key, err := tempHostKey(t)
		if err == nil {
			err = env.Root.WriteFile(dir+"/ssh_host_"+t+"_key", key, 0o600, root.RootOwner)
		}
		if err != nil {
			cleanup()
			return nil, func() {}, err
		}
		args = append(args, "-h", dir+"/ssh_host_"+t+"_key")
	}
	return args, cleanup, nil
}

// tempHostKey makes a throwaway host key of type t (ed25519, ecdsa or rsa)
// in OpenSSH's format. It only lets sshd -t/-T start and is removed right
// after, so RSA is 2048 bits (~0.25 s here, against ~0.4 s for the 3072
// first boot makes) and ECDSA is P-256 (ssh-keygen's default).
func tempHostKey(t string) ([]byte, error) {
	var key crypto.Signer
	var err error
	switch t {
	case "ed25519":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case "ecdsa":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, fmt.Errorf("no temporary host key of type %q", t)
	}
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(key, "hardbake temporary key for sshd -t")
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
	"permitemptypasswords":         "no",
	"hostbasedauthentication":      "no",
	"ignorerhosts":                 "yes",
	"permituserenvironment":        "no",
	"gssapiauthentication":         "no",
	"maxsessions":                  "10",
	"maxstartups":                  "10:30:100",
	"clientaliveinterval":          "0",
	"clientalivecountmax":          "3",
	"loglevel":                     "INFO",
	"allowtcpforwarding":           "yes",
	"allowagentforwarding":         "yes",
	"disableforwarding":            "no",
	"banner":                       "none",
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
		case "loglevel":
			val = strings.ToUpper(val) // sshd -T prints INFO, VERBOSE
		case "logingracetime", "clientaliveinterval":
			if secs, err := sshTime(val); err == nil {
				val = strconv.Itoa(secs)
			}
		}
		m[key] = []string{val}
	}
	// AllowGroups adds up across lines and files, like Port.
	for _, v := range eff.Values["allowgroups"] {
		m["allowgroups"] = append(m["allowgroups"], v.Args...)
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
