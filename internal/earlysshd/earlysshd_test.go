package earlysshd

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/steps"
	"golang.org/x/sys/unix"
)

func TestFirstbootRoot(t *testing.T) {
	wd, _ := os.Getwd()
	cases := []struct {
		args []string
		root string
		ok   bool
	}{
		{[]string{"hardbake", "firstboot"}, "/", true},
		{[]string{"hardbake", "firstboot", "--root", "/mnt/img"}, "/mnt/img", true},
		{[]string{"hardbake", "firstboot", "-root=/mnt/img/", "--json"}, "/mnt/img", true},
		{[]string{"hardbake", "firstboot", "--root=/mnt//x/../img"}, "/mnt/img", true},
		{[]string{"hardbake", "firstboot", "--config", "/h.yaml", "--root=rel"}, filepath.Join(wd, "rel"), true},
		{[]string{"hardbake", "firstboot", "--root"}, "", false}, // flag parsing will refuse it
		{[]string{"hardbake", "firstboot", "--rootx", "/a"}, "/", true},
		{[]string{"hardbake", "firstboot", "--", "--root", "/a"}, "/", true},
		{[]string{"hardbake", "bake", "--root", "/a"}, "", false},
		{[]string{"hardbake"}, "", false},
	}
	for _, c := range cases {
		root, ok := FirstbootRoot(c.args)
		if root != c.root || ok != c.ok {
			t.Errorf("FirstbootRoot(%q) = %q, %v; want %q, %v", c.args, root, ok, c.root, c.ok)
		}
	}
}

// TestTakeAndDiscard: the early sshd (this machine's own, live: `sshd -T`
// changes nothing) is handed over once, only for its own root; Discard
// kills and reaps one nobody took.
func TestTakeAndDiscard(t *testing.T) {
	p, err := start("/")
	if os.IsNotExist(err) || errors.Is(err, os.ErrExist) {
		t.Skip("no sshd here, or this machine's first boot is done:", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	early = p
	mu.Unlock()
	if Take("/elsewhere") != nil {
		t.Error("handed over for another root")
	}
	if got := Take("/"); got != p {
		t.Fatalf("Take = %v, want %v", got, p)
	}
	if Take("/") != nil {
		t.Error("handed over twice")
	}
	mu.Lock()
	early = p
	mu.Unlock()
	Discard()
	if Take("/") != nil {
		t.Error("still there after Discard")
	}
	if err := syscall.Kill(p.Pid, 0); err == nil {
		t.Error("the early sshd still exists after Discard")
	}
}

// TestSameAsSteps: the path, marker and arguments here are the steps'
// own; earlysshd does not import them (it must initialise early).
func TestSameAsSteps(t *testing.T) {
	if Binary != steps.SSHDBinary || marker != steps.FirstbootMarker {
		t.Errorf("Binary %q marker %q, steps: %q %q", Binary, marker, steps.SSHDBinary, steps.FirstbootMarker)
	}
}

// TestCmdline: what init reads from /proc/self/cmdline is os.Args.
func TestCmdline(t *testing.T) {
	if got := cmdline(); !slices.Equal(got, os.Args) {
		t.Errorf("cmdline() = %q, os.Args = %q", got, os.Args)
	}
}

// TestMemfd: the system call number is this architecture's, and the memfd
// takes writes and reads them back.
func TestMemfd(t *testing.T) {
	if sysMemfdCreate < 0 {
		t.Skip("memfd_create's number is not known on", runtime.GOARCH)
	}
	if sysMemfdCreate != unix.SYS_MEMFD_CREATE {
		t.Fatalf("sysMemfdCreate = %d, x/sys/unix says %d", sysMemfdCreate, unix.SYS_MEMFD_CREATE)
	}
	fd, err := memfd()
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "memfd")
	defer f.Close()
	if _, err := f.WriteString("sshd output"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	if string(buf[:n]) != "sshd output" {
		t.Errorf("read back %q", buf[:n])
	}
	if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("memfd is not close-on-exec: %v %v", flags, err)
	}
}
