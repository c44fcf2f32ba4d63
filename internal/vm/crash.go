package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Power cuts, for the e2e's crash-safety proof: boot a writable copy of an
// image (CopyDisk, Options.Snapshot false), wait until the console shows the
// moment to cut (WaitConsole), SIGKILL QEMU (Kill), look at what reached the
// disk (InspectCrashed), boot the same disk again.
//
// What a SIGKILL of QEMU loses: Boot attaches the disk with cache=unsafe,
// so QEMU acknowledges a guest write once its pwrite to the image file has
// returned; the data is then in the host's page cache and outlives QEMU.
// What the guest had not yet written to its disk (its own page cache, ext4's
// uncommitted journal transaction) is lost, as in a power cut of a machine
// whose disk has no volatile write cache.

// CopyDisk copies a raw disk image to dst, keeping holes (the images are
// sparse: 3 GiB of which about half is used), so that a boot without
// Options.Snapshot can write to dst and leave src as it is.
func CopyDisk(src, dst string) error {
	if out, err := exec.Command("cp", "--sparse=always", "--", src, dst).CombinedOutput(); err != nil {
		return fmt.Errorf("vm: cp %s %s: %v: %s", src, dst, err, bytes.TrimSpace(out))
	}
	return nil
}

// WaitConsole waits until the serial console holds one of texts (searched
// from offset from, in bytes, so an earlier boot's lines can be passed over)
// and returns which one came first and the offset just after it. It reads
// the log every poll interval (10 ms when poll is 0): the guest keeps
// running meanwhile, so poll bounds how far past the line the guest is when
// WaitConsole returns. It gives up when ctx is done or QEMU exits.
func (v *VM) WaitConsole(ctx context.Context, from int64, poll time.Duration, texts ...string) (int, int64, error) {
	if poll <= 0 {
		poll = 10 * time.Millisecond
	}
	f, err := openWhenThere(ctx, v.serial, v.done)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	m := newConsoleMatch(from, texts...)
	buf := make([]byte, 64*1024)
	for {
		for {
			n, err := f.ReadAt(buf, m.off)
			if i, end, ok := m.feed(buf[:n]); ok {
				return i, end, nil
			}
			if err == io.EOF || n == 0 {
				break
			}
			if err != nil {
				return 0, 0, err
			}
		}
		select {
		case <-ctx.Done():
			return 0, 0, fmt.Errorf("vm: none of %q on the console (%v)\nserial console tail:\n%s", texts, ctx.Err(), tailLines(v.SerialLog(), 30))
		case <-v.done:
			return 0, 0, fmt.Errorf("vm: qemu exited (%v) before one of %q was on the console\nserial console tail:\n%s", v.exitErr, texts, tailLines(v.SerialLog(), 30))
		case <-time.After(poll):
		}
	}
}

// consoleMatch finds the first of several texts in a console read piece by
// piece.
type consoleMatch struct {
	texts [][]byte
	off   int64 // console offset just after the bytes fed so far
	// window holds the bytes not yet searched through plus the last
	// longest-text-minus-one searched ones, for a line that arrives in two
	// pieces.
	window []byte
	keep   int
}

func newConsoleMatch(from int64, texts ...string) *consoleMatch {
	m := &consoleMatch{off: from}
	for _, t := range texts {
		m.texts = append(m.texts, []byte(t))
		m.keep = max(m.keep, len(t)-1)
	}
	return m
}

// feed takes the next piece of the console and, once one of the texts is
// there, returns the index of the one that starts first and the offset just
// after it.
func (m *consoleMatch) feed(p []byte) (int, int64, bool) {
	m.window = append(m.window, p...)
	m.off += int64(len(p))
	first, at := -1, 0
	for i, t := range m.texts {
		if j := bytes.Index(m.window, t); j >= 0 && (first < 0 || j < at) {
			first, at = i, j
		}
	}
	if first >= 0 {
		return first, m.off - int64(len(m.window)-at-len(m.texts[first])), true
	}
	if len(m.window) > m.keep {
		m.window = append(m.window[:0], m.window[len(m.window)-m.keep:]...)
	}
	return 0, 0, false
}

// openWhenThere opens the console file, which QEMU creates at its start.
func openWhenThere(ctx context.Context, path string, done <-chan struct{}) (*os.File, error) {
	for {
		f, err := os.Open(path)
		if err == nil || !errors.Is(err, os.ErrNotExist) {
			return f, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-done:
			return nil, fmt.Errorf("vm: qemu exited before writing %s", path)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Crashed is what InspectCrashed found on a disk after a power cut.
type Crashed struct {
	// Recovered says e2fsck had to replay the journal: the guest was cut
	// with transactions not yet checkpointed (an unclean cut).
	Recovered bool
	// Fsck is e2fsck's output.
	Fsck string
	// Exists maps each asked path to whether the file system holds it.
	Exists map[string]bool
	// Dirs maps each asked directory to the names in it ("." and ".."
	// left out); a missing directory maps to nil.
	Dirs map[string][]string
}

// InspectCrashed reports which of paths exist, and what dirs hold, on the
// ext4 file system of disk (BuildDiskImage's layout: no partition table) as
// the guest's kernel will find them when it next mounts the disk. It works
// on a sparse copy whose journal `e2fsck -fy` replays first: without the
// replay a file whose inode is still only in the journal would look absent
// (hardbake audit --image reads through go-diskfs, which ignores the
// journal). disk itself is not changed: its next boot replays the journal
// itself, as after a real power cut.
func InspectCrashed(disk string, paths, dirs []string) (*Crashed, error) {
	fsck, err := lookSbin("e2fsck")
	if err != nil {
		return nil, err
	}
	debugfs, err := lookSbin("debugfs")
	if err != nil {
		return nil, err
	}
	cp := disk + ".inspect"
	if err := CopyDisk(disk, cp); err != nil {
		return nil, err
	}
	defer os.Remove(cp)
	out, err := exec.Command(fsck, "-f", "-y", cp).CombinedOutput()
	c := &Crashed{Fsck: string(out), Exists: map[string]bool{}, Dirs: map[string][]string{}}
	// e2fsck exits 1 when it corrected something (a journal replay is
	// such a correction); 4 and above mean errors left in the file system.
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() < 4) {
		return c, fmt.Errorf("vm: e2fsck -fy on a copy of %s: %v\n%s", disk, err, out)
	}
	c.Recovered = strings.Contains(c.Fsck, "recovering journal")
	ask := func(request string) (string, error) {
		cmd := exec.Command(debugfs, "-R", request, cp)
		cmd.Env = append(os.Environ(), "DEBUGFS_PAGER=__none__", "PAGER=__none__")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("vm: debugfs -R %q: %v: %s", request, err, stderr.String())
		}
		return stdout.String(), nil
	}
	for _, p := range paths {
		// stat prints the inode on stdout, or "File not found by
		// ext2_lookup" on stderr (with exit status 0 either way).
		out, err := ask("stat " + p)
		if err != nil {
			return c, err
		}
		c.Exists[p] = strings.HasPrefix(out, "Inode:")
	}
	for _, d := range dirs {
		// ls -p prints one /inode/mode/uid/gid/name/size/ line per entry.
		out, err := ask("ls -p " + d)
		if err != nil {
			return c, err
		}
		var names []string
		for _, line := range strings.Split(out, "\n") {
			f := strings.Split(line, "/")
			if len(f) < 7 || f[5] == "." || f[5] == ".." {
				continue
			}
			names = append(names, f[5])
		}
		if out == "" {
			names = nil
		} else if names == nil {
			names = []string{}
		}
		c.Dirs[d] = names
	}
	return c, nil
}
