package steps

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

var cisMounts = []fstabMount{
	{Where: "/tmp", Options: []string{"nodev", "nosuid", "noexec"}, Base: []string{"mode=1777", "strictatime"}},
	{Where: "/dev/shm", Options: []string{"nodev", "nosuid", "noexec"}},
}

func TestFstabWith(t *testing.T) {
	cases := []struct {
		name, in string
		want     []fstabMount
		drop     []string
		out      string
	}{
		{"unconfigured", "# UNCONFIGURED FSTAB FOR BASE SYSTEM\n", cisMounts, nil,
			"# UNCONFIGURED FSTAB FOR BASE SYSTEM\n" +
				"# hardbake mounts: /tmp\ntmpfs\t/tmp\ttmpfs\tmode=1777,strictatime,nodev,nosuid,noexec\t0\t0\n" +
				"# hardbake mounts: /dev/shm\ntmpfs\t/dev/shm\ttmpfs\tnodev,nosuid,noexec\t0\t0\n"},
		{"empty file", "", cisMounts[1:], nil,
			"# hardbake mounts: /dev/shm\ntmpfs\t/dev/shm\ttmpfs\tnodev,nosuid,noexec\t0\t0\n"},
		{"no final newline", "UUID=abc / ext4 errors=remount-ro 0 1", cisMounts[1:], nil,
			"UUID=abc / ext4 errors=remount-ro 0 1\n# hardbake mounts: /dev/shm\ntmpfs\t/dev/shm\ttmpfs\tnodev,nosuid,noexec\t0\t0\n"},
		{"admin's /tmp partition: options completed in place, layout kept",
			"UUID=abc  /      ext4  errors=remount-ro  0 1\n# /tmp was on /dev/vdb1 during installation\nUUID=def  /tmp/  ext4  defaults,exec  0 2\n#tmpfs /dev/shm tmpfs defaults 0 0\n",
			cisMounts, nil,
			"UUID=abc  /      ext4  errors=remount-ro  0 1\n# /tmp was on /dev/vdb1 during installation\nUUID=def  /tmp/  ext4  defaults,nodev,nosuid,noexec  0 2\n#tmpfs /dev/shm tmpfs defaults 0 0\n" +
				"# hardbake mounts: /dev/shm\ntmpfs\t/dev/shm\ttmpfs\tnodev,nosuid,noexec\t0\t0\n"},
		{"size replaced, four fields only",
			"tmpfs /dev/shm tmpfs rw,size=1g,nosuid\n",
			[]fstabMount{{Where: "/dev/shm", Options: []string{"nodev", "nosuid", "noexec"}, Size: "25%"}}, nil,
			"tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec,size=25%\n"},
		{"escaped mount point", "/dev/vdc /srv/my\\040data ext4 defaults 0 2\n",
			[]fstabMount{{Where: "/srv/my data", Options: []string{"nodev"}}}, nil,
			"/dev/vdc /srv/my\\040data ext4 defaults,nodev 0 2\n"},
		{"disabled: our line goes, the admin's stays",
			"# hardbake mounts: /tmp\ntmpfs\t/tmp\ttmpfs\tmode=1777,strictatime,nodev,nosuid,noexec\t0\t0\ntmpfs /dev/shm tmpfs nodev 0 0\n",
			nil, []string{"/tmp", "/dev/shm"},
			"tmpfs /dev/shm tmpfs nodev 0 0\n"},
		{"fewer options asked: more are never removed", "tmpfs /tmp tmpfs nodev,nosuid,noexec 0 0\n",
			[]fstabMount{{Where: "/tmp", Options: []string{"nodev"}}}, nil,
			"tmpfs /tmp tmpfs nodev,nosuid,noexec 0 0\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, lines := fstabWith(c.in, c.want, c.drop)
			if out != c.out {
				t.Fatalf("got:\n%s\nwant:\n%s", out, c.out)
			}
			again, _ := fstabWith(out, c.want, c.drop)
			if again != out {
				t.Errorf("a second run changes it again:\n%s", again)
			}
			for n, where := range lines {
				if l := strings.Split(out, "\n")[n-1]; !strings.Contains(unescapeFstab(l), where) {
					t.Errorf("line %d %q is not the line of %s", n, l, where)
				}
			}
		})
	}
}

