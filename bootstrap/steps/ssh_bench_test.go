package steps

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/sshdconfig"
)

// BenchmarkBakeSSH is a whole `bake --only ssh` (plan, write, check) on a
// fixture root shaped like a Debian cloud image, minus running sshd.
func BenchmarkBakeSSH(b *testing.B) {
	files := map[string]string{
		"etc/os-release":                           "ID=debian\nVERSION_ID=12\n",
		"etc/ssh/sshd_config":                      "PermitRootLogin yes\n" + debianInclude + "Match User backup\n  PasswordAuthentication yes\n",
		"etc/ssh/sshd_config.d/50-cloud-init.conf": "PasswordAuthentication yes\n",
		"etc/cloud/cloud.cfg.d/90_dpkg.cfg":        "datasource_list: [ NoCloud, None ]\n",
		"etc/passwd":                               "root:x:0:0:root:/root:/bin/bash\n",
	}
	env := fixture(b, files)
	ctx := context.Background()
	main := filepath.Join(env.Root.Dir, "etc/ssh/sshd_config")
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		os.WriteFile(main, []byte(files["etc/ssh/sshd_config"]), 0o644)
		os.Remove(filepath.Join(env.Root.Dir, CloudInitSSH))
		b.StartTimer()
		changes, err := (SSH{}).Apply(ctx, env)
		if err != nil || len(changes) == 0 {
			b.Fatal(err, changes)
		}
		if _, err := (SSH{}).Check(ctx, env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluate is the offline evaluator alone on the same files.
func BenchmarkEvaluate(b *testing.B) {
	env := fixture(b, map[string]string{
		"etc/os-release":                           "ID=debian\n",
		"etc/ssh/sshd_config":                      debianInclude,
		"etc/ssh/sshd_config.d/50-cloud-init.conf": "PasswordAuthentication yes\n",
	})
	for b.Loop() {
		if _, err := sshdconfig.Load(env.Root, SSHDConfig); err != nil {
			b.Fatal(err)
		}
	}
}
