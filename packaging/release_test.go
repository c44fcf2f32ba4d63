// Package packaging_test builds a release with packaging/release.sh (what
// `make release` runs) and checks it with the tools its users have: dpkg in
// real Debian 12 and 13 roots, lintian, rpm, bsdtar, man, bash, HashiCorp's
// packer-sdc plugin-check and a real packer 1.16.0.
//
// To stay fast in `make test` it builds the plugin for linux/amd64 only and
// the packages for amd64 only (the hardbake binary is still built for both
// arm64 and amd64, which the plugin embeds); `make release` builds every
// platform with the same script.
package packaging_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/steps"
	"github.com/hardbake/hardbake/internal/testroot"
)

const testVersion = "v0.1.0"

// release is one build of release.sh into a temporary directory.
type release struct {
	dist, commit, date string
}

var (
	releaseOnce sync.Once
	releaseDir  string
	theRelease  *release
	releaseErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if releaseDir != "" {
		os.RemoveAll(releaseDir)
	}
	os.Exit(code)
}

func buildRelease(t *testing.T) *release {
	t.Helper()
	releaseOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hardbake-release-")
		if err != nil {
			releaseErr = err
			return
		}
		releaseDir = dir
		r := &release{dist: filepath.Join(dir, "dist")}
		out, err := exec.Command("git", "rev-parse", "HEAD").Output()
		if err != nil {
			releaseErr = fmt.Errorf("git rev-parse: %v", err)
			return
		}
		r.commit = strings.TrimSpace(string(out))
		out, err = exec.Command("git", "log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%dT%H:%M:%SZ").Output()
		if err != nil {
			releaseErr = fmt.Errorf("git log: %v", err)
			return
		}
		r.date = strings.TrimSpace(string(out))
		cmd := exec.Command("bash", "release.sh")
		cmd.Env = append(os.Environ(), "TZ=UTC", "VERSION="+testVersion, "DIST="+r.dist,
			"PLUGIN_PLATFORMS=linux_amd64", "PKG_ARCHS=amd64")
		if out, err := cmd.CombinedOutput(); err != nil {
			releaseErr = fmt.Errorf("release.sh: %v\n%s", err, out)
			return
		}
		theRelease = r
	})
	if releaseErr != nil {
		t.Fatal(releaseErr)
	}
	return theRelease
}

func (r *release) path(name string) string { return filepath.Join(r.dist, name) }

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func needTool(t *testing.T, name, hint string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is missing (%s; make deps installs it)", name, hint)
	}
}

// TestReleaseFiles: exactly the archives and packages, and checksums that
// sha256sum accepts.
func TestReleaseFiles(t *testing.T) {
	r := buildRelease(t)
	entries, err := os.ReadDir(r.dist)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := []string{
		"hardbake-0.1.0-1-x86_64.pkg.tar.zst",
		"hardbake-0.1.0-1.x86_64.rpm",
		"hardbake_0.1.0_amd64.deb",
		"hardbake_0.1.0_x86_64.apk",
		"hardbake_v0.1.0_SHA256SUMS",
		"hardbake_v0.1.0_linux_amd64.tar.gz",
		"hardbake_v0.1.0_linux_arm64.tar.gz",
		"packer-plugin-hardbake_v0.1.0_SHA256SUMS",
		"packer-plugin-hardbake_v0.1.0_x5.0_linux_amd64.zip",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("dist holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, sums := range []string{"hardbake_v0.1.0_SHA256SUMS", "packer-plugin-hardbake_v0.1.0_SHA256SUMS"} {
		cmd := exec.Command("sha256sum", "--strict", "-c", sums)
		cmd.Dir = r.dist
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sha256sum -c %s: %v\n%s", sums, err, out)
		}
	}
	sums, _ := os.ReadFile(r.path("hardbake_v0.1.0_SHA256SUMS"))
	if n := strings.Count(string(sums), "\n"); n != 6 {
		t.Errorf("hardbake_v0.1.0_SHA256SUMS has %d lines, want 6 (2 tarballs, 4 packages):\n%s", n, sums)
	}
}

