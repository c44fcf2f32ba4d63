package e2e

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/hardbake/hardbake/internal/sshaudit"
)

// cryptoChecks judge the booted VM's hardened sshd (ssh.crypto: modern, the
// default) from the host, through the first NIC's forward: ssh-audit's
// verdict, Go's x/crypto/ssh client (what Packer uses) logging in, and
// clients offering only old algorithms refused at algorithm negotiation.
// They run after the fail2ban check: sshd logs the refused clients as
// "Unable to negotiate", which fail2ban's sshd filter counts only in its
// aggressive mode, and the last check proves alice was not locked out.
//
// port is the host port forwarded to the guest's sshd, run runs a command in
// the guest as alice, key is alice's private key file.
func (e *env) cryptoChecks(t *testing.T, port int, run func(string) (string, error), key string) {
	check(t, "ssh-audit from the host: no [fail] on the booted sshd", func(t *testing.T) {
		r := sshAudit(t, port)
		e.number(t, "ssh-audit %s, hardened sshd of the booted image: %d fail, %d warn", sshAuditVersion(), r.Fails, r.Warns)
		t.Logf("ssh-audit verdicts:\n%s", verdicts(r.Output))
		if r.Fails != 0 {
			t.Errorf("ssh-audit reports %d [fail] on the hardened sshd", r.Fails)
		}
	})
	check(t, "Go x/crypto/ssh client (Packer's) logs in as alice with her key", func(t *testing.T) {
		c, err := goDial(port, "alice", loadKey(t, key), ssh.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if m, ok := c.Conn.(ssh.AlgorithmsConnMetadata); ok {
			a := m.Algorithms()
			t.Logf("negotiated: kex %s, host key %s, cipher %s", a.KeyExchange, a.HostKey, a.Write.Cipher)
		}
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if out, err := s.Output("id -un"); err != nil || strings.TrimSpace(string(out)) != "alice" {
			t.Errorf("id -un: %q %v", out, err)
		}
	})
	check(t, "clients offering only old algorithms are refused at algorithm negotiation", func(t *testing.T) {
		since := strings.TrimSpace(mustRun(t, run, "date +%s"))
		// Each row offers one old kind and (except "all old") modern
		// everything else, so each refusal names the kind it is about.
		// chacha20/AES-GCM carry their own MAC and skip MAC negotiation, so
		// the MAC rows pin aes128-ctr, which the modern level offers.
		type row struct {
			name       string
			ssh        []string   // OpenSSH client -o options
			goCfg      ssh.Config // x/crypto/ssh algorithms
			goHostKeys []string   // x/crypto/ssh host key algorithms
			wantSSH    string     // OpenSSH client's message
			wantGo     string     // x/crypto/ssh's error
			wantLog    string     // sshd's "Unable to negotiate ... no matching X found"
		}
		rows := []row{
			{
				name: "all old: SHA-1/NIST key exchange, ssh-rsa host key, hmac-sha1",
				ssh: []string{"KexAlgorithms=diffie-hellman-group14-sha1,ecdh-sha2-nistp256", "HostKeyAlgorithms=ssh-rsa",
					"Ciphers=aes128-ctr", "MACs=hmac-sha1"},
				goCfg: ssh.Config{KeyExchanges: []string{ssh.InsecureKeyExchangeDH14SHA1, ssh.KeyExchangeECDHP256},
					Ciphers: []string{ssh.CipherAES128CTR}, MACs: []string{ssh.HMACSHA1}},
				goHostKeys: []string{ssh.KeyAlgoRSA},
				wantSSH:    "no matching key exchange method found",
				wantGo:     "no common algorithm for key exchange",
				wantLog:    "no matching key exchange method found",
			},
			{
				name:       "host key ssh-rsa (SHA-1 signatures) only",
				ssh:        []string{"HostKeyAlgorithms=ssh-rsa"},
				goHostKeys: []string{ssh.KeyAlgoRSA},
				wantSSH:    "no matching host key type found",
				wantGo:     "no common algorithm for host key",
				wantLog:    "no matching host key type found",
			},
			{
				name:    "MAC hmac-sha1 only (with aes128-ctr)",
				ssh:     []string{"Ciphers=aes128-ctr", "MACs=hmac-sha1"},
				goCfg:   ssh.Config{Ciphers: []string{ssh.CipherAES128CTR}, MACs: []string{ssh.HMACSHA1}},
				wantSSH: "no matching MAC found",
				wantGo:  "no common algorithm for client to server MAC",
				wantLog: "no matching MAC found",
			},
		}
		signer := loadKey(t, key)
		for _, r := range rows {
			// ssh prints "Unable to negotiate" at level INFO.
			opts := []string{"-o", "LogLevel=INFO"}
			for _, o := range r.ssh {
				opts = append(opts, "-o", o)
			}
			out, err := openssh(key, port, "alice", opts, "true")
			t.Logf("OpenSSH, %s: %v: %s", r.name, err, strings.TrimSpace(out))
			if err == nil || !strings.Contains(out, r.wantSSH) {
				t.Errorf("OpenSSH, %s: want refusal %q, got %v: %q", r.name, r.wantSSH, err, out)
			}
			c, err := goDialHostKeys(port, "alice", signer, r.goCfg, r.goHostKeys)
			if err == nil {
				c.Close()
				t.Errorf("x/crypto/ssh, %s: logged in", r.name)
				continue
			}
			t.Logf("x/crypto/ssh, %s: %v", r.name, err)
			if !strings.Contains(err.Error(), r.wantGo) {
				t.Errorf("x/crypto/ssh, %s: want %q, got %v", r.name, r.wantGo, err)
			}
		}
		// sshd's side: each refusal, of either client, is logged as a
		// negotiation failure naming the kind that did not match. By syslog
		// identifier, not unit: a pre-auth child often exits before journald
		// attributes its message to ssh.service; OpenSSH >= 9.8 logs from
		// sshd-session. Under TCG journald may lag: poll.
		query := "sudo -n journalctl -q --no-pager -o cat -t sshd -t sshd-session --since @" + since + " | grep 'Unable to negotiate' || true"
		var journal string
		var missing []row
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(3 * time.Second) {
			journal = mustRun(t, run, query)
			missing = nil
			for _, r := range rows {
				// One line per client: OpenSSH and x/crypto/ssh.
				if strings.Count(journal, r.wantLog) < 2 {
					missing = append(missing, r)
				}
			}
			if len(missing) == 0 || time.Now().After(deadline) {
				break
			}
		}
		t.Logf("sshd:\n%s", journal)
		for _, r := range missing {
			t.Errorf("sshd did not log %q for both clients", r.wantLog)
		}
		// The refusals cost alice nothing: a new login still works, and
		// fail2ban has not banned the host side (10.0.2.2).
		if out, err := openssh(key, port, "alice", nil, "id -un"); err != nil || strings.TrimSpace(out) != "alice" {
			t.Errorf("alice after the refused clients: %v: %q", err, out)
		}
		if st, _ := run("sudo -n fail2ban-client status sshd"); strings.Contains(st, "10.0.2.2") {
			t.Errorf("the refused clients got the host banned:\n%s", st)
		}
	})
}

// sshAudit runs ssh-audit against 127.0.0.1:port. Its per-connection
// timeout is 60 s instead of 5: a TCG guest's key exchanges (ssh-audit
// opens one connection per host key type) are slow, more so with other
// VMs on the machine.
func sshAudit(t *testing.T, port int) sshaudit.Result {
	t.Helper()
	if !sshaudit.Installed() {
		t.Fatal(sshaudit.ErrNotInstalled)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	r, err := sshaudit.Run(ctx, "127.0.0.1", port, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sshAuditVersion is ssh-audit's version ("v2.5.0"), from its help banner.
func sshAuditVersion() string {
	out, _ := exec.Command("ssh-audit", "-h").CombinedOutput()
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "v") && strings.Count(f, ".") >= 1 {
			return strings.TrimSuffix(f, ",")
		}
	}
	return "(version unknown)"
}

// verdicts keeps ssh-audit's [fail] and [warn] lines.
func verdicts(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "[fail]") || strings.Contains(l, "[warn]") {
			keep = append(keep, "  "+strings.TrimSpace(l))
		}
	}
	return strings.Join(keep, "\n")
}

// goDial logs in to 127.0.0.1:port with x/crypto/ssh and cfg's algorithms
// (empty: the library's defaults).
func goDial(port int, user string, signer ssh.Signer, cfg ssh.Config) (*ssh.Client, error) {
	return goDialHostKeys(port, user, signer, cfg, nil)
}

func goDialHostKeys(port int, user string, signer ssh.Signer, cfg ssh.Config, hostKeyAlgs []string) (*ssh.Client, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	conn, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	// Under TCG, with other VMs on the machine, a handshake takes seconds.
	conn.SetDeadline(time.Now().Add(90 * time.Second))
	cc, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		Config:            cfg,
		User:              user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   ssh.InsecureIgnoreHostKey(),
		HostKeyAlgorithms: hostKeyAlgs,
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(cc, chans, reqs), nil
}

// mustRun runs cmd with run (a VM's Run) and fails the test on an error.
func mustRun(t *testing.T, run func(string) (string, error), cmd string) string {
	t.Helper()
	out, err := run(cmd)
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	return out
}
