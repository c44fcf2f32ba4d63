package hardbake

// Acceptance tests with a real packer (v1.16.0 built from its module zip by
// scripts/tools.sh) and this plugin installed with `packer plugins install`.
// They run when PACKER_ACC=1 (make test sets it).

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/acctest"
)

var (
	accOnce  sync.Once
	accEnv   []string
	accPaker string
	accErr   error
	accWork  string // the private plugin directory, removed by TestMain
)

// TestMain removes the plugin directory packerEnv made (one per test run,
// which would otherwise pile up in TMPDIR).
func TestMain(m *testing.M) {
	code := m.Run()
	if accWork != "" {
		os.RemoveAll(accWork)
	}
	os.Exit(code)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// packerEnv builds packer and the plugin once and installs the plugin into a
// private PACKER_PLUGIN_PATH, so the test never touches the user's plugins.
func packerEnv(t *testing.T) (string, []string) {
	t.Helper()
	if os.Getenv(acctest.TestEnvVar) == "" {
		t.Skipf("acceptance tests need %s=1 (make test sets it)", acctest.TestEnvVar)
	}
	accOnce.Do(func() {
		root := repoRoot(t)
		out, err := exec.Command("bash", filepath.Join(root, "scripts/tools.sh"), "packer").Output()
		if err != nil {
			accErr = err
			return
		}
		accPaker = strings.TrimSpace(string(out))
		work, err := os.MkdirTemp("", "hardbake-packer-")
		if err != nil {
			accErr = err
			return
		}
		accWork = work
		plugin := filepath.Join(work, "packer-plugin-hardbake")
		build := exec.Command("go", "build", "-o", plugin, "./cmd/packer-plugin-hardbake")
		build.Dir = root
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			accErr = err
			t.Logf("%s", out)
			return
		}
		accEnv = append(os.Environ(), "CHECKPOINT_DISABLE=1", "PACKER_PLUGIN_PATH="+filepath.Join(work, "plugins"), "PACKER_CONFIG_DIR="+work)
		install := exec.Command(accPaker, "plugins", "install", "--path", plugin, "github.com/hardbake/hardbake")
		install.Env = accEnv
		if out, err := install.CombinedOutput(); err != nil {
			accErr = err
			t.Logf("%s", out)
		}
	})
	if accErr != nil {
		t.Fatalf("setting up packer: %v", accErr)
	}
	return accPaker, accEnv
}

func packer(t *testing.T, env []string, dir string, args ...string) (string, int) {
	t.Helper()
	packerBin, _ := packerEnv(t)
	cmd := exec.Command(packerBin, args...)
	cmd.Env, cmd.Dir = env, dir
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

const validateTemplate = `
packer {
  required_plugins {
    hardbake = {
      source  = "github.com/hardbake/hardbake"
      version = ">= 0.1.0"
    }
  }
}
source "null" "target" {
  communicator = "ssh"
  ssh_host     = "127.0.0.1"
  ssh_username = "root"
  ssh_password = "unused"
}
build {
  sources = ["source.null.target"]
  provisioner "hardbake" {
    PROVISIONER
  }
}
`

func TestAccPackerInitAndValidate(t *testing.T) {
	_, env := packerEnv(t)
	dir := t.TempDir()
	write := func(body string) {
		tmpl := strings.Replace(validateTemplate, "PROVISIONER", body, 1)
		if err := os.WriteFile(filepath.Join(dir, "t.pkr.hcl"), []byte(tmpl), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`profile_yaml = "ssh:\n  address_family: inet\n"`)
	// init finds the installed release version offline.
	if out, code := packer(t, env, dir, "init", "."); code != 0 {
		t.Fatalf("packer init: %d\n%s", code, out)
	}
	if out, code := packer(t, env, dir, "validate", "."); code != 0 {
		t.Fatalf("packer validate of a good template: %d\n%s", code, out)
	}
	// A bad profile: packer validate fails with our message, every problem listed.
	write(`profile_yaml = "ssh:\n  address_family: ipv4\n  ports: [70000]\n"` + "\n    only_steps = [\"sshd\"]")
	out, code := packer(t, env, dir, "validate", ".")
	if code == 0 {
		t.Fatalf("packer validate accepted a bad profile:\n%s", out)
	}
	for _, want := range []string{
		`ssh.address_family (line 2): "ipv4" is not one of any, inet, inet6`,
		`ssh.ports[0] (line 3): 70000 is out of range 1-65535`,
		`only_steps: unknown step "sshd"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("packer validate output lacks %q:\n%s", want, out)
		}
	}
	// A misspelled option is caught by the HCL2 spec.
	write(`profil = "x.yaml"`)
	if out, code := packer(t, env, dir, "validate", "."); code == 0 || !strings.Contains(out, `"profil"`) {
		t.Errorf("unknown option accepted: %d\n%s", code, out)
	}
}