// untarBinary reads hardbake out of a release tarball, checking its layout.
func untarBinary(t *testing.T, tgz, arch string) []byte {
	t.Helper()
	f, err := os.Open(tgz)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	var bin []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, fmt.Sprintf("%s %o %d:%d", h.Name, h.Mode&0o7777, h.Uid, h.Gid))
		if h.Typeflag == tar.TypeReg {
			if bin, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := "hardbake_v0.1.0_linux_" + arch
	want := []string{dir + "/ 755 0:0", dir + "/hardbake 755 0:0"}
	if !slices.Equal(names, want) {
		t.Fatalf("%s holds %q, want %q", tgz, names, want)
	}
	return bin
}

// TestTarballs: static binaries for both architectures that say which
// release, commit and build date they are.
func TestTarballs(t *testing.T) {
	r := buildRelease(t)
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	for arch, machine := range machines {
		bin := untarBinary(t, r.path("hardbake_v0.1.0_linux_"+arch+".tar.gz"), arch)
		ef, err := elf.NewFile(bytes.NewReader(bin))
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		if ef.Machine != machine {
			t.Errorf("%s: ELF machine %v", arch, ef.Machine)
		}
		for _, p := range ef.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s: not static (program header %v)", arch, p.Type)
			}
		}
		if arch != "amd64" {
			continue
		}
		exe := filepath.Join(t.TempDir(), "hardbake")
		if err := os.WriteFile(exe, bin, 0o755); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("hardbake %s commit %s built %s\n", testVersion, r.commit, r.date)
		if got := run(t, exe, "version"); got != want {
			t.Errorf("version: %q, want %q", got, want)
		}
		var v map[string]string
		if err := json.Unmarshal([]byte(run(t, exe, "version", "--json")), &v); err != nil {
			t.Fatal(err)
		}
		if v["version"] != testVersion || v["commit"] != r.commit || v["build_date"] != r.date || v["os"] != "linux" || v["arch"] != "amd64" {
			t.Errorf("version --json: %v", v)
		}
	}
}

// pluginBinary extracts the plugin from its zip, checking the zip holds
// exactly the binary packer init expects.
func pluginBinary(t *testing.T, r *release) string {
	t.Helper()
	name := "packer-plugin-hardbake_v0.1.0_x5.0_linux_amd64"
	zr, err := zip.OpenReader(r.path(name + ".zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != name {
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		t.Fatalf("zip holds %q, want [%s]", names, name)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "plugin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, name)
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}

// TestPluginArchive: the plugin describes itself as the release with API
// x5.0, embeds the release's own hardbake binaries (byte for byte), and
// passes HashiCorp's plugin-check.
func TestPluginArchive(t *testing.T) {
	r := buildRelease(t)
	exe := pluginBinary(t, r)
	var d struct {
		Version    string `json:"version"`
		APIVersion string `json:"api_version"`
	}
	if err := json.Unmarshal([]byte(run(t, exe, "describe")), &d); err != nil {
		t.Fatal(err)
	}
	if d.Version != "0.1.0" || d.APIVersion != "x5.0" {
		t.Errorf("describe: version %q api %q, want 0.1.0 and x5.0", d.Version, d.APIVersion)
	}
	plugin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		bin := untarBinary(t, r.path("hardbake_v0.1.0_linux_"+arch+".tar.gz"), arch)
		if !bytes.Contains(plugin, bin) {
			t.Errorf("the plugin does not embed the release's linux/%s hardbake", arch)
		}
	}
	// packer-sdc is a go tool of this module (go.mod). plugin-check wants
	// its argument itself to start with packer-plugin-: it runs in the
	// binary's directory.
	sdc, err := exec.Command("go", "tool", "-n", "packer-sdc").Output()
	if err != nil {
		t.Fatalf("go tool -n packer-sdc: %v", err)
	}
	cmd := exec.Command(strings.TrimSpace(string(sdc)), "plugin-check", filepath.Base(exe))
	cmd.Dir = filepath.Dir(exe)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("packer-sdc plugin-check: %v\n%s", err, out)
	} else {
		t.Logf("packer-sdc plugin-check: %s", bytes.TrimSpace(out))
	}
}

// debFiles lists a package's regular files as "path mode owner/group".
var lsLine = regexp.MustCompile(`^([-dlrwxsStT]{10})\s+(?:\d+\s+)?(\S+)[ /]+(\S+)\s+\d+\s+.*?\s(\.?/?(?:etc|usr)/\S*)$`)