func TestRestrictingAndMountinfo(t *testing.T) {
	want := []string{"nodev", "nosuid", "noexec"}
	for opts, got := range map[string]string{
		"mode=1777,strictatime,nosuid,nodev,size=50%%": "nodev,nosuid",
		"nodev,nosuid,noexec,exec":                     "nodev,nosuid",
		"noexec,defaults":                              "",
		"defaults,noexec,nodev,nosuid":                 "nodev,nosuid,noexec",
	} {
		if r := strings.Join(restricting(strings.Split(opts, ","), want), ","); r != got {
			t.Errorf("%s: %q, want %q", opts, r, got)
		}
	}
	// Two lines of a real /proc/self/mountinfo (Debian 13, systemd 257).
	info := "31 25 0:29 / /dev/shm rw,nosuid,nodev shared:4 - tmpfs tmpfs rw,inode64\n" +
		"34 28 0:31 / /tmp rw,nosuid,nodev,noexec shared:15 - tmpfs tmpfs rw,size=1007096k,nr_inodes=1048576,inode64\n"
	if o, ok := mountinfoOptions(info, "/tmp"); !ok || strings.Join(restricting(o, want), ",") != "nodev,nosuid,noexec" {
		t.Errorf("/tmp: %v %v", o, ok)
	}
	if o, ok := mountinfoOptions(info, "/dev/shm"); !ok || strings.Join(restricting(o, want), ",") != "nodev,nosuid" {
		t.Errorf("/dev/shm: %v %v", o, ok)
	}
	if _, ok := mountinfoOptions(info, "/var/tmp"); ok {
		t.Error("/var/tmp is not mounted")
	}
}

// realRootEnv is an Env on a fresh copy of a cached Debian root, commands
// run in it with chroot.
func realRootEnv(t *testing.T, suite, prof string) (*Env, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	dir := testroot.Debian(t, suite)
	r, d := testroot.Open(t, dir)
	p, err := profile.Parse([]byte(prof))
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Root: r, Run: runner.Exec{Chroot: dir}, Distro: d, Profile: p}, dir
}

// TestMountsOnRealRoots bakes the mounts step into Debian 12 and 13 roots
// and lets their own tools judge the result: findmnt parses the fstab, and
// systemd-fstab-generator (the one that reads it at boot) makes a tmp.mount
// with the options the step's check reports, and no unit for /dev/shm but
// systemd-remount-fs, which applies the /dev/shm line to the mount systemd
// made.
func TestMountsOnRealRoots(t *testing.T) {
	for _, suite := range []string{"bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) {
			env, dir := realRootEnv(t, suite, "mounts:\n  tmp:\n    size: 25%\n")
			ctx := context.Background()
			before, _ := os.ReadFile(filepath.Join(dir, "etc/fstab"))
			if _, err := (Mounts{}).Apply(ctx, env); err != nil {
				t.Fatal(err)
			}
			after, _ := os.ReadFile(filepath.Join(dir, "etc/fstab"))
			if !strings.HasPrefix(string(after), string(before)) {
				t.Errorf("the image's own lines changed:\n%s", after)
			}
			res, err := env.Run.Run(ctx, findmntVerify)
			if err != nil {
				t.Fatalf("findmnt --verify: %v\n%s%s", err, res.Stdout, res.Stderr)
			}
			if err := os.MkdirAll(filepath.Join(dir, "run/gen"), 0o755); err != nil {
				t.Fatal(err)
			}
			gen := runner.Cmd{Name: "env", Args: []string{"SYSTEMD_PROC_CMDLINE=", "/lib/systemd/system-generators/systemd-fstab-generator", "/run/gen", "/run/gen", "/run/gen"}}
			if res, err := env.Run.Run(ctx, gen); err != nil {
				t.Fatalf("systemd-fstab-generator: %v\n%s", err, res.Stderr)
			}
			unit, err := os.ReadFile(filepath.Join(dir, "run/gen/tmp.mount"))
			if err != nil {
				t.Fatal(err)
			}
			opts, from := bootOptions(env, managedMounts[0])
			if got := unitOptions(string(unit)); !slices.Equal(got, opts) || !strings.Contains(string(unit), "What=tmpfs") {
				t.Errorf("generator's tmp.mount has %v, the check reads %v from %s", got, opts, from)
			}
			if _, err := os.Stat(filepath.Join(dir, "run/gen/dev-shm.mount")); err == nil {
				t.Error("the generator made a unit for /dev/shm: it should leave the API mount to systemd-remount-fs")
			}
			if _, err := os.Stat(filepath.Join(dir, "run/gen/local-fs.target.wants/systemd-remount-fs.service")); err != nil {
				t.Errorf("systemd-remount-fs is not pulled in, nobody applies the /dev/shm line: %v", err)
			}
			checks, err := (Mounts{}).Check(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			if len(checks) != 3 {
				t.Errorf("%d checks, want 3 (tmp, dev_shm, fstab_parses)", len(checks))
			}
			for _, c := range checks {
				if !c.OK {
					t.Errorf("%s: want %s, got %s (%s)", c.ID, c.Want, c.Got, c.Detail)
				}
			}
			if again, err := (Mounts{}).Plan(ctx, env); err != nil || len(again) != 0 {
				t.Errorf("second plan: %v %v", again, err)
			}
		})
	}
}

