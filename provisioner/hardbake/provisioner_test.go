package hardbake

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

var _ packersdk.Provisioner = new(Provisioner)

func prepare(t *testing.T, raw map[string]interface{}) (*Provisioner, error) {
	t.Helper()
	p := &Provisioner{binaries: func(arch string) ([]byte, error) { return []byte("BIN-" + arch), nil }}
	return p, p.Prepare(raw)
}

func TestPrepareDefaults(t *testing.T) {
	p, err := prepare(t, map[string]interface{}{})
	if err != nil {
		t.Fatal(err)
	}
	c := p.config
	if c.ExecuteCommand != DefaultExecuteCommand || c.RemoteDir != "/tmp" || !*c.Seal || !*c.InstallFirstboot || c.DryRun {
		t.Fatalf("defaults: %+v", c)
	}
	if !strings.Contains(string(p.profileData), "address_family: any") {
		t.Fatal("default profile not uploaded")
	}
}

// TestPrepareValidation: every mistake at once, each message naming its field.
func TestPrepareValidation(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("ssh:\n  address_family: ipv4\n"), 0o644)
	cases := []struct {
		name string
		raw  map[string]interface{}
		want []string
	}{
		{"bad profile file", map[string]interface{}{"profile": bad},
			[]string{`profile: ` + bad + `: 1 problem(s):`, `ssh.address_family (line 2): "ipv4" is not one of any, inet, inet6`}},
		{"missing profile file", map[string]interface{}{"profile": filepath.Join(dir, "nope.yaml")},
			[]string{"profile: ", "nope.yaml"}},
		{"bad inline profile", map[string]interface{}{"profile_yaml": "ssh:\n  ports: [70000]\n"},
			[]string{`profile_yaml: `, `ssh.ports[0] (line 2): 70000 is out of range 1-65535`}},
		{"both profiles", map[string]interface{}{"profile": bad, "profile_yaml": "ssh: {}\n"},
			[]string{"profile and profile_yaml are mutually exclusive"}},
		{"unknown steps", map[string]interface{}{"only_steps": []string{"sshd"}, "skip_steps": []string{"bogus"}},
			[]string{`only_steps: unknown step "sshd"; steps are: ssh`, `skip_steps: unknown step "bogus"`}},
		{"relative remote_dir", map[string]interface{}{"remote_dir": "tmp"},
			[]string{`remote_dir: "tmp" must be an absolute path`}},
		{"missing binary", map[string]interface{}{"binary": filepath.Join(dir, "hardbake")},
			[]string{"binary: ", "no such file"}},
		{"execute_command without path", map[string]interface{}{"execute_command": "sudo true"},
			[]string{`execute_command: "sudo true" must contain {{.Path}}`}},
		{"all at once", map[string]interface{}{"profile_yaml": "bogus: 1\n", "only_steps": []string{"x"}, "remote_dir": "rel"},
			[]string{"profile_yaml: ", "bogus (line 1): unknown key", `only_steps: unknown step "x"`, "remote_dir"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := prepare(t, c.raw)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
		})
	}
}

// recordingComm is the SDK's MockCommunicator plus a record of every command
// and upload, and scripted answers per command prefix.
type recordingComm struct {
	packersdk.MockCommunicator
	mu        sync.Mutex
	commands  []string
	uploads   map[string]string
	modes     map[string]os.FileMode
	answers   map[string]answer
	report    string
	uploadErr error
}

type answer struct {
	stdout string
	status int
}

func newComm() *recordingComm {
	return &recordingComm{uploads: map[string]string{}, modes: map[string]os.FileMode{}, answers: map[string]answer{"uname -m": {stdout: "x86_64\n"}}}
}

func (c *recordingComm) Start(ctx context.Context, rc *packersdk.RemoteCmd) error {
	c.mu.Lock()
	c.commands = append(c.commands, rc.Command)
	var a answer
	for prefix, ans := range c.answers {
		if strings.HasPrefix(rc.Command, prefix) {
			a = ans
		}
	}
	c.mu.Unlock()
	go func() {
		if rc.Stdout != nil {
			io.WriteString(rc.Stdout, a.stdout)
		}
		rc.SetExited(a.status)
	}()
	return nil
}

func (c *recordingComm) Upload(path string, r io.Reader, fi *os.FileInfo) error {
	if c.uploadErr != nil {
		return c.uploadErr
	}
	data, _ := io.ReadAll(r)
	c.uploads[path] = string(data)
	if fi != nil {
		c.modes[path] = (*fi).Mode()
	}
	return nil
}

func (c *recordingComm) Download(path string, w io.Writer) error {
	if c.report == "" {
		return errors.New("no such file")
	}
	_, err := io.WriteString(w, c.report)
	return err
}

const okReport = `{"version":"test","command":"bake","changed":3,"ok":true,"steps":[{"name":"ssh","changed":true,"changes":[],"checks":[{"id":"ssh.permitrootlogin","ok":true,"want":"no","got":"no"}]}]}`