func listing(t *testing.T, out string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		m := lsLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue // metadata (.PKGINFO, .MTREE, .SIGN..) and anything outside /etc, /usr
		}
		if m[1][0] != '-' {
			continue
		}
		path := "/" + strings.TrimPrefix(strings.TrimPrefix(m[4], "."), "/")
		files[path] = m[1] + " " + uid(m[2]) + "/" + uid(m[3])
	}
	return files
}

// uid maps an owner or group as listed to its number: the Arch package's
// tar headers carry only numbers, the others names.
func uid(name string) string {
	if name == "root" {
		return "0"
	}
	return name
}

// Only in the .deb: Debian's SysV script (sysvinit-core), lintian's
// overrides, and Debian's changelog.
var debOnly = []string{"/etc/init.d/hardbake-firstboot", "/usr/share/lintian/overrides/hardbake", "/usr/share/doc/hardbake/changelog.gz"}

var wantFiles = map[string]string{
	"/usr/bin/hardbake": "-rwxr-xr-x 0/0",
	"/usr/lib/systemd/system/hardbake-firstboot.service": "-rw-r--r-- 0/0",
	"/usr/lib/systemd/system/hardbake-audit.service":     "-rw-r--r-- 0/0",
	"/usr/lib/systemd/system/hardbake-audit.timer":       "-rw-r--r-- 0/0",
	"/etc/hardbake/profile.yaml":                         "-rw-r--r-- 0/0",
	"/usr/share/man/man1/hardbake.1.gz":                  "-rw-r--r-- 0/0",
	"/usr/share/bash-completion/completions/hardbake":    "-rw-r--r-- 0/0",
	"/usr/share/doc/hardbake/copyright":                  "-rw-r--r-- 0/0",
}

// TestPackagesSameFiles: the .rpm, .apk and Arch package hold the same
// files with the same modes and owners as the .deb; the profile is a
// configuration file in each format that has the notion.
func TestPackagesSameFiles(t *testing.T) {
	r := buildRelease(t)
	needTool(t, "rpm", "Debian's rpm")
	needTool(t, "bsdtar", "libarchive-tools")
	deb := listing(t, run(t, "dpkg-deb", "-c", r.path("hardbake_0.1.0_amd64.deb")))
	want := map[string]string{}
	for k, v := range wantFiles {
		want[k] = v
	}
	want["/etc/init.d/hardbake-firstboot"] = "-rwxr-xr-x 0/0"
	want["/usr/share/lintian/overrides/hardbake"] = "-rw-r--r-- 0/0"
	want["/usr/share/doc/hardbake/changelog.gz"] = "-rw-r--r-- 0/0"
	assertFiles(t, ".deb", deb, want)
	for _, p := range debOnly {
		delete(deb, p)
	}
	assertFiles(t, ".rpm", listing(t, run(t, "rpm", "-qlvp", r.path("hardbake-0.1.0-1.x86_64.rpm"))), deb)
	assertFiles(t, ".apk", listing(t, run(t, "bsdtar", "-tvf", r.path("hardbake_0.1.0_x86_64.apk"))), deb)
	assertFiles(t, ".pkg.tar.zst", listing(t, run(t, "bsdtar", "-tvf", r.path("hardbake-0.1.0-1-x86_64.pkg.tar.zst"))), deb)

	info := run(t, "rpm", "-qip", r.path("hardbake-0.1.0-1.x86_64.rpm"))
	for _, w := range []string{"Name        : hardbake", "Version     : 0.1.0", "Architecture: x86_64"} {
		if !strings.Contains(info, w) {
			t.Errorf("rpm -qip lacks %q:\n%s", w, info)
		}
	}
	if got := strings.TrimSpace(run(t, "rpm", "-qcp", r.path("hardbake-0.1.0-1.x86_64.rpm"))); got != "/etc/hardbake/profile.yaml" {
		t.Errorf("rpm config files: %q", got)
	}
	if got := run(t, "dpkg-deb", "-I", r.path("hardbake_0.1.0_amd64.deb"), "conffiles"); strings.Fields(got)[0] != "/etc/hardbake/profile.yaml" || len(strings.Fields(got)) != 2 {
		t.Errorf("deb conffiles: %q (want the profile and the init script)", got)
	}
	pkginfo := run(t, "bsdtar", "-xOf", r.path("hardbake-0.1.0-1-x86_64.pkg.tar.zst"), ".PKGINFO")
	if !strings.Contains(pkginfo, "backup = etc/hardbake/profile.yaml") {
		t.Errorf("Arch .PKGINFO does not keep the profile (backup):\n%s", pkginfo)
	}
}

