// Package cis scores a root directory the way a security team would: OpenSCAP
// (oscap-chroot, Debian's openscap-scanner and openscap-utils) with the SCAP
// Security Guide's CIS profiles for Debian. It serves `make cis` and the CIS
// test in cmd/hardbake; hardbake itself never runs a scanner.
//
// The content is pinned: ssg-debian 0.1.82-1, the first version with Debian
// 12 and 13 CIS profiles (bookworm's 0.1.65 and trixie's 0.1.76 have none).
// It comes from ../shared/judges when that copy is there, else from the
// cache, else from Debian sid through a private apt configuration that
// leaves the machine's own sources alone (PITFALLS.md, "OpenSCAP").
package cis

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hardbake/hardbake/internal/testroot"
)

// The pinned SCAP Security Guide package.
const (
	SSGVersion = "0.1.82-1"
	ssgDeb     = "ssg-debian_0.1.82-1_all.deb"
	ssgSHA256  = "cfde145916f1f37ec96c0fe2a9ea5f44a2db0ee6f0a2dacfcf86534c0977755a"
	rulePrefix = "xccdf_org.ssgproject.content_rule_"
	profPrefix = "xccdf_org.ssgproject.content_profile_"
)

// Profiles scored: CIS Level 1 Server is the goal, Level 2 is reported beside.
const (
	Level1 = "cis_level1_server"
	Level2 = "cis_level2_server"
)

// DataStream is the SSG data stream file for a Debian suite.
func DataStream(contentDir, suite string) (string, error) {
	ds := map[string]string{"bookworm": "ssg-debian12-ds.xml", "trixie": "ssg-debian13-ds.xml"}[suite]
	if ds == "" {
		return "", fmt.Errorf("cis: no SSG content for suite %q (have bookworm, trixie)", suite)
	}
	return filepath.Join(contentDir, "usr/share/xml/scap/ssg/content", ds), nil
}

// Content returns the directory the pinned ssg-debian package is unpacked
// in (under the cache), fetching the package when no copy is at hand.
func Content(logf func(string, ...any)) (string, error) {
	cache := filepath.Join(testroot.CacheDir(), "ssg")
	dir := filepath.Join(cache, "ssg-debian-"+SSGVersion)
	if _, err := os.Stat(filepath.Join(dir, "usr/share/xml/scap/ssg/content/ssg-debian12-ds.xml")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	deb, err := findDeb(cache, logf)
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cache, "unpack-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if out, err := exec.Command("dpkg-deb", "-x", deb, tmp).CombinedOutput(); err != nil {
		return "", fmt.Errorf("cis: dpkg-deb -x %s: %v\n%s", deb, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, os.ErrExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return "", err
		}
	}
	return dir, nil
}

// findDeb returns a verified copy of the pinned package: the shared judges'
// copy, the cached one, or one downloaded from Debian sid.
func findDeb(cache string, logf func(string, ...any)) (string, error) {
	var candidates []string
	if p := os.Getenv("HARDBAKE_SSG_DEB"); p != "" {
		candidates = append(candidates, p)
	}
	if repo, err := testroot.RepoRoot(); err == nil {
		candidates = append(candidates, filepath.Join(repo, "..", "shared", "judges", ssgDeb))
	}
	cached := filepath.Join(cache, ssgDeb)
	candidates = append(candidates, cached)
	for _, p := range candidates {
		if ok, _ := verified(p); ok {
			return p, nil
		}
	}
	logf("cis: downloading %s from Debian sid", ssgDeb)
	if err := download(cache); err != nil {
		return "", err
	}
	ok, err := verified(cached)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("cis: %s does not have the pinned SHA-256 %s (sid moved on?); put a copy of %s in %s or set HARDBAKE_SSG_DEB", cached, ssgSHA256, ssgDeb, cache)
	}
	return cached, nil
}

func verified(p string) (bool, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]) == ssgSHA256, nil
}

