package firstboot

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/host"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/earlysshd"
)

// TestSSHDAnswers: sshd -V, the algorithm probes and sshd -T (for the same
// files) start sshd once; the validation sshd -t always runs, a failed
// answer is asked again, and sshd -T runs again once a file changed.
func TestSSHDAnswers(t *testing.T) {
	env, rec := fixtureEnv(t, "debian12")
	rec.Responses = map[string]runner.Result{
		"/usr/sbin/sshd -t -f /etc/ssh/sshd_config -o Ciphers=nope": {ExitCode: 255, Stderr: []byte("Bad SSH2 cipher spec 'nope'.")},
	}
	run := rememberSSHD(env).Run
	ctx := context.Background()
	sshd := func(args ...string) runner.Cmd { return runner.Cmd{Name: "/usr/sbin/sshd", Args: args} }
	for i := 0; i < 3; i++ {
		run.Run(ctx, sshd("-V"))
		run.Run(ctx, sshd("-t", "-f", "/etc/ssh/sshd_config", "-o", "Ciphers=aes256-gcm@openssh.com"))
		run.Run(ctx, sshd("-t", "-f", "/etc/ssh/sshd_config", "-o", "Ciphers=nope"))
		run.Run(ctx, sshd("-t", "-f", "/etc/ssh/sshd_config"))
		run.Run(ctx, sshd("-T", "-f", "/etc/ssh/sshd_config"))
		run.Run(ctx, runner.Cmd{Name: "visudo", Args: []string{"-c", "-q"}})
	}
	if err := env.Root.WriteFile("/etc/ssh/sshd_config", []byte("Port 2222\n"), 0o644, root.RootOwner); err != nil {
		t.Fatal(err)
	}
	run.Run(ctx, sshd("-T", "-f", "/etc/ssh/sshd_config"))
	count := map[string]int{}
	for _, c := range rec.Strings() {
		count[c]++
	}
	for c, want := range map[string]int{
		"/usr/sbin/sshd -V": 1,
		"/usr/sbin/sshd -t -f /etc/ssh/sshd_config -o Ciphers=aes256-gcm@openssh.com": 1,
		"/usr/sbin/sshd -t -f /etc/ssh/sshd_config -o Ciphers=nope":                   3,
		"/usr/sbin/sshd -t -f /etc/ssh/sshd_config":                                   3,
		"/usr/sbin/sshd -T -f /etc/ssh/sshd_config":                                   2,
		"visudo -c -q": 3,
	} {
		if count[c] != want {
			t.Errorf("%s ran %d times, want %d (all: %q)", c, count[c], want, rec.Strings())
		}
	}
}

// TestSudoRefused: when visudo -c refuses, each new file is checked on its
// own (the message names it) and the drop-in does not stay.
func TestSudoRefused(t *testing.T) {
	env, rec := fixtureEnv(t, "debian12")
	rec.Responses = map[string]runner.Result{"visudo -c": {ExitCode: 1, Stderr: []byte("syntax error")}}
	_, err := ensureSudo(context.Background(), env, host.User{Name: "alice", Sudo: host.SudoNoPasswd})
	if err == nil || !strings.Contains(err.Error(), "-f /etc/sudoers.d/90-hardbake-alice") {
		t.Fatalf("err %v", err)
	}
	if got := rec.Strings(); !slices.Equal(got, []string{"visudo -c -q", "visudo -c -q -f /etc/sudoers.d/90-hardbake-alice"}) {
		t.Errorf("commands %q", got)
	}
	if env.Root.Exists(userSudoers("alice")) {
		t.Error("a sudoers file visudo refused stayed")
	}
}