// TestMountsCheckFailsWhereItShould: the stock roots fail (Debian 12: /tmp
// no mount, /dev/shm exec; Debian 13: tmp.mount without noexec), a masked
// tmp.mount wins over the fstab line, and a line of ours libmount cannot
// parse is caught by findmnt.
func TestMountsCheckFailsWhereItShould(t *testing.T) {
	ctx := context.Background()
	for suite, tmp := range map[string]string{"bookworm": "", "trixie": "nodev,nosuid"} {
		env, dir := realRootEnv(t, suite, "")
		checks, err := (Mounts{}).Check(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, c := range checks {
			got[c.ID] = c.Got
		}
		if got["mounts.tmp.boot_options"] != tmp || got["mounts.dev_shm.boot_options"] != "nodev,nosuid" {
			t.Errorf("%s stock: %v", suite, got)
		}
		if _, err := (Mounts{}).Apply(ctx, env); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/dev/null", filepath.Join(dir, "etc/systemd/system/tmp.mount")); err != nil {
			t.Fatal(err)
		}
		if opts, from := bootOptions(env, managedMounts[0]); opts != nil || !strings.Contains(from, "masks") {
			t.Errorf("%s masked tmp.mount: %v from %s", suite, opts, from)
		}
		if err := os.WriteFile(filepath.Join(dir, "etc/fstab"), []byte("# x\ntmpfs /tmp\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := fstabParses(ctx, env, map[int]string{2: "/tmp"}); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%s: a broken line of ours passes: %v", suite, err)
		}
	}
}

// TestMountsDeviations: the layout partitions always; offline, the partition
// rules a scan cannot see; a disabled mount point or a left-out option names
// exactly its rules.
func TestMountsDeviations(t *testing.T) {
	env, _ := goldenEnv(t, "debian12", "mounts:\n  tmp:\n    options: [nodev, nosuid]\n  dev_shm:\n    enabled: false\n", nil)
	var refs []string
	for _, d := range (Mounts{}).Deviations(env) {
		refs = append(refs, strings.Join(d.Refs, " "))
	}
	want := []string{
		strings.Join(separatePartitions, " "),
		"ssg:partition_for_tmp",
		"ssg:mount_option_tmp_noexec",
		"ssg:mount_option_dev_shm_nodev ssg:mount_option_dev_shm_nosuid ssg:mount_option_dev_shm_noexec ssg:partition_for_dev_shm",
	}
	if !slices.Equal(refs, want) {
		t.Errorf("deviations:\n%s\nwant:\n%s", strings.Join(refs, "\n"), strings.Join(want, "\n"))
	}
}