func assertFiles(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	var diffs []string
	for p, w := range want {
		if got[p] != w {
			diffs = append(diffs, fmt.Sprintf("%s: %q, want %q", p, got[p], w))
		}
	}
	for p, g := range got {
		if _, ok := want[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: %q, not expected", p, g))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s files:\n%s", what, strings.Join(diffs, "\n"))
	}
}

// TestLintian: Debian's own checker finds no error in the .deb (the
// overrides in packaging/lintian-overrides say why each one is on purpose).
func TestLintian(t *testing.T) {
	t.Parallel() // after the shared release build, beside the other slow checks
	r := buildRelease(t)
	needTool(t, "lintian", "Debian's lintian")
	out, _ := exec.Command("lintian", "--fail-on", "error", "--show-overrides", r.path("hardbake_0.1.0_amd64.deb")).CombinedOutput()
	var errs []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "E: ") {
			errs = append(errs, line)
		}
	}
	t.Logf("lintian:\n%s", out)
	if len(errs) > 0 || !strings.Contains(string(out), "O: hardbake: statically-linked-binary") {
		t.Fatalf("lintian errors (or lintian did not read the overrides):\n%s", strings.Join(errs, "\n"))
	}
}

// TestManPageAndCompletion: the page renders with man and carries every
// command of `hardbake help`; bash completes commands, flags, step lists
// and format names from the packaged completion.
func TestManPageAndCompletion(t *testing.T) {
	r := buildRelease(t)
	dir := t.TempDir()
	run(t, "dpkg-deb", "-x", r.path("hardbake_0.1.0_amd64.deb"), dir)
	help := run(t, filepath.Join(dir, "usr/bin/hardbake"), "help")
	page := manText(t, "man", filepath.Join(dir, "usr/share/man/man1/hardbake.1.gz"))
	for _, line := range strings.Split(help, "\n") {
		if rest, ok := strings.CutPrefix(line, "  hardbake "); ok {
			if words := strings.Join(strings.Fields("hardbake "+rest), " "); !strings.Contains(page, words) {
				t.Errorf("the man page lacks the usage line %q", words)
			}
		}
	}
	if !strings.Contains(page, "hardbake v0.1.0") || !strings.Contains(page, "EXIT STATUS") {
		t.Errorf("man page:\n%s", page)
	}

	completion := filepath.Join(dir, "usr/share/bash-completion/completions/hardbake")
	for _, tc := range []struct{ line, want string }{
		{"hardbake ba", "bake"},
		{"hardbake audit --form", "--format"},
		{"hardbake audit --format pro", "prometheus"},
		{"hardbake bake --only ssh,up", "ssh,updates"},
		{"hardbake plan --skip " + profile.StepNames[0][:2], profile.StepNames[0]},
		{"hardbake seed --format v", "vfat"},
		{"hardbake version --", "--json"},
	} {
		if got := complete(t, completion, tc.line); got != tc.want {
			t.Errorf("completing %q: %q, want %q", tc.line, got, tc.want)
		}
	}
}