// TestMemoizable: only questions with nothing of their own are remembered;
// the validation `sshd -t`, another binary, input, environment or another
// host key always run.
func TestMemoizable(t *testing.T) {
	sshd := "/usr/sbin/sshd"
	for _, tc := range []struct {
		c    runner.Cmd
		want bool
	}{
		{runner.Cmd{Name: sshd, Args: []string{"-V"}}, true},
		{runner.Cmd{Name: sshd, Args: []string{"-T", "-f", "/etc/ssh/sshd_config"}}, true},
		{runner.Cmd{Name: sshd, Args: []string{"-t", "-f", "/etc/ssh/sshd_config", "-o", "Ciphers=aes128-ctr"}}, true},
		{runner.Cmd{Name: sshd, Args: []string{"-t", "-f", "/etc/ssh/sshd_config"}}, false},
		{runner.Cmd{Name: sshd, Args: []string{"-T", "-h", "/tmp/key"}}, false},
		{runner.Cmd{Name: sshd, Args: []string{"-t", "-h", "/tmp/key", "-o", "Ciphers=aes128-ctr"}}, false},
		{runner.Cmd{Name: sshd, Args: []string{"-T"}, Stdin: []byte("x")}, false},
		{runner.Cmd{Name: sshd, Args: []string{"-T"}, Env: []string{"A=b"}}, false},
		{runner.Cmd{Name: sshd}, false},
		{runner.Cmd{Name: "sshd", Args: []string{"-V"}}, false},
		{runner.Cmd{Name: sshd, Args: []string{"-V", "-x"}}, false},
	} {
		if got := memoizable(tc.c); got != tc.want {
			t.Errorf("memoizable(%s) = %v, want %v", tc.c, got, tc.want)
		}
	}
}

// TestSSHDAnswersEarly: with an early sshd, the ssh step's `sshd -T -f
// /etc/ssh/sshd_config` is answered by it, fed the main file as it is at
// that moment, and nothing else runs sshd -T; it answers once. When the
// early sshd refuses (or fails in any other way), the question is asked
// again the ordinary way and that answer counts.
func TestSSHDAnswersEarly(t *testing.T) {
	asked := runner.Cmd{Name: "/usr/sbin/sshd", Args: []string{"-T", "-f", "/etc/ssh/sshd_config"}}
	ask := func(t *testing.T, script string) (runner.Result, error, []string, []byte) {
		env, rec := fixtureEnv(t, "debian12")
		e := rememberSSHD(env)
		a, _ := sshdAnswersOf(e)
		a.early = startEarlySh(t, script)
		main, err := env.Root.ReadFile("/etc/ssh/sshd_config")
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Run.Run(context.Background(), asked)
		return res, err, rec.Strings(), main
	}
	t.Run("accepted", func(t *testing.T) {
		res, err, ran, main := ask(t, "cat")
		if err != nil || string(res.Stdout) != string(main) {
			t.Errorf("err %v; the early sshd was not fed the main file: %q", err, res.Stdout)
		}
		if len(ran) != 0 {
			t.Errorf("sshd ran anyway: %q", ran)
		}
	})
	t.Run("refused", func(t *testing.T) {
		res, err, ran, _ := ask(t, `cat >/dev/null; echo "/proc/self/fd/0 line 1: Bad configuration option: Nope" >&2; exit 255`)
		if err != nil || res.ExitCode != 0 || len(res.Stderr) != 0 {
			t.Errorf("the early refusal counted: %v %+v", err, res)
		}
		if !slices.Equal(ran, []string{asked.String()}) {
			t.Errorf("commands %q, want the question asked again: %q", ran, asked.String())
		}
	})
}

// startEarlySh starts sh -c script as earlysshd starts the early sshd
// (earlysshd.Spawn: stdin a pipe, output in memfds) and adopts it under the
// early sshd's command line.
func startEarlySh(t *testing.T, script string) *runner.Early {
	t.Helper()
	p, err := earlysshd.Spawn("/", "/bin/sh", []string{"-c", script})
	if err != nil {
		t.Fatal(err)
	}
	x := runner.AdoptEarly(runner.Cmd{Name: earlysshd.Binary, Args: earlysshd.Args}, p.Pid, p.Stdin, p.Out, p.Err)
	t.Cleanup(x.Cancel)
	return x
}