func TestProvisionUploadsRunsAndFetches(t *testing.T) {
	reportPath := filepath.Join(t.TempDir(), "report.json")
	p, err := prepare(t, map[string]interface{}{"profile_yaml": "ssh:\n  address_family: inet\n", "report_path": reportPath, "only_steps": []string{"ssh"}})
	if err != nil {
		t.Fatal(err)
	}
	comm := newComm()
	comm.report = okReport
	ui := packersdk.TestUi(t)
	if err := p.Provision(context.Background(), ui, comm, map[string]interface{}{"ConnType": "ssh"}); err != nil {
		t.Fatal(err)
	}
	if len(comm.commands) != 5 {
		t.Fatalf("commands: %q", comm.commands)
	}
	dir := strings.TrimPrefix(comm.commands[1], "mkdir -m 0700 ")
	if !strings.HasPrefix(dir, "/tmp/hardbake-") {
		t.Fatalf("mkdir: %q", comm.commands[1])
	}
	seal := ""
	if stepKnown("seal") {
		seal = " --seal" // seal defaults to true where this hardbake has the step
	}
	want := []string{
		"uname -m",
		"mkdir -m 0700 " + dir,
		"chmod 0755 " + dir + "/hardbake",
		"sudo -n " + dir + "/hardbake bake --profile " + dir + "/profile.yaml --report " + dir + "/report.json --only ssh" + seal,
		"rm -rf " + dir,
	}
	for i, w := range want {
		if comm.commands[i] != w {
			t.Errorf("command %d: got %q want %q", i, comm.commands[i], w)
		}
	}
	if comm.uploads[dir+"/hardbake"] != "BIN-amd64" || comm.modes[dir+"/hardbake"] != 0o755 {
		t.Errorf("binary upload: %q %v", comm.uploads[dir+"/hardbake"], comm.modes[dir+"/hardbake"])
	}
	if comm.uploads[dir+"/profile.yaml"] != "ssh:\n  address_family: inet\n" {
		t.Errorf("profile upload: %q", comm.uploads[dir+"/profile.yaml"])
	}
	if data, _ := os.ReadFile(reportPath); string(data) != okReport {
		t.Errorf("local report: %q", data)
	}
}

func TestProvisionArm64AndCustomCommand(t *testing.T) {
	p, err := prepare(t, map[string]interface{}{"execute_command": "{{.Path}} {{.Args}}", "dry_run": true, "remote_dir": "/var/tmp"})
	if err != nil {
		t.Fatal(err)
	}
	comm := newComm()
	comm.answers["uname -m"] = answer{stdout: "aarch64\n"}
	comm.report = okReport
	if err := p.Provision(context.Background(), packersdk.TestUi(t), comm, map[string]interface{}{}); err != nil {
		t.Fatal(err)
	}
	run := comm.commands[3]
	if !strings.HasPrefix(run, "/var/tmp/hardbake-") || !strings.HasSuffix(run, "/report.json --dry-run") {
		t.Fatalf("run: %q", run)
	}
	for path, data := range comm.uploads {
		if strings.HasSuffix(path, "/hardbake") && data != "BIN-arm64" {
			t.Fatalf("uploaded %q for aarch64", data)
		}
	}
}

func TestProvisionFailures(t *testing.T) {
	failReport := `{"version":"test","changed":0,"ok":false,"steps":[{"name":"ssh","changed":false,"changes":[],"checks":[],"error":"validation by the target's own tool failed: sshd -t: line 3: Bad option"}]}`
	cases := []struct {
		name  string
		setup func(c *recordingComm)
		data  map[string]interface{}
		want  []string
		// cleanup: the uploaded directory is still removed
		cleanup bool
	}{
		{"unknown arch", func(c *recordingComm) { c.answers["uname -m"] = answer{stdout: "riscv64\n"} }, nil,
			[]string{`unsupported target architecture "riscv64"`}, false},
		{"uname fails", func(c *recordingComm) { c.answers["uname -m"] = answer{status: 127} }, nil,
			[]string{"uname -m", "exited with 127"}, false},
		{"upload error", func(c *recordingComm) { c.uploadErr = errors.New("disk full") }, nil,
			[]string{"uploading hardbake: disk full"}, true},
		{"bake exits 1", func(c *recordingComm) {
			c.answers["sudo -n"] = answer{status: 1}
			c.report = failReport
		}, nil, []string{"exited with code 1 (a step or check failed)", "step ssh: validation by the target's own tool failed: sshd -t: line 3: Bad option"}, true},
		{"bake exits 2 without report", func(c *recordingComm) { c.answers["sudo -n"] = answer{status: 2} }, nil,
			[]string{"exited with code 2 (bad input, nothing was changed)"}, true},
		{"communicator none", nil, map[string]interface{}{"ConnType": "none"},
			[]string{`communicator is "none"`}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := prepare(t, map[string]interface{}{})
			if err != nil {
				t.Fatal(err)
			}
			comm := newComm()
			if c.setup != nil {
				c.setup(comm)
			}
			data := c.data
			if data == nil {
				data = map[string]interface{}{"ConnType": "ssh"}
			}
			err = p.Provision(context.Background(), packersdk.TestUi(t), comm, data)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in %v", w, err)
				}
			}
			last := ""
			if len(comm.commands) > 0 {
				last = comm.commands[len(comm.commands)-1]
			}
			if c.cleanup != strings.HasPrefix(last, "rm -rf /tmp/hardbake-") {
				t.Errorf("cleanup = %v, commands %q", !c.cleanup, comm.commands)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"/tmp/a": "/tmp/a", "a b": "'a b'", "it's": `'it'\''s'`, "": "''", "$(x)": "'$(x)'"} {
		if got := shellQuote(in); got != want {
			t.Errorf("%q: %q want %q", in, got, want)
		}
	}
}

func TestEmbeddedBinaryMissing(t *testing.T) {
	if _, err := embeddedBinary("s390x"); !errors.Is(err, errNoBinary) {
		t.Fatalf("got %v", err)
	}
}
