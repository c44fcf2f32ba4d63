package steps

import (
	"strings"
	"testing"
)

func TestParseSysctl(t *testing.T) {
	text := strings.Join([]string{
		"# comment",
		"; also a comment",
		"",
		"  kernel.sysrq = 16  ",
		"-net.ipv4.ping_group_range = 0   2147483647",
		"net/ipv4/conf/eth0.100/rp_filter=1",
		"net.ipv4.conf.*.rp_filter = 2",
		"-net.ipv4.conf.all.rp_filter",
		"not an assignment",
		"= no key",
		"kernel.core_pattern=|/usr/lib/systemd/systemd-coredump %P %u",
	}, "\n")
	got := parseSysctl("/f.conf", text)
	want := []sysctlLine{
		{Path: "/f.conf", Line: 4, Key: "kernel.sysrq", Value: "16"},
		{Path: "/f.conf", Line: 5, Key: "net.ipv4.ping_group_range", Value: "0 2147483647", IgnoreFailure: true},
		{Path: "/f.conf", Line: 6, Key: "net.ipv4.conf.eth0/100.rp_filter", Value: "1"},
		{Path: "/f.conf", Line: 7, Key: "net.ipv4.conf.*.rp_filter", Value: "2", Glob: true},
		{Path: "/f.conf", Line: 8, Key: "net.ipv4.conf.all.rp_filter", IgnoreFailure: true, Exclude: true},
		{Path: "/f.conf", Line: 11, Key: "kernel.core_pattern", Value: "|/usr/lib/systemd/systemd-coredump %P %u"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestMergeSysctlFiles(t *testing.T) {
	etc := []sysctlFile{
		{Name: "50-default.conf", Path: "/etc/sysctl.d/50-default.conf", Text: "a = etc"},
		{Name: "99-sysctl.conf", Path: "/etc/sysctl.d/99-sysctl.conf", Text: "b = conf"},
		{Name: "60-masked.conf", Path: "/etc/sysctl.d/60-masked.conf", Masked: true},
	}
	run := []sysctlFile{{Name: "70-run.conf", Path: "/run/sysctl.d/70-run.conf", Text: "c = run"}}
	usr := []sysctlFile{
		{Name: "50-default.conf", Path: "/usr/lib/sysctl.d/50-default.conf", Text: "a = usr"},
		{Name: "60-masked.conf", Path: "/usr/lib/sysctl.d/60-masked.conf", Text: "d = usr"},
		{Name: "10-first.conf", Path: "/usr/lib/sysctl.d/10-first.conf", Text: "e = usr"},
	}
	var got []string
	for _, f := range mergeSysctlFiles([][]sysctlFile{etc, run, usr}, &sysctlFile{Name: "sysctl.conf", Path: "/etc/sysctl.conf"}) {
		got = append(got, f.Path)
	}
	want := []string{"/usr/lib/sysctl.d/10-first.conf", "/etc/sysctl.d/50-default.conf", "/run/sysctl.d/70-run.conf", "/etc/sysctl.d/99-sysctl.conf", "/etc/sysctl.conf"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("order:\n got %v\nwant %v", got, want)
	}
}

func TestSysctlEffective(t *testing.T) {
	files := func(texts ...string) sysctlConfig {
		var fs []sysctlFile
		for i, s := range texts {
			fs = append(fs, sysctlFile{Name: string(rune('a' + i)), Path: "/" + string(rune('a'+i)), Text: s})
		}
		return newSysctlConfig(fs)
	}
	for _, c := range []struct {
		name   string
		cfg    sysctlConfig
		key    string
		want   string // "" = not set
		origin string
	}{
		{"later line wins", files("k.x = 1\nk.x = 2"), "k.x", "2", "/a:2"},
		{"later file wins", files("k.x = 2", "k.x = 3"), "k.x", "3", "/b:1"},
		{"slash form is the same key", files("k.x = 1", "k/x = 0"), "k.x", "0", "/b:1"},
		{"explicit beats a later glob", files("net.ipv4.conf.all.rp_filter = 1", "net.ipv4.conf.*.rp_filter = 2"), "net.ipv4.conf.all.rp_filter", "1", "/a:1"},
		{"glob sets an interface", files("net.ipv4.conf.*.rp_filter = 2"), "net.ipv4.conf.eth0.rp_filter", "2", "/a:1"},
		{"last matching glob wins", files("net.ipv4.conf.*.rp_filter = 2", "net.ipv4.conf.e*.rp_filter = 1"), "net.ipv4.conf.eth0.rp_filter", "1", "/b:1"},
		{"glob does not cross components", files("net.*.rp_filter = 2"), "net.ipv4.conf.eth0.rp_filter", "", ""},
		// systemd's 50-default.conf: the glob skips "all", which keeps the kernel's value.
		{"exclusion keeps a key out of globs", files("net.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.all.rp_filter"), "net.ipv4.conf.all.rp_filter", "", ""},
		{"exclusion does not stop an explicit value", files("net.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.all.rp_filter", "net.ipv4.conf.all.rp_filter = 1"), "net.ipv4.conf.all.rp_filter", "1", "/b:1"},
		{"dash prefix still sets", files("-kernel.yama.ptrace_scope = 1"), "kernel.yama.ptrace_scope", "1", "/a:1"},
		{"interface name with a dot", files("net/ipv4/conf/eth0.100/rp_filter = 0"), "net.ipv4.conf.eth0/100.rp_filter", "0", "/a:1"},
		{"unset", files("a.b = 1"), "a.c", "", ""},
	} {
		l, ok := c.cfg.Effective(c.key)
		got := ""
		if ok {
			got = l.Value
		}
		if got != c.want || l.Origin() != c.origin {
			t.Errorf("%s: got %q from %q, want %q from %q", c.name, got, l.Origin(), c.want, c.origin)
		}
	}
}

func TestSysctlConflicts(t *testing.T) {
	fs := []sysctlFile{
		{Path: "/usr/lib/sysctl.d/50-default.conf", Text: "net.ipv4.conf.all.rp_filter = 2\nnet.ipv4.conf.*.rp_filter = 2\n"},
		{Path: "/etc/sysctl.d/99-zz-hardbake.conf", Text: "net.ipv4.conf.all.rp_filter = 1\n"},
		{Path: "/etc/sysctl.conf", Text: "#net.ipv4.conf.all.rp_filter = 0\n-net.ipv4.conf.all.rp_filter=0\n"},
	}
	var got []string
	for _, l := range sysctlConflicts(fs, "net.ipv4.conf.all.rp_filter", "1") {
		got = append(got, l.Origin())
	}
	if want := "/usr/lib/sysctl.d/50-default.conf:1 /etc/sysctl.conf:2"; strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}
