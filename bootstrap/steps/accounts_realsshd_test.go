package steps

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
	"golang.org/x/crypto/ssh"
)

// bakeAccounts bakes a fresh real Debian root with only the accounts step
// (its default profile) and returns the root's directory and env.
func bakeAccounts(t *testing.T, suite string) (string, *Env) {
	t.Helper()
	dir := testroot.Debian(t, suite)
	r, d := testroot.Open(t, dir)
	env := &Env{Root: r, Run: runner.Exec{Chroot: dir}, Distro: d, Profile: profile.Default()}
	if _, err := (Accounts{}).Apply(context.Background(), env); err != nil {
		t.Fatalf("bake --only accounts: %v", err)
	}
	return dir, env
}

func chrootRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("chroot", append([]string{dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keyOnlyAdmin makes name the way first boot does (useradd -m -U -G sudo,
// a NOPASSWD sudo rule, an authorized key, no password) or, cloud, the way
// cloud-init does (useradd, then passwd -l: lock_passwd), with the baked
// login.defs and useradd defaults. It returns the key.
func keyOnlyAdmin(t *testing.T, dir, name string, cloud bool) ssh.Signer {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(priv)
	sshPub, _ := ssh.NewPublicKey(pub)
	if cloud {
		chrootRun(t, dir, "useradd", name, "--comment", "cloud default user", "--groups", "sudo", "--shell", "/bin/bash", "-m")
		chrootRun(t, dir, "passwd", "-l", name)
	} else {
		chrootRun(t, dir, "useradd", "-m", "-U", "-s", "/bin/bash", "-G", "sudo", "--", name)
	}
	writeRootFile(t, dir, "etc/sudoers.d/90-"+name, name+" ALL=(ALL:ALL) NOPASSWD: ALL\n", 0o440)
	writeRootFile(t, dir, "home/"+name+"/.ssh/authorized_keys", string(ssh.MarshalAuthorizedKey(sshPub)), 0o600)
	chrootRun(t, dir, "chown", "-R", name+":", "/home/"+name+"/.ssh")
	chrootRun(t, dir, "chmod", "700", "/home/"+name+"/.ssh")
	return signer
}

// shadowFields is name's /etc/shadow line split at ':'.
func shadowFields(t *testing.T, dir, name string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "etc/shadow"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Split(l, ":"); f[0] == name {
			return f
		}
	}
	t.Fatalf("%s not in /etc/shadow", name)
	return nil
}

// TestAgeingNeverLocksOutKeyOnlyAdmins is the lockout Ansible Lockdown
// ships, with and without hardbake's exemption, judged by a real OpenSSH
// 9.2 and sudo in a real Debian 12 root baked with the accounts step (CIS
// ageing 365 days, 45 inactive; faillock, pwhistory, pwquality, no
// nullok). Two key-only admins are made after the bake as first boot and
// cloud-init make theirs, so they get the baked ageing; then their last
// password change is moved into the past, as if a year (and, for the
// second age, many years) went by. Without the exemption the real sshd
// and sudo refuse them (the test's control: it shows the failure is real);
// with the exemption (the command the installed path unit runs when
// /etc/shadow changes) both log in by key and `sudo -n true` works.
func TestAgeingNeverLocksOutKeyOnlyAdmins(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	dir, _ := bakeAccounts(t, "bookworm")

	// The exemption is what the installed unit runs: read it from there.
	unit, err := os.ReadFile(filepath.Join(dir, systemdUnits, AgeingService))
	if err != nil {
		t.Fatal(err)
	}
	execStart := regexp.MustCompile(`(?m)^ExecStart=(\S+)$`).FindStringSubmatch(string(unit))
	path, _ := os.ReadFile(filepath.Join(dir, systemdUnits, AgeingPath))
	if execStart == nil || !strings.Contains(string(path), "PathChanged=/etc/shadow\nUnit="+AgeingService+"\n") {
		t.Fatalf("units:\n%s\n%s", unit, path)
	}
	for _, l := range []string{"multi-user.target.wants/" + AgeingService, "multi-user.target.wants/" + AgeingPath} {
		if _, err := os.Lstat(filepath.Join(dir, systemdUnits, l)); err != nil {
			t.Errorf("not enabled: %v", err)
		}
	}

	today := int(time.Now().Unix() / 86400)
	for _, exempt := range []bool{false, true} {
		for _, age := range []int{380, 5000} { // past max; past max + inactive
			t.Run(fmt.Sprintf("exempt=%v/age=%dd", exempt, age), func(t *testing.T) {
				suffix := fmt.Sprintf("%d%s", age, map[bool]string{true: "x", false: "n"}[exempt])
				admin, cloudUser := "alice"+suffix, "cloud"+suffix
				keys := map[string]ssh.Signer{
					admin:     keyOnlyAdmin(t, dir, admin, false),
					cloudUser: keyOnlyAdmin(t, dir, cloudUser, true),
				}
				for user := range keys {
					f := shadowFields(t, dir, user)
					if f[4] != "365" || f[6] != "45" || (f[1] != "!" && f[1] != "!*" && !strings.HasPrefix(f[1], "!")) {
						t.Fatalf("%s was not made with the baked ageing and no password: %q", user, f)
					}
				}
				if exempt {
					fmt.Fprint(os.Stderr, chrootRun(t, dir, execStart[1]))
					for user := range keys {
						if f := shadowFields(t, dir, user); f[4] != "" || f[6] != "" {
							t.Fatalf("%s keeps ageing after the exemption: %q", user, f)
						}
					}
				}
				for user := range keys {
					chrootRun(t, dir, "chage", "-d", time.Unix(int64(today-age)*86400, 0).UTC().Format("2006-01-02"), user)
				}
				addr := startSSHD(t, dir)
				for user, signer := range keys {
					out, err := sshRun(addr, user, signer, "sudo -n true && echo sudo-ok")
					ok := err == nil && strings.HasPrefix(out, "sudo-ok")
					if ok != exempt {
						t.Errorf("%s, password changed %d days ago, exempt=%v: key login + sudo -n true: %q %v", user, age, exempt, out, err)
					}
					t.Logf("%s (exempt=%v, %d days): %q %v", user, exempt, age, out, err)
				}
				if exempt {
					log, _ := os.ReadFile(filepath.Join(dir, "var/log/sudo.log"))
					if !strings.Contains(string(log), admin+" : ") {
						t.Errorf("sudo's own log has no line of %s:\n%s", admin, log)
					}
				}
			})
		}
	}
}

// TestAccountsOnRealRoots: the bake on Debian 12 and 13 changes nothing
// the second time; pam-auth-update, run as package upgrades run it
// (--package) and by hand (--force), regenerates the common-* files with
// every line and without a prompt or conflict note (hardbake-unix replaces
// the shipped unix profile through --disable); visudo accepts the sudoers
// files; su asks for group membership first (a right password is not
// enough outside sugroup); sudo writes its own log.
func TestAccountsOnRealRoots(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	for _, suite := range []string{"bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) {
			dir, env := bakeAccounts(t, suite)
			ctx := context.Background()
			if again, err := (Accounts{}).Plan(ctx, env); err != nil || len(again) != 0 {
				t.Errorf("second plan: %v %+v", err, Changes(again))
			}
			checks, err := (Accounts{}).Check(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range checks {
				if !c.OK {
					t.Errorf("check %s: want %q, got %q", c.ID, c.Want, c.Got)
				}
			}
			for _, args := range [][]string{{"--package"}, {"--force"}} {
				out := chrootRun(t, dir, append([]string{"env", "DEBIAN_FRONTEND=noninteractive", "pam-auth-update"}, args...)...)
				if strings.TrimSpace(out) != "" {
					t.Errorf("pam-auth-update %v says:\n%s", args, out)
				}
				if m := debianPAMState(env); len(m) > 0 {
					t.Errorf("after pam-auth-update %v: missing %v", args, m)
				}
			}
			chrootRun(t, dir, "visudo", "-c")

			// su: root's password known; bob is not in sugroup, carol is.
			chrootRun(t, dir, "sh", "-c", "echo 'root:Tq7#vLx9!pRz2wKm' | chpasswd && useradd -m bob && useradd -m -G sugroup carol")
			su := func(user string) error {
				c := exec.Command("chroot", "--userspec="+user+":"+user, dir, "su", "-c", "true", "root")
				c.Stdin = strings.NewReader("Tq7#vLx9!pRz2wKm\n")
				c.Env = []string{"PATH=/usr/bin:/bin"}
				out, err := c.CombinedOutput()
				t.Logf("su as %s: %v %s", user, err, strings.TrimSpace(string(out)))
				return err
			}
			if su("carol") != nil {
				t.Error("carol (in sugroup, right password) cannot su")
			}
			if su("bob") == nil {
				t.Error("bob (not in sugroup) can su with the right password")
			}

			// pwquality judges root's new passwords too (enforce_for_root).
			if out, err := exec.Command("chroot", dir, "sh", "-c", "echo 'carol:abc12345' | chpasswd").CombinedOutput(); err == nil {
				t.Errorf("a weak password was accepted: %s", out)
			}

			// faillock: faillock_deny wrong passwords (carol su-ing to
			// herself: she is in sugroup, so pam_wheel lets the password
			// be asked) lock carol; then even her right password is
			// refused, until faillock --reset (or unlock_time).
			chrootRun(t, dir, "sh", "-c", "echo 'carol:Zx9!kQ2#mWp7rTv4' | chpasswd")
			login := func(pass string) error {
				c := exec.Command("chroot", "--userspec=carol:carol", dir, "su", "-c", "true", "carol")
				c.Stdin = strings.NewReader(pass + "\n")
				c.Env = []string{"PATH=/usr/bin:/bin"}
				return c.Run()
			}
			for i := 0; i < env.Profile.Accounts.FaillockDeny; i++ {
				login("not-the-password")
			}
			out, _ := exec.Command("chroot", dir, "faillock", "--user", "carol").CombinedOutput()
			t.Logf("faillock --user carol:\n%s", out)
			if strings.Count(string(out), " V\n")+strings.Count(string(out), " V ") < env.Profile.Accounts.FaillockDeny {
				t.Errorf("faillock recorded fewer than %d failures of carol:\n%s", env.Profile.Accounts.FaillockDeny, out)
			}
			if login("Zx9!kQ2#mWp7rTv4") == nil {
				t.Error("carol's right password still works after faillock_deny failures")
			}
			chrootRun(t, dir, "faillock", "--user", "carol", "--reset")
			if err := login("Zx9!kQ2#mWp7rTv4"); err != nil {
				t.Errorf("carol's right password after faillock --reset: %v", err)
			}

			// A login shell gets the umask and a read-only TMOUT.
			sh, err := exec.Command("chroot", dir, "bash", "-l", "-c", "umask; declare -p TMOUT").CombinedOutput()
			if got := strings.Fields(string(sh)); err != nil || len(got) != 4 || got[0] != "0027" || got[2] != "-rx" || got[3] != `TMOUT="900"` {
				t.Errorf("login shell: umask and TMOUT: %q %v", sh, err)
			}
			// The units are valid systemd units.
			if out, err := exec.Command("chroot", dir, "systemd-analyze", "verify", "--man=no", systemdUnits+AgeingService, systemdUnits+AgeingPath).CombinedOutput(); err != nil {
				t.Errorf("systemd-analyze verify: %v\n%s", err, out)
			}
		})
	}
}

// pathTestUnit makes a user after boot as cloud-init makes its default
// user (useradd, then passwd -l), waits up to 15 s for its password
// ageing to go, writes its shadow line and the ageing units' journal to
// /pathtest.result and /pathtest.journal, and powers the machine off.
const pathTestUnit = `[Unit]
Description=hardbake accounts test: a user made after boot, as cloud-init makes its default user
After=hardbake-password-ageing.service hardbake-password-ageing.path multi-user.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'useradd -m -s /bin/bash -G sudo pathtest; passwd -l pathtest; for i in $(seq 1 15); do [ -z "$(getent shadow pathtest | cut -d: -f5)" ] && break; sleep 1; done; getent shadow pathtest > /pathtest.result; journalctl --no-pager -u hardbake-password-ageing.service -u hardbake-password-ageing.path > /pathtest.journal; systemctl poweroff'

[Install]
WantedBy=multi-user.target
`

// TestAgeingPathUnitUnderSystemd boots a baked Debian 12 root with its own
// systemd (systemd-nspawn --boot) and makes a key-only user after boot, the
// way cloud-init does: the installed path unit sees /etc/shadow change and
// its service clears the user's ageing. The control boots the same root
// with the path unit masked: the user keeps the baked 365 days, so the
// exemption above came from the path unit.
func TestAgeingPathUnitUnderSystemd(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a real Debian root: not in -short")
	}
	if _, err := exec.LookPath("systemd-nspawn"); err != nil {
		t.Skip("systemd-nspawn is not installed")
	}
	for _, masked := range []bool{false, true} {
		t.Run(fmt.Sprintf("path_unit_masked=%v", masked), func(t *testing.T) {
			dir, _ := bakeAccounts(t, "bookworm")
			writeRootFile(t, dir, "etc/systemd/system/pathtest.service", pathTestUnit, 0o644)
			if err := os.Symlink("/etc/systemd/system/pathtest.service", filepath.Join(dir, "etc/systemd/system/multi-user.target.wants/pathtest.service")); err != nil {
				t.Fatal(err)
			}
			if masked {
				os.Remove(filepath.Join(dir, systemdUnits, AgeingPath))
				if err := os.Symlink("/dev/null", filepath.Join(dir, systemdUnits, AgeingPath)); err != nil {
					t.Fatal(err)
				}
			}
			// nspawn keeps state under /run/systemd/nspawn, which must be a
			// tmpfs; a private mount namespace gives it one. Without a
			// system bus (no systemd on this host) it may neither register
			// the machine nor make a scope unit.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			boot := exec.CommandContext(ctx, "unshare", "-m", "--propagation", "private", "sh", "-c",
				`mkdir -p /run/systemd/nspawn && mount -t tmpfs none /run/systemd/nspawn && exec systemd-nspawn -D "$1" --boot --register=no --keep-unit -q --console=pipe`, "sh", dir)
			out, err := boot.CombinedOutput()
			if err != nil {
				t.Fatalf("systemd-nspawn --boot: %v\n%s", err, out)
			}
			result, err := os.ReadFile(filepath.Join(dir, "pathtest.result"))
			if err != nil {
				t.Fatalf("the test unit did not run: %v\n%s", err, out)
			}
			journal, _ := os.ReadFile(filepath.Join(dir, "pathtest.journal"))
			t.Logf("shadow: %s\njournal:\n%s", result, journal)
			f := strings.Split(strings.TrimSpace(string(result)), ":")
			if len(f) < 7 || !strings.HasPrefix(f[1], "!") {
				t.Fatalf("pathtest's shadow line: %q", result)
			}
			if exempt := f[4] == "" && f[6] == ""; exempt == masked {
				t.Errorf("path unit masked=%v: pathtest's max/inactive days %q/%q", masked, f[4], f[6])
			}
		})
	}
}
