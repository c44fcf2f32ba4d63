// Package vm boots Debian disk images in QEMU for hardbake's end-to-end tests
// and `make demo`.
//
// Choices, and why:
//
//   - TCG (-accel tcg): the development and CI machines have no KVM (no
//     vmx/svm), so QEMU emulates the CPU. Everything is sized for that: a
//     boot to SSH takes tens of seconds, not two, and timeouts are generous.
//   - Direct kernel boot (-kernel/-initrd/-append): QEMU loads the guest's
//     own kernel and initramfs (copied out of the root's /boot, CopyKernel),
//     so the disk needs no bootloader, no partition table and no EFI — it is
//     one ext4 filesystem made with mkfs.ext4 -d (BuildDiskImage) and the
//     guest mounts it as root=/dev/vda. The flip side: such a disk is
//     bootable only together with its kernel and initrd, so the demo image
//     ships with vmlinuz and initrd.img beside it.
//   - q35 machine, virtio disk and NIC, -nodefaults, no display: the least
//     hardware that boots a Debian cloud kernel, console on the first serial
//     port (console=ttyS0) written to a file (SerialLog).
//   - User-mode networking with host port forwards bound to 127.0.0.1: no
//     root, bridges or tap devices needed, the guest reaches the Debian mirror
//     through QEMU's NAT, and the test reaches the guest's sshd via
//     127.0.0.1:SSHPort. Every connection from the host arrives in the guest
//     from 10.0.2.2 (see shared/PITFALLS.md about fail2ban bans).
//   - QMP on a unix socket for a graceful ACPI power-down (Stop).
package vm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// DefaultAppend is the kernel command line when Options.Append is empty:
// root on the whole virtio disk, console on the serial port, classic NIC
// names (the NIC is eth0 whatever its PCI slot), and on a panic reboot at
// once, which with -no-reboot ends QEMU instead of hanging the test.
const DefaultAppend = "root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1"

// Options describe one VM.
type Options struct {
	// Disk is the raw disk image (BuildDiskImage), attached as virtio
	// /dev/vda with cache=unsafe (fast; guest flushes are not forced to the
	// host disk, so kill QEMU only when the disk's content no longer matters:
	// Stop powers the guest off cleanly first).
	Disk   string
	Kernel string // guest kernel (CopyKernel)
	Initrd string // guest initramfs
	Append string // kernel command line; DefaultAppend when empty
	Seed   string // optional second drive, read-only virtio (/dev/vdb), e.g. a NoCloud ISO from MakeSeedISO

	MemoryMiB int // default 1024
	CPUs      int // default 2

	// SSHPort is the host port (on 127.0.0.1) forwarded to guest port 22;
	// 0 picks a free one (VM.SSHPort tells which).
	SSHPort int
	// ExtraForwards maps more host ports (127.0.0.1) to guest TCP ports.
	ExtraForwards map[int]int

	SerialLog string // file receiving the serial console; a temporary file when empty
	Snapshot  bool   // -snapshot: writes go to a temporary overlay, Disk stays untouched

	// AllowReboot drops -no-reboot: by default a guest reboot (or a panic)
	// ends QEMU.
	AllowReboot bool
	// StopTimeout bounds the graceful power-down in Stop before QEMU is
	// killed; default 90 s (systemd's shutdown under TCG takes a few).
	StopTimeout time.Duration
	// StallReset: when the serial console stays silent this long while
	// WaitSSH waits, the guest is reset once (QMP system_reset): a TCG guest
	// kernel now and then hangs early in its boot (seen once in ~10 reboots,
	// stuck after "IP idents hash table entries"). 0 means 3 minutes,
	// negative never. VM.Resets counts the resets.
	StallReset time.Duration
	// QEMU is the emulator binary; default qemu-system-x86_64.
	QEMU string
	// ExtraArgs are appended to the QEMU command line.
	ExtraArgs []string
}

// VM is one running QEMU process.
type VM struct {
	SSHPort int // host port forwarded to guest 22

	opts    Options
	cmd     *exec.Cmd
	dir     string // holds the QMP socket (and the serial log by default)
	qmpPath string
	serial  string
	stderr  lockedBuffer
	started time.Time

	done    chan struct{}
	exitErr error

	mu          sync.Mutex
	client      *ssh.Client
	hostKey     ssh.PublicKey
	serialFinal string
	resets      int
}

