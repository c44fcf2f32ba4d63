package sshdconfig

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// hostFS maps absolute paths straight onto this machine's filesystem, as sshd
// sees them.
type hostFS struct{}

func (hostFS) ReadFile(name string) ([]byte, error)  { return os.ReadFile(name) }
func (hostFS) Glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

const sshdPath = "/usr/sbin/sshd"

// sshd9Defaults are the compiled-in values "sshd -T" prints for keywords a
// fixture leaves unset (OpenSSH 9.x).
var sshd9Defaults = map[string]string{
	"permitrootlogin":              "prohibit-password",
	"passwordauthentication":       "yes",
	"kbdinteractiveauthentication": "yes",
	"pubkeyauthentication":         "yes",
	"addressfamily":                "any",
}

// TestAgainstRealSSHD checks Load against the real parser: each fixture is
// given to "sshd -T" and the keywords hardbake cares about must agree.
func TestAgainstRealSSHD(t *testing.T) {
	if _, err := os.Stat(sshdPath); err != nil {
		t.Skip("no " + sshdPath + " on this host (apt-get install openssh-server to run this comparison)")
	}
	if os.Geteuid() != 0 {
		t.Skip("sshd -T needs root (it checks its privilege-separation setup)")
	}
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen not found; needed for a host key")
	}
	// sshd -T refuses to run without its privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Skipf("cannot create /run/sshd: %v", err)
	}
	dir := t.TempDir()
	hostKey := filepath.Join(dir, "ssh_host_ed25519_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}

	fixtures := []struct {
		name  string
		main  string
		files map[string]string // relative to the fixture's dir
	}{
		{
			name: "cloud-init drop-in beats main file after Include",
			main: "# Debian-like\n" +
				"PermitRootLogin yes\n" +
				"Include @/sshd_config.d/*.conf\n" +
				"Port 2222\n" +
				"PasswordAuthentication no\n" +
				"KbdInteractiveAuthentication=no\n" +
				"PubkeyAuthentication = yes\n" +
				"AddressFamily inet\n" +
				"Subsystem\tsftp\t/usr/lib/openssh/sftp-server\n" +
				"Match User deploy\n" +
				"\tPasswordAuthentication no\n" +
				"\tPermitRootLogin no\n",
			files: map[string]string{
				"sshd_config.d/50-cloud-init.conf": "PasswordAuthentication yes\n",
				"sshd_config.d/60-late.conf":       "PermitRootLogin no\nPort 2200\n",
				"sshd_config.d/.hidden.conf":       "PubkeyAuthentication no\n",
				"sshd_config.d/ignored.disabled":   "AddressFamily inet6\n",
			},
		},
		{
			name: "managed block, aliases, listen addresses",
			main: SetManagedBlock("#header\n"+
				"ChallengeResponseAuthentication yes\n"+
				"Include @/conf.d/*.conf @/missing.conf\n"+
				"ListenAddress 127.0.0.1:2201\n"+
				"ListenAddress 127.0.0.2\n"+
				"Port=2202\n"+
				"Match Address 10.0.0.0/8\n"+
				"  PasswordAuthentication yes\n",
				[]string{"PermitRootLogin no", "PasswordAuthentication no", "KbdInteractiveAuthentication no"}),
			files: map[string]string{
				"conf.d/10-a.conf": "PermitRootLogin yes\nPubkeyAuthentication \"no\"\nAddressFamily any # comment\n",
				"conf.d/20-b.conf": "Match User bob\n  PubkeyAuthentication yes\n",
			},
		},
		{
			name:  "alias, defaults, include in Match",
			main:  "ChallengeResponseAuthentication no\nMatch User nobody\nInclude @/inc.conf\n",
			files: map[string]string{"inc.conf": "PasswordAuthentication no\nPermitRootLogin yes\n"},
		},
	}
	for i, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			fdir := filepath.Join(dir, strconv.Itoa(i))
			write := func(rel, text string) {
				p := filepath.Join(fdir, rel)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				// sshd includes only absolute paths outside /etc/ssh; '@' stands for the fixture dir.
				text = strings.ReplaceAll(text, "@/", fdir+"/")
				if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for rel, text := range fx.files {
				write(rel, text)
			}
			write("sshd_config", "HostKey "+hostKey+"\n"+fx.main)
			mainFile := filepath.Join(fdir, "sshd_config")

			out, err := exec.Command(sshdPath, "-T", "-f", mainFile).CombinedOutput()
			if err != nil {
				t.Fatalf("sshd -T: %v\n%s", err, out)
			}
			real := parseSSHDT(string(out))

			e, err := Load(hostFS{}, mainFile)
			if err != nil {
				t.Fatal(err)
			}
			for kw, def := range sshd9Defaults {
				got := def
				if v, ok := e.Get(kw); ok {
					got = strings.ToLower(v.Args[0])
				}
				// sshd -T prints PermitRootLogin's default by its old name.
				if got == "prohibit-password" {
					got = "without-password"
				}
				if want := real[kw]; len(want) != 1 || want[0] != got {
					t.Errorf("%s: Load says %q, sshd -T says %q", kw, got, want)
				}
			}
			// Port: sshd -T lists every listening address; compare their ports.
			var listen []int
			for _, la := range real["listenaddress"] {
				i := strings.LastIndexByte(la, ':')
				p, _ := strconv.Atoi(la[i+1:])
				listen = append(listen, p)
			}
			listen = uniqueInts(listen)
			got := append([]int(nil), e.Ports()...)
			sort.Ints(listen)
			sort.Ints(got)
			if !reflect.DeepEqual(got, listen) {
				t.Errorf("Ports() = %v, sshd listens on %v", got, listen)
			}
			if len(e.Values["listenaddress"]) == 0 {
				var ports []int
				for _, p := range real["port"] {
					n, _ := strconv.Atoi(p)
					ports = append(ports, n)
				}
				if want := uniqueInts(ports); !reflect.DeepEqual(e.Ports(), want) {
					t.Errorf("Ports() = %v, sshd -T port = %v", e.Ports(), want)
				}
			}
		})
	}
}

// parseSSHDT reads "keyword value" lines of sshd -T output.
func parseSSHDT(out string) map[string][]string {
	m := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		m[k] = append(m[k], v)
	}
	return m
}