// download fetches the pinned package with apt-get download and a private
// apt configuration: the machine's sources, lists and status stay untouched.
func download(cache string) error {
	work, err := os.MkdirTemp(cache, "apt-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	for _, d := range []string{"lists/partial", "cache/archives/partial", "parts"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			return err
		}
	}
	mirror := os.Getenv("MIRROR")
	if mirror == "" {
		mirror = "http://deb.debian.org/debian"
	}
	sources := fmt.Sprintf("deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s sid main\n", mirror)
	status := filepath.Join(work, "status")
	conf := strings.Join([]string{
		`Dir::Etc::sourcelist "` + filepath.Join(work, "sources.list") + `";`,
		`Dir::Etc::sourceparts "` + filepath.Join(work, "parts") + `";`,
		`Dir::State::Lists "` + filepath.Join(work, "lists") + `";`,
		`Dir::State::status "` + status + `";`,
		`Dir::Cache "` + filepath.Join(work, "cache") + `";`,
		`APT::Architecture "amd64";`,
		"",
	}, "\n")
	files := map[string]string{"sources.list": sources, "status": "", "apt.conf": conf}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(work, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	env := append(os.Environ(), "APT_CONFIG="+filepath.Join(work, "apt.conf"))
	for _, args := range [][]string{{"update", "-qq"}, {"download", "-qq", "ssg-debian=" + SSGVersion}} {
		c := exec.Command("apt-get", args...)
		c.Env, c.Dir = env, cache
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("cis: apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// Results are one scan's rule results by rule ID (without the SSG prefix):
// pass, fail, notapplicable, notchecked, notselected, unknown, error.
type Results map[string]string

// Count returns how many rules had result r.
func (rs Results) Count(r string) int {
	n := 0
	for _, got := range rs {
		if got == r {
			n++
		}
	}
	return n
}

// With returns the sorted rule IDs whose result is r.
func (rs Results) With(r string) []string {
	var out []string
	for id, got := range rs {
		if got == r {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// Scan runs oscap-chroot on dir with the data stream's profile and returns
// the rule results. dir must be a root with dpkg (its package cache is
// regenerated first: the dpkg probe reads ROOT/var/cache/apt/pkgcache.bin).
func Scan(ctx context.Context, dir, ds, profile string) (Results, error) {
	gencaches := exec.CommandContext(ctx, "chroot", dir, "apt-cache", "gencaches")
	if out, err := gencaches.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("cis: chroot %s apt-cache gencaches: %v\n%s", dir, err, out)
	}
	work, err := os.MkdirTemp("", "hardbake-cis-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	// The dpkg probe reads the host's apt configuration: a Docker-style
	// `Dir::Cache::pkgcache ""` there turns every package rule
	// notapplicable. An empty private configuration avoids it.
	aptConf := filepath.Join(work, "apt.conf")
	if err := os.WriteFile(aptConf, []byte("Dir::Etc::parts \"/nonexistent/\";\nDir::Etc::main \"/nonexistent\";\n"), 0o644); err != nil {
		return nil, err
	}
	results := filepath.Join(work, "results.xml")
	c := exec.CommandContext(ctx, "oscap-chroot", dir, "xccdf", "eval",
		"--profile", profPrefix+profile, "--results", results, ds)
	c.Env = append(os.Environ(), "APT_CONFIG="+aptConf)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err = c.Run()
	// Exit 2 means "some rule failed", which is a result, not an error.
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 2) {
		return nil, fmt.Errorf("cis: oscap-chroot %s: %v\n%s", dir, err, lastLines(out.String(), 20))
	}
	data, err := os.ReadFile(results)
	if err != nil {
		return nil, fmt.Errorf("cis: oscap wrote no results: %v\n%s", err, lastLines(out.String(), 20))
	}
	return ParseResults(data)
}

// ParseResults reads an XCCDF 1.2 results document.
func ParseResults(data []byte) (Results, error) {
	var doc struct {
		Rules []struct {
			IDRef  string `xml:"idref,attr"`
			Result string `xml:"result"`
		} `xml:"TestResult>rule-result"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("cis: results: %w", err)
	}
	if len(doc.Rules) == 0 {
		return nil, errors.New("cis: results hold no rule-result")
	}
	rs := Results{}
	for _, r := range doc.Rules {
		rs[strings.TrimPrefix(r.IDRef, rulePrefix)] = r.Result
	}
	return rs, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
