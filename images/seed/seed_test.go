package seed

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/host"
	"github.com/hardbake/hardbake/images/cidata"
)

const hostYAML = `# a host
user:
  name: alice
  sudo: nopasswd
  authorized_keys:
    - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL/24x1N6/StptXPjMdGTu0bJCVv29PkBnNDgt6brKwj alice@laptop
ssh:
  address_family: inet
hostname: web-1
`

func need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
				t.Skipf("%s not installed (make deps installs it)", tool)
			}
		}
	}
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func build(t testing.TB, in Input) *Seed {
	t.Helper()
	if in.Host == nil {
		in.Host, in.HostSource = []byte(hostYAML), "host.yaml"
	}
	s, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The seed firstboot reads back (with the other half's reader) carries the
// very host data validated here, on both formats.
func roundTrip(t *testing.T, img string, s *Seed) {
	t.Helper()
	sd, err := cidata.ReadSeed(img)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sd.UserData, s.UserData) || !bytes.Equal(sd.HostData, s.HostData) {
		t.Fatalf("seed read back differs:\n%+v", sd)
	}
	f, err := host.Find(host.Sources{Seed: func() (*host.Seed, error) { return sd, nil }}, nil)
	if err != nil || f == nil {
		t.Fatalf("firstboot's lookup: %v %v", f, err)
	}
	want, _ := host.Decode([]byte(hostYAML), "seed", nil)
	f.Host.Source, want.Source = "", ""
	if !reflect.DeepEqual(f.Host, want) {
		t.Fatalf("host data changed on the way:\n%+v\n%+v", f.Host, want)
	}
}

func TestISO(t *testing.T) {
	need(t, "isoinfo")
	s := build(t, Input{})
	img := filepath.Join(t.TempDir(), "seed.iso")
	if err := Write(img, FormatISO, s.Contents); err != nil {
		t.Fatal(err)
	}
	info := run(t, "isoinfo", "-d", "-i", img)
	for _, want := range []string{"Volume id: cidata\n", "Logical block size is: 2048", "Joliet", "Rock Ridge signatures"} {
		if !strings.Contains(info, want) {
			t.Errorf("isoinfo -d lacks %q:\n%s", want, info)
		}
	}
	if got := run(t, "isoinfo", "-R", "-f", "-i", img); got != "/hardbake.yaml\n/meta-data\n/user-data\n" {
		t.Errorf("files: %q", got)
	}
	if got := run(t, "isoinfo", "-J", "-f", "-i", img); got != "/hardbake.yaml\n/meta-data\n/user-data\n" {
		t.Errorf("Joliet files: %q", got)
	}
	for name, want := range map[string][]byte{"/user-data": s.UserData, "/meta-data": s.MetaData, "/hardbake.yaml": []byte(hostYAML)} {
		if got := run(t, "isoinfo", "-R", "-x", name, "-i", img); got != string(want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	fi, _ := os.Stat(img)
	if fi.Size() > 1<<20 {
		t.Errorf("seed is %d bytes: not trimmed to the volume", fi.Size())
	}
	roundTrip(t, img, s)
}

func TestVFAT(t *testing.T) {
	need(t, "fsck.vfat", "mtype", "mlabel")
	s := build(t, Input{NetworkConfig: []byte("version: 2\nethernets: {}\n"), NetworkSource: "net.yaml"})
	img := filepath.Join(t.TempDir(), "seed.img")
	if err := Write(img, FormatVFAT, s.Contents); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(img); fi.Size() != FATSize {
		t.Errorf("size %d, want exactly %d", fi.Size(), FATSize)
	}
	out := run(t, "fsck.vfat", "-n", img) // exit 0
	for _, bad := range []string{"Fixing", "Invalid", "only space", "less than the required", "differ"} {
		if strings.Contains(out, bad) {
			t.Errorf("fsck.vfat -n: %s", out)
		}
	}
	if info := run(t, "mlabel", "-s", "-i", img, "::"); !strings.Contains(info, "Volume label is CIDATA") {
		t.Errorf("label: %s", info)
	}
	for name, want := range map[string][]byte{"user-data": s.UserData, "meta-data": s.MetaData, "network-config": s.NetworkConfig, "hardbake.yaml": []byte(hostYAML)} {
		if got := run(t, "mtype", "-i", img, "::"+name); got != string(want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	roundTrip(t, img, s)
}

// The generated #cloud-config holds nothing that undoes hardbake's baked
// settings and no hardbake: key (cloud-init ≥ 23.4 would call the boot
// degraded); the host data goes on the seed as hardbake.yaml, as given.
func TestGeneratedUserData(t *testing.T) {
	s := build(t, Input{})
	ud := string(s.UserData)
	if !strings.HasPrefix(ud, "#cloud-config\n") || strings.Contains(ud, "\nhardbake:") {
		t.Fatalf("user-data:\n%s", ud)
	}
	if string(s.HostData) != hostYAML {
		t.Fatalf("host data on the seed:\n%s", s.HostData)
	}
	for _, bad := range []string{"ssh_pwauth: true", " passwd:", "_passwd", "chpasswd", "ssh_deletekeys", "disable_root", "ssh_genkeytypes"} {
		if strings.Contains(ud, bad) {
			t.Errorf("user-data holds %q", bad)
		}
	}
	if !strings.Contains(ud, "\nssh_pwauth: false\n") {
		t.Error("no ssh_pwauth: false")
	}
	// No default cloud user (debian, ubuntu, ...) with NOPASSWD sudo beside hardbake's admin.
	if !strings.Contains(ud, "\nusers: []\n") {
		t.Error("no users: [] to suppress cloud-init's default user")
	}
	if !strings.HasPrefix(string(s.MetaData), "instance-id: iid-hardbake-") || !strings.Contains(string(s.MetaData), "local-hostname: web-1\n") {
		t.Errorf("meta-data: %s", s.MetaData)
	}
	// New data, new instance-id; same data, same id.
	again := build(t, Input{})
	other := build(t, Input{Host: []byte(strings.Replace(hostYAML, "inet\n", "inet6\n", 1)), HostSource: "h"})
	if !bytes.Equal(again.MetaData, s.MetaData) || bytes.Equal(other.MetaData, s.MetaData) {
		t.Errorf("instance-id not derived from the contents: %s / %s", s.MetaData, other.MetaData)
	}
	if got := build(t, Input{InstanceID: "i-123"}); string(got.MetaData) != "instance-id: i-123\nlocal-hostname: web-1\n" {
		t.Errorf("--instance-id: %s", got.MetaData)
	}
}

// Given user-data goes on the seed as written: #cloud-config is checked and
// its settings that undo hardbake are named; scripts pass untouched.
func TestGivenUserData(t *testing.T) {
	ud := "#cloud-config\npackages: [htop]\nssh_pwauth: true\nusers:\n  - name: bob\n    plain_text_passwd: x\n"
	s := build(t, Input{UserData: []byte(ud), UserDataSource: "ud.yaml"})
	if string(s.UserData) != ud || string(s.HostData) != hostYAML {
		t.Fatalf("user-data:\n%s\nhost data:\n%s", s.UserData, s.HostData)
	}
	if len(s.Warnings) != 2 || !strings.Contains(s.Warnings[0], "ssh_pwauth") || !strings.Contains(s.Warnings[1], "plain_text_passwd") {
		t.Errorf("warnings: %q", s.Warnings)
	}
	for _, ud := range []string{"#!/bin/sh\necho hi\n", "#cloud-config\n{packages: [a]}\n"} {
		if s := build(t, Input{UserData: []byte(ud), UserDataSource: "ud"}); string(s.UserData) != ud || len(s.Warnings) != 0 {
			t.Errorf("%q: %q %q", ud, s.UserData, s.Warnings)
		}
	}
}

// Bad input: an error wrapping bootstrap.ErrInvalid with firstboot's own
// message, and no image written.
func TestBadInput(t *testing.T) {
	bad := []struct {
		name string
		in   Input
		msg  string
	}{
		{"host data: firstboot's message", Input{Host: []byte("user:\n  name: root\n  sudo: nopasswd\n  authorized_keys: [x]\n")},
			`user.name (line 2): "root" is refused`},
		{"host data: unknown key", Input{Host: []byte("users: []\n")}, "users"},
		{"key options", Input{Host: []byte("user:\n  name: a\n  sudo: nopasswd\n  authorized_keys: ['command=\"x\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL/24x1N6/StptXPjMdGTu0bJCVv29PkBnNDgt6brKwj']\n")},
			"options are not accepted"},
		{"user-data has the key", Input{UserData: []byte("#cloud-config\nhardbake:\n  hostname: a\n")}, "already has a hardbake: key (line 2)"},
		{"bad YAML user-data", Input{UserData: []byte("#cloud-config\na: [\n")}, "not valid YAML"},
		{"meta-data without instance-id", Input{MetaData: []byte("local-hostname: a\n")}, "has no instance-id"},
		{"meta-data and --instance-id", Input{MetaData: []byte("instance-id: a\n"), InstanceID: "b"}, "written as given"},
		{"bad hostname", Input{Hostname: "bad_name"}, `hostname (line 1): "bad_name" is not a host name`},
		{"hostname conflict", Input{Hostname: "web-2"}, `differs from hostname "web-1"`},
		{"bad instance-id", Input{InstanceID: "a b"}, "--instance-id"},
		{"bad network-config", Input{NetworkConfig: []byte("a: [\n")}, "not valid YAML"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			if b.in.Host == nil {
				b.in.Host, b.in.HostSource = []byte(hostYAML), "host.yaml"
			}
			_, err := Build(b.in)
			if err == nil || !errors.Is(err, bootstrap.ErrInvalid) || !strings.Contains(err.Error(), b.msg) {
				t.Fatalf("err = %v, want ErrInvalid with %q", err, b.msg)
			}
		})
	}
	// Same message as firstboot's decoder, word for word.
	data := []byte("user:\n  name: Alice\n  sudo: maybe\n")
	_, want := host.Decode(data, "h.yaml", nil)
	_, got := Build(Input{Host: data, HostSource: "h.yaml"})
	if want == nil || got == nil || got.Error() != want.Error() {
		t.Fatalf("seed says %v, firstboot says %v", got, want)
	}
}

func TestWriteLeavesNothingOnFailure(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "seed.img")
	if err := Write(out, "qcow2", Contents{}); err == nil {
		t.Fatal("unknown format accepted")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}