// manText renders a page with the man given (the host's, or a root's via
// chroot) on one long line per paragraph, so words do not hyphenate.
func manText(t *testing.T, man string, args ...string) string {
	t.Helper()
	cmd := exec.Command(man, append([]string{"-l"}, args...)...)
	if man == "chroot" {
		cmd = exec.Command("chroot", append(args[:1:1], append([]string{"man", "-l"}, args[1:]...)...)...)
	}
	cmd.Env = append(os.Environ(), "MANWIDTH=1000", "MANPAGER=cat", "PAGER=cat", "LC_ALL=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(string(out), "\u2010", "-")), " ")
}

// complete runs bash's completion function for line (the cursor at its
// end) and returns the candidates, space-separated.
func complete(t *testing.T, script, line string) string {
	t.Helper()
	words := strings.Split(line, " ")
	var quoted []string
	for _, w := range words {
		quoted = append(quoted, "'"+w+"'")
	}
	prog := fmt.Sprintf(`. %s; COMP_WORDS=(%s); COMP_CWORD=%d; _hardbake; echo "${COMPREPLY[*]}"`,
		script, strings.Join(quoted, " "), len(words)-1)
	return strings.TrimSpace(run(t, "bash", "--norc", "-c", prog))
}

// TestPostrmMetricsFile: the removal script deletes the file the audit
// service writes, at the path the service writes it.
func TestPostrmMetricsFile(t *testing.T) {
	postrm, err := os.ReadFile("scripts/postrm.sh")
	if err != nil {
		t.Fatal(err)
	}
	if want := "rm -f " + steps.DefaultTextfileDir + "/" + steps.AuditMetricsFile; !strings.Contains(string(postrm), want) {
		t.Errorf("postrm.sh lacks %q", want)
	}
}

// TestDebInstall: the .deb in real Debian 12 and 13 roots: installs (twice:
// the scripts are idempotent), runs, lists its files, renders its page,
// enables nothing and leaves sshd's configuration alone; removal keeps the
// profile, purge leaves the tree exactly as before the install.
// dpkgRecords are dpkg's own records, which an install and purge rightly
// change: left out of the before-and-after comparison.
var dpkgRecords = []string{"/var/lib/dpkg", "/var/log/dpkg.log", "/var/log/alternatives.log", "/proc", "/sys", "/dev"}

func TestDebInstall(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("dpkg -i into a chroot needs root")
	}
	t.Parallel()
	r := buildRelease(t)
	for _, suite := range testroot.Suites {
		t.Run(suite, func(t *testing.T) {
			t.Parallel()
			root := testroot.Debian(t, suite)
			before := testroot.Digest(t, root, dpkgRecords...)
			debIn := "/tmp/hardbake_0.1.0_amd64.deb"
			data, err := os.ReadFile(r.path("hardbake_0.1.0_amd64.deb"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, debIn), data, 0o644); err != nil {
				t.Fatal(err)
			}
			// The cached roots keep dpkg from unpacking man pages
			// (path-exclude in /etc/dpkg/dpkg.cfg.d/99mmdebstrap): this
			// one is let in, so the installed page is the one rendered.
			page := "/usr/share/man/man1/hardbake.1.gz"
			for i := 0; i < 2; i++ {
				run(t, "chroot", root, "dpkg", "--path-include="+filepath.Dir(page), "--path-include="+page, "-i", debIn)
			}
			if err := os.Remove(filepath.Join(root, debIn)); err != nil {
				t.Fatal(err)
			}
			installed := testroot.Digest(t, root, dpkgRecords...)

			want := fmt.Sprintf("hardbake %s commit %s built %s\n", testVersion, r.commit, r.date)
			if got := run(t, "chroot", root, "hardbake", "version"); got != want {
				t.Errorf("hardbake version in the root: %q, want %q", got, want)
			}
			listed := run(t, "chroot", root, "dpkg", "-L", "hardbake")
			for p := range wantFiles {
				if !strings.Contains(listed, p+"\n") {
					t.Errorf("dpkg -L lacks %s", p)
				}
			}
			// man-db is not in the cached roots: then the host's man
			// renders the page as installed.
			var text string
			if _, err := os.Stat(filepath.Join(root, "usr/bin/man")); err == nil {
				text = manText(t, "chroot", root, page)
			} else {
				text = manText(t, "man", filepath.Join(root, page))
			}
			if !strings.Contains(text, "hardbake firstboot --example") {
				t.Errorf("man -l: %s", text)
			}
			// The profile in /etc is the default one; a report of the
			// installed binary names the release build.
			if prof, err := os.ReadFile(filepath.Join(root, steps.BakedProfile)); err != nil || string(prof) != profile.DefaultYAML {
				t.Errorf("%s is not the default profile (%v)", steps.BakedProfile, err)
			}
			rep := filepath.Join(t.TempDir(), "report.json")
			exec.Command(filepath.Join(root, "usr/bin/hardbake"), "audit", "--root", root, "--only", "ssh", "--report", rep).Run()
			var head struct {
				Version   string `json:"version"`
				Commit    string `json:"commit"`
				BuildDate string `json:"build_date"`
			}
			if data, err := os.ReadFile(rep); err != nil {
				t.Errorf("audit --report: %v", err)
			} else if err := json.Unmarshal(data, &head); err != nil || head.Version != testVersion || head.Commit != r.commit || head.BuildDate != r.date {
				t.Errorf("audit report: version %q commit %q build_date %q (%v)", head.Version, head.Commit, head.BuildDate, err)
			}

			// Installing enabled nothing and left sshd alone: the only
			// new files are the package's own (and dpkg's records).
			var added []string
			for p := range installed {
				if _, ok := before[p]; !ok && !strings.Contains(listed, p+"\n") {
					added = append(added, p)
				}
			}
			for p, d := range before {
				if installed[p] != d {
					added = append(added, "changed: "+p)
				}
			}
			if sort.Strings(added); len(added) > 0 {
				t.Errorf("dpkg -i changed files that are not the package's:\n%s", strings.Join(added, "\n"))
			}

			run(t, "chroot", root, "dpkg", "-r", "hardbake")
			if _, err := os.Stat(filepath.Join(root, steps.BakedProfile)); err != nil {
				t.Errorf("dpkg -r removed the profile (a conffile): %v", err)
			}
			if _, err := os.Stat(filepath.Join(root, "usr/bin/hardbake")); err == nil {
				t.Errorf("dpkg -r left /usr/bin/hardbake")
			}
			run(t, "chroot", root, "dpkg", "--purge", "hardbake")
			testroot.AssertSame(t, before, testroot.Digest(t, root, dpkgRecords...))
		})
	}
}