// Resets is how many times WaitSSH reset a guest whose console had stalled.
func (v *VM) Resets() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.resets
}

// stallWatch decides when a silent console means a hung boot: once the
// console has not grown for after, reset once.
type stallWatch struct {
	after      time.Duration
	size       int64
	grew       time.Time
	resetsLeft int
}

func newStallWatch(after time.Duration, size int64, now time.Time) *stallWatch {
	switch {
	case after == 0:
		after = 3 * time.Minute
	case after < 0:
		return &stallWatch{}
	}
	return &stallWatch{after: after, size: size, grew: now, resetsLeft: 1}
}

// observe takes the console's size now and says whether to reset.
func (w *stallWatch) observe(size int64, now time.Time) bool {
	if size != w.size {
		w.size, w.grew = size, now
		return false
	}
	if w.resetsLeft == 0 || now.Sub(w.grew) < w.after {
		return false
	}
	w.resetsLeft--
	w.grew = now
	return true
}

func (v *VM) serialSize() int64 {
	fi, err := os.Stat(v.serial)
	if err != nil {
		return -1
	}
	return fi.Size()
}

// Boot starts QEMU with opts and returns once QEMU is up (its QMP socket
// answers), not once the guest is: use WaitSSH for that. The VM lives until
// Stop, a guest power-off, or ctx is done (then QEMU is killed).
func Boot(ctx context.Context, opts Options) (*VM, error) {
	if opts.Disk == "" || opts.Kernel == "" || opts.Initrd == "" {
		return nil, errors.New("vm: Options.Disk, Kernel and Initrd are required")
	}
	for _, p := range []string{opts.Disk, opts.Kernel, opts.Initrd, opts.Seed} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("vm: %w", err)
		}
	}
	if opts.QEMU == "" {
		opts.QEMU = "qemu-system-x86_64"
	}
	if _, err := exec.LookPath(opts.QEMU); err != nil {
		return nil, fmt.Errorf("vm: %s not found (make deps installs qemu-system-x86)", opts.QEMU)
	}
	if opts.Append == "" {
		opts.Append = DefaultAppend
	}
	if opts.MemoryMiB <= 0 {
		opts.MemoryMiB = 1024
	}
	if opts.CPUs <= 0 {
		opts.CPUs = 2
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 90 * time.Second
	}
	// A port picked here can be taken before QEMU binds it: retry then.
	tries := 1
	if opts.SSHPort == 0 {
		tries = 3
	}
	var lastErr error
	for i := 0; i < tries; i++ {
		o := opts
		if o.SSHPort == 0 {
			p, err := FreePort()
			if err != nil {
				return nil, err
			}
			o.SSHPort = p
		}
		v, err := start(ctx, o)
		if err == nil {
			return v, nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "host forwarding") {
			break
		}
	}
	return nil, lastErr
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(ctx context.Context, o Options) (*VM, error) {
	dir, err := os.MkdirTemp("", "hbvm-")
	if err != nil {
		return nil, err
	}
	v := &VM{SSHPort: o.SSHPort, opts: o, dir: dir, done: make(chan struct{})}
	v.qmpPath = filepath.Join(dir, "qmp.sock")
	v.serial = o.SerialLog
	if v.serial == "" {
		v.serial = filepath.Join(dir, "serial.log")
	}
	args := v.args()
	v.cmd = exec.CommandContext(ctx, o.QEMU, args...)
	v.cmd.Stdout = &v.stderr
	v.cmd.Stderr = &v.stderr
	v.started = time.Now()
	if err := v.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("vm: starting %s: %w", o.QEMU, err)
	}
	go func() {
		v.exitErr = v.cmd.Wait()
		if b, err := os.ReadFile(v.serial); err == nil {
			v.mu.Lock()
			v.serialFinal = string(b)
			v.mu.Unlock()
		}
		os.RemoveAll(v.dir) // the QMP socket, and the serial log when it was ours
		close(v.done)
	}()
	// QEMU is up once its QMP socket accepts; it exits at once on bad
	// arguments or an unbindable host forward.
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-v.done:
			return nil, fmt.Errorf("vm: qemu exited at start (%v): %s", v.exitErr, strings.TrimSpace(v.stderr.String()))
		default:
		}
		if c, err := net.Dial("unix", v.qmpPath); err == nil {
			c.Close()
			return v, nil
		}
		if time.Now().After(deadline) {
			v.Kill()
			return nil, fmt.Errorf("vm: qemu's QMP socket did not come up in 15s: %s", v.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Args returns the QEMU command line (without the binary) Boot uses.
func (v *VM) Args() []string { return v.args() }

func (v *VM) args() []string {
	o := v.opts
	hostfwd := fmt.Sprintf("hostfwd=tcp:127.0.0.1:%d-:22", o.SSHPort)
	hostPorts := make([]int, 0, len(o.ExtraForwards))
	for h := range o.ExtraForwards {
		hostPorts = append(hostPorts, h)
	}
	sort.Ints(hostPorts)
	for _, h := range hostPorts {
		hostfwd += fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-:%d", h, o.ExtraForwards[h])
	}
	args := []string{
		"-machine", "q35", "-accel", "tcg",
		"-cpu", "max",
		"-m", fmt.Sprint(o.MemoryMiB), "-smp", fmt.Sprint(o.CPUs),
		"-nodefaults", "-display", "none", "-no-user-config",
		"-kernel", o.Kernel, "-initrd", o.Initrd, "-append", o.Append,
		"-drive", "file=" + o.Disk + ",format=raw,if=virtio,cache=unsafe",
		"-netdev", "user,id=net0," + hostfwd,
		"-device", "virtio-net-pci,netdev=net0",
		"-device", "virtio-rng-pci",
		"-serial", "file:" + v.serial,
		"-qmp", "unix:" + v.qmpPath + ",server=on,wait=off",
	}
	if o.Seed != "" {
		args = append(args, "-drive", "file="+o.Seed+",format=raw,if=virtio,readonly=on")
	}
	if o.Snapshot {
		args = append(args, "-snapshot")
	}
	if !o.AllowReboot {
		args = append(args, "-no-reboot")
	}
	return append(args, o.ExtraArgs...)
}

// WaitSSH polls the guest's sshd (127.0.0.1:SSHPort) until an SSH handshake
// and public-key login as user with signer succeed, and returns the client
// (also kept for Run and closed by Stop). The host key is accepted whatever
// it is (HostKey tells which it was). It gives up when ctx is done or QEMU
// exits, with the tail of the serial console in the error.
func (v *VM) WaitSSH(ctx context.Context, user string, signer ssh.Signer) (*ssh.Client, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", v.SSHPort)
	var lastErr error
	stall := newStallWatch(v.opts.StallReset, v.serialSize(), time.Now())
	for {
		if stall.observe(v.serialSize(), time.Now()) && v.QMP("system_reset") == nil {
			v.mu.Lock()
			v.resets++
			v.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("vm: no SSH on %s as %s after %s (%v; last error: %v)\nserial console tail:\n%s",
				addr, user, time.Since(v.started).Round(time.Second), ctx.Err(), lastErr, tailLines(v.SerialLog(), 40))
		case <-v.done:
			return nil, fmt.Errorf("vm: qemu exited (%v) before SSH came up\nserial console tail:\n%s", v.exitErr, tailLines(v.SerialLog(), 40))
		default:
		}
		c, err := v.dialSSH(ctx, addr, user, signer)
		if err == nil {
			v.mu.Lock()
			v.client = c
			v.mu.Unlock()
			return c, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
		case <-v.done:
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (v *VM) dialSSH(ctx context.Context, addr, user string, signer ssh.Signer) (*ssh.Client, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	// Under TCG a handshake with a just-started sshd can take seconds; QEMU's
	// user network accepts the TCP connection even before the guest listens
	// and then closes it, which shows up here as EOF.
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	cfg := &ssh.ClientConfig{
		User: user,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			v.mu.Lock()
			v.hostKey = key
			v.mu.Unlock()
			return nil
		},
		Timeout: 30 * time.Second,
	}
	cc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(cc, chans, reqs), nil
}

// HostKey is the host key the guest presented in the last SSH handshake.
func (v *VM) HostKey() ssh.PublicKey {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.hostKey
}

// Client is the SSH client of the last successful WaitSSH, or nil.
func (v *VM) Client() *ssh.Client {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.client
}

// Run runs cmd in the guest over the client of the last WaitSSH and returns
// its stdout and stderr, combined. A non-zero exit is an *ssh.ExitError.
func (v *VM) Run(cmd string) (string, error) {
	c := v.Client()
	if c == nil {
		return "", errors.New("vm: Run before WaitSSH")
	}
	return Run(c, cmd)
}

// Run runs cmd over c and returns its combined output.
func Run(c *ssh.Client, cmd string) (string, error) {
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	return string(out), err
}

// SerialLog returns everything the guest wrote to its serial console so far
// (kernel messages, systemd's status lines, the getty).
func (v *VM) SerialLog() string {
	if b, err := os.ReadFile(v.serial); err == nil {
		return string(b)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.serialFinal
}

// SerialPath is the file receiving the serial console.
func (v *VM) SerialPath() string { return v.serial }

// QEMUOutput is what QEMU itself printed (warnings, errors).
func (v *VM) QEMUOutput() string { return v.stderr.String() }

// Stop shuts the guest down: it closes the SSH client, sends an ACPI power
// button press over QMP (system_powerdown; systemd-logind turns it into a
// clean poweroff) and waits up to Options.StopTimeout for QEMU to exit, then
// kills it. It returns an error only when it had to kill QEMU.
func (v *VM) Stop() error {
	v.mu.Lock()
	if v.client != nil {
		v.client.Close()
		v.client = nil
	}
	v.mu.Unlock()
	select {
	case <-v.done:
		return nil
	default:
	}
	qerr := v.QMP("system_powerdown")
	select {
	case <-v.done:
		return nil
	case <-time.After(v.opts.StopTimeout):
	}
	v.Kill()
	if qerr != nil {
		return fmt.Errorf("vm: killed QEMU: QMP system_powerdown failed: %v", qerr)
	}
	return fmt.Errorf("vm: killed QEMU: the guest did not power off within %s of system_powerdown", v.opts.StopTimeout)
}

// Kill ends QEMU at once and waits for it.
func (v *VM) Kill() {
	if v.cmd.Process != nil {
		v.cmd.Process.Kill()
	}
	<-v.done
}

// WaitExit waits until QEMU exits (the guest powered off, or Stop/Kill) or
// ctx is done. It returns QEMU's exit error (nil after a clean power-off).
func (v *VM) WaitExit(ctx context.Context) error {
	select {
	case <-v.done:
		return v.exitErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Exited reports whether QEMU has exited.
func (v *VM) Exited() bool {
	select {
	case <-v.done:
		return true
	default:
		return false
	}
}

// QMP runs one QMP command without arguments (e.g. "system_powerdown",
// "system_reset", "quit") and returns QEMU's error, if any.
func (v *VM) QMP(command string) error {
	c, err := net.DialTimeout("unix", v.qmpPath, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	dec := json.NewDecoder(c)
	var greeting map[string]json.RawMessage
	if err := dec.Decode(&greeting); err != nil {
		return fmt.Errorf("qmp greeting: %w", err)
	}
	for _, cmd := range []string{"qmp_capabilities", command} {
		if _, err := fmt.Fprintf(c, "{\"execute\":%q}\n", cmd); err != nil {
			return err
		}
		for {
			var resp struct {
				Return json.RawMessage `json:"return"`
				Error  *struct {
					Class string `json:"class"`
					Desc  string `json:"desc"`
				} `json:"error"`
				Event string `json:"event"`
			}
			if err := dec.Decode(&resp); err != nil {
				if cmd == "quit" {
					return nil
				}
				return fmt.Errorf("qmp %s: %w", cmd, err)
			}
			if resp.Event != "" {
				continue
			}
			if resp.Error != nil {
				return fmt.Errorf("qmp %s: %s: %s", cmd, resp.Error.Class, resp.Error.Desc)
			}
			break
		}
	}
	return nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// MustRun runs cmd in the guest (over the session of the last WaitSSH) and
// returns its output without surrounding space; any error fails t.
func (v *VM) MustRun(t testing.TB, cmd string) string {
	t.Helper()
	out, err := v.Run(cmd)
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	return strings.TrimSpace(out)
}