// readmeRequiredPlugins is the `packer { required_plugins { ... } }` block
// of the README's Install section, as a user would paste it.
func readmeRequiredPlugins(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, install, ok := strings.Cut(string(readme), "\n## Install\n")
	if !ok {
		t.Fatal("README.md has no \"## Install\" section")
	}
	install, _, _ = strings.Cut(install, "\n## ")
	m := regexp.MustCompile("(?s)```hcl\n(packer \\{.*?required_plugins.*?\n\\})\n```").FindStringSubmatch(install)
	if m == nil {
		t.Fatal("README.md's Install section has no ```hcl packer { required_plugins ... } block")
	}
	return m[1]
}

// TestPackerInstall: real packer 1.16.0 installs the release's plugin
// binary and accepts a template with the README's required_plugins block;
// `packer init` is then satisfied without any network (a proxy that
// refuses every connection is set, so a download attempt would fail).
func TestPackerInstall(t *testing.T) {
	t.Parallel() // after the shared release build, beside the other slow checks
	r := buildRelease(t)
	exe := pluginBinary(t, r)
	out, err := exec.Command("bash", "../scripts/tools.sh", "packer").Output()
	if err != nil {
		t.Fatalf("scripts/tools.sh packer: %v", err)
	}
	packer := strings.TrimSpace(string(out))
	dir := t.TempDir()
	env := append(os.Environ(), "PACKER_PLUGIN_PATH="+filepath.Join(dir, "plugins"), "PACKER_CONFIG_DIR="+filepath.Join(dir, "config"),
		"CHECKPOINT_DISABLE=1", "HTTPS_PROXY=http://127.0.0.1:1", "HTTP_PROXY=http://127.0.0.1:1", "NO_PROXY=")
	packerRun := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(packer, args...)
		cmd.Env, cmd.Dir = env, dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("packer %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	packerRun("plugins", "install", "--path", exe, "github.com/hardbake/hardbake")
	if got := packerRun("plugins", "installed"); !strings.Contains(got, "github.com/hardbake/hardbake/packer-plugin-hardbake_v0.1.0_x5.0_linux_amd64") {
		t.Fatalf("packer plugins installed: %s", got)
	}
	template := readmeRequiredPlugins(t) + `

source "null" "image" {
  communicator = "none"
}

build {
  sources = ["source.null.image"]
  provisioner "hardbake" {}
}
`
	if err := os.WriteFile(filepath.Join(dir, "image.pkr.hcl"), []byte(template), 0o644); err != nil {
		t.Fatal(err)
	}
	packerRun("init", ".")
	packerRun("validate", ".")
}
